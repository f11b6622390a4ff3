/**
 * AdamW (Loshchilov & Hutter): Adam moments with decoupled weight decay,
 * applied in place to named variables, with its state exposed by name so
 * checkpoints can save and restore it exactly.
 */
import * as tf from "@tensorflow/tfjs";

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

  /** Applies one update of `grads` (by name) to `params` in place. */
  apply(
    params: Map<string, tf.Variable>,
    grads: Record<string, tf.Tensor>,
    o: AdamWOptions,
  ): void {
    this.t += 1;
    const eps = o.eps ?? 1e-8;
    const c1 = 1 - o.beta1 ** this.t, c2 = 1 - o.beta2 ** this.t;
    tf.tidy(() => {
      for (const [name, p] of params) {
        const g = grads[name];
        if (!g) continue;
        const m = this.m.get(name)!, v = this.v.get(name)!;
        m.assign(tf.add(tf.mul(m, o.beta1), tf.mul(g, 1 - o.beta1)));
        v.assign(tf.add(tf.mul(v, o.beta2), tf.mul(tf.square(g), 1 - o.beta2)));
        const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), eps));
        const decay = isDecayed(name, p.rank) ? 1 - o.lr * o.weight_decay : 1;
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
 * Scales gradients so their global L2 norm is at most `maxNorm` (0 = no
 * clipping). Returns the new gradients and the norm before clipping.
 */
export function clipByGlobalNorm(
  grads: Record<string, tf.Tensor>,
  maxNorm: number,
): { grads: Record<string, tf.Tensor>; norm: tf.Scalar } {
  // Stack the squared norms and sum once: tf.addN silently returns 0 for
  // more than 8 inputs on WebGPU (its storage-buffer limit per shader).
  const squares = tf.stack(Object.values(grads).map((g) => tf.sum(tf.square(g))));
  const norm = tf.sqrt(tf.sum(squares)) as tf.Scalar;
  if (maxNorm <= 0) return { grads, norm };
  const scale = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)));
  const clipped: Record<string, tf.Tensor> = {};
  for (const [name, g] of Object.entries(grads)) clipped[name] = tf.mul(g, scale);
  return { grads: clipped, norm };
}
