/**
 * AdamW (Loshchilov & Hutter): Adam moments with decoupled weight decay,
 * applied in place to named variables, with its state exposed by name so
 * checkpoints can save and restore it exactly.
 */
import * as tf from "@tensorflow/tfjs";
import { fusedAdamW, fusedAdamWReady } from "../core/adamw_op.ts";

/** Hyper-parameters of one AdamW update. */
export interface AdamWOptions {
  /** Learning rate for this step. */
  lr: number;
  /** First-moment decay. */
  beta1: number;
  /** Second-moment decay. */
  beta2: number;
  /** Decoupled weight decay. */
  weight_decay: number;
  /** Denominator epsilon (default 1e-8). */
  eps?: number;
}

/** Whether a parameter is decayed: matrices yes, gains, biases, no. */
export function isDecayed(name: string, rank: number): boolean {
  return rank >= 2 && !name.startsWith("embed.pos");
}

/** AdamW state: first and second moments per parameter, and the step count. */
export class AdamW {
  /** Updates applied so far (for bias correction). */
  t: number = 0;
  /** First moments, by parameter name. */
  readonly m: Map<string, tf.Variable> = new Map();
  /** Second moments, by parameter name. */
  readonly v: Map<string, tf.Variable> = new Map();

  /** Creates zeroed moments for every variable. */
  constructor(params: Map<string, tf.Variable>) {
    for (const [name, p] of params) {
      this.m.set(name, tf.variable(tf.zerosLike(p), false));
      this.v.set(name, tf.variable(tf.zerosLike(p), false));
    }
  }

  /**
   * Applies one update of `grads` (by name) to `params` in place, each
   * gradient first multiplied by `gradScale` where given (the global norm
   * clip's factor, see {@linkcode gradNormScale}). One fused kernel per
   * parameter where the backend has it (`core/adamw_op.ts`), else tfjs ops;
   * the same numbers (bit for bit on wasm, within float32 rounding on WebGPU).
   */
  apply(
    params: Map<string, tf.Variable>,
    grads: Record<string, tf.Tensor>,
    o: AdamWOptions,
    gradScale?: tf.Scalar,
  ): void {
    this.t += 1;
    const eps = o.eps ?? 1e-8;
    const c1 = 1 - o.beta1 ** this.t, c2 = 1 - o.beta2 ** this.t;
    const fused = fusedAdamWReady();
    tf.tidy(() => {
      const scale = gradScale ?? (fused ? tf.scalar(1) : undefined);
      for (const [name, p] of params) {
        const raw = grads[name];
        if (!raw) continue;
        const m = this.m.get(name)!, v = this.v.get(name)!;
        const decay = isDecayed(name, p.rank) ? 1 - o.lr * o.weight_decay : 1;
        if (fused) {
          const coefficients = { beta1: o.beta1, beta2: o.beta2, lr: o.lr, decay, eps, c1, c2 };
          const [p2, m2, v2] = fusedAdamW(p, raw, m, v, scale!, coefficients);
          m.assign(m2);
          v.assign(v2);
          p.assign(p2);
          continue;
        }
        const g = scale ? tf.mul(raw, scale) : raw;
        m.assign(tf.add(tf.mul(m, o.beta1), tf.mul(g, 1 - o.beta1)));
        v.assign(tf.add(tf.mul(v, o.beta2), tf.mul(tf.square(g), 1 - o.beta2)));
        const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), eps));
        p.assign(tf.sub(tf.mul(p, decay), tf.mul(update, o.lr)));
      }
    });
  }

  /** Releases the moments' memory. */
  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
  }
}

/**
 * The global L2 norm of `grads` and, when `maxNorm > 0`, the factor that
 * brings it down to at most `maxNorm` (`min(1, maxNorm / norm)`), both as
 * tensors (nothing is read back).
 */
export function gradNormScale(
  grads: Record<string, tf.Tensor>,
  maxNorm: number,
): { norm: tf.Scalar; scale?: tf.Scalar } {
  // Stack the squared norms and sum once: tf.addN silently returns 0 for
  // more than 8 inputs on WebGPU (its storage-buffer limit per shader).
  const squares = tf.stack(Object.values(grads).map((g) => tf.sum(tf.square(g))));
  const norm = tf.sqrt(tf.sum(squares)) as tf.Scalar;
  if (maxNorm <= 0) return { norm };
  return { norm, scale: tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6))) as tf.Scalar };
}

/**
 * Scales gradients so their global L2 norm is at most `maxNorm` (0 = no
 * clipping). Returns the new gradients and the norm before clipping. (The
 * training step passes {@linkcode gradNormScale}'s factor to
 * {@linkcode AdamW.apply} instead, which folds it into the update.)
 */
export function clipByGlobalNorm(
  grads: Record<string, tf.Tensor>,
  maxNorm: number,
): { grads: Record<string, tf.Tensor>; norm: tf.Scalar } {
  const { norm, scale } = gradNormScale(grads, maxNorm);
  if (!scale) return { grads, norm };
  const clipped: Record<string, tf.Tensor> = {};
  for (const [name, g] of Object.entries(grads)) clipped[name] = tf.mul(g, scale);
  return { grads: clipped, norm };
}
