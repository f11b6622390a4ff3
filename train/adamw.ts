/**
 * AdamW (Loshchilov & Hutter): Adam moments with decoupled weight decay,
 * applied in place to named variables, with its state exposed by name so
 * checkpoints can save and restore it exactly.
 */
import * as tf from "@tensorflow/tfjs";
import { adamwUpdate } from "../ops/adamw.ts";
import { nonFiniteFlag } from "../ops/all_finite.ts";

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
  /** Decay `matrices` (default; see {@linkcode isDecayed}) or `all` parameters. */
  decay_scope?: "matrices" | "all";
}

/** Saved AdamW state: the update count and both moments by parameter name. */
export interface AdamWState {
  /** Updates applied. */
  t: number;
  /** First moments. */
  m: ReadonlyMap<string, Float32Array>;
  /** Second moments. */
  v: ReadonlyMap<string, Float32Array>;
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

  /**
   * Creates moments for every variable: zeros, or the values of `state`
   * (a checkpoint's, one array per parameter, in the parameter's shape).
   */
  constructor(params: Map<string, tf.Variable>, state?: AdamWState) {
    // tidy frees the initial tensors; the variables keep their own reference.
    const moment = (p: tf.Variable, values?: Float32Array) =>
      tf.tidy(() => tf.variable(values ? tf.tensor(values, p.shape) : tf.zerosLike(p), false));
    for (const [name, p] of params) {
      this.m.set(name, moment(p, state?.m.get(name)));
      this.v.set(name, moment(p, state?.v.get(name)));
    }
    if (state) this.t = state.t;
  }

  /**
   * Applies one update of `grads` (by name) to `params` in place, each
   * gradient first multiplied by `gradScale` where given (the global norm
   * clip's factor, see {@linkcode gradNormScale}). One fused kernel per
   * parameter where the backend has it (`ops/adamw.ts`), else tfjs ops;
   * the same numbers (bit for bit on wasm, within float32 rounding on WebGPU).
   */
  apply(
    params: Map<string, tf.Variable>,
    grads: Record<string, tf.Tensor>,
    o: AdamWOptions,
    gradScale?: tf.Scalar,
  ): void {
    this.t += 1;
    tf.tidy(() => {
      for (const [, p, m, v, [p2, m2, v2]] of this.updates(params, grads, o, gradScale)) {
        m.assign(m2);
        v.assign(v2);
        p.assign(p2);
      }
    });
  }

  /**
   * As {@linkcode AdamW.apply}, but computes every new value first and keeps
   * them only if all are finite (the same numbers as `apply` when it keeps
   * them). Returns false, with parameters, moments and `t` unchanged, when
   * some value would be non-finite: the weights are never anything but the
   * last finite ones.
   */
  async applyIfFinite(
    params: Map<string, tf.Variable>,
    grads: Record<string, tf.Tensor>,
    o: AdamWOptions,
    gradScale?: tf.Scalar,
  ): Promise<boolean> {
    this.t += 1;
    const { updates, flag } = tf.tidy(() => {
      const updates = this.updates(params, grads, o, gradScale);
      const flag = nonFiniteFlag(updates.flatMap(([, , , , next]) => next));
      return { updates: updates.map(([, p, m, v, next]) => [p, m, v, next] as const), flag };
    });
    const finite = (await flag.data())[0] === 0;
    flag.dispose();
    if (finite) {
      for (const [p, m, v, [p2, m2, v2]] of updates) {
        m.assign(m2);
        v.assign(v2);
        p.assign(p2);
      }
    } else {
      this.t -= 1;
    }
    tf.dispose(updates.flatMap(([, , , next]) => next));
    return finite;
  }

  /**
   * The new (parameter, first moment, second moment) of every parameter
   * that has a gradient, in the parameters' order; call inside tf.tidy.
   */
  private updates(
    params: Map<string, tf.Variable>,
    grads: Record<string, tf.Tensor>,
    o: AdamWOptions,
    gradScale?: tf.Scalar,
  ): [string, tf.Variable, tf.Variable, tf.Variable, tf.Tensor[]][] {
    const eps = o.eps ?? 1e-8;
    const c1 = 1 - o.beta1 ** this.t, c2 = 1 - o.beta2 ** this.t;
    const out: [string, tf.Variable, tf.Variable, tf.Variable, tf.Tensor[]][] = [];
    for (const [name, p] of params) {
      const raw = grads[name];
      if (!raw) continue;
      const m = this.m.get(name)!, v = this.v.get(name)!;
      const decayed = o.decay_scope === "all" || isDecayed(name, p.rank);
      const decay = decayed ? 1 - o.lr * o.weight_decay : 1;
      const coefficients = { beta1: o.beta1, beta2: o.beta2, lr: o.lr, decay, eps, c1, c2 };
      out.push([name, p, m, v, adamwUpdate(p, raw, m, v, gradScale, coefficients)]);
    }
    return out;
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
