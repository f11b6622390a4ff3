/**
 * One AdamW update of one parameter as one tfjs op (`StarsAdamW`): from the
 * parameter, its gradient, the two moments and a gradient scale (the global
 * norm clip's factor, a one-element tensor so it never leaves the device),
 * the op returns the new parameter and moments.
 *
 * Built from tfjs ops the update is about 15 kernels a parameter (and one
 * more for the clip), 330 launches a step for the looped model's 21
 * parameters: on a GPU, a third of the step's dispatches. Kernels:
 * backends/wasm/adamw.ts (one kernel) and backends/webgpu/adamw.ts (three
 * dispatches, one per output); {@linkcode adamwUpdate} runs them where the
 * active backend has them and {@linkcode adamwReference} elsewhere.
 * Optimisers need no gradient, so none is registered.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type KernelImpl, registerOpKernels } from "./kernels.ts";

/** The kernel's name: inputs `param`, `grad`, `moment1`, `moment2`, `gradScale`; outputs the new three. */
export const ADAMW = "StarsAdamW";

/** The update's coefficients for this step (kernel attributes). */
export interface AdamWCoefficients {
  /** First-moment decay. */
  beta1: number;
  /** Second-moment decay. */
  beta2: number;
  /** Learning rate. */
  lr: number;
  /** Factor on the parameter before the step: `1 - lr * weight_decay`, or 1. */
  decay: number;
  /** Denominator epsilon. */
  eps: number;
  /** Bias corrections `1 - beta1^t` and `1 - beta2^t`. */
  c1: number;
  /** See `c1`. */
  c2: number;
}

/**
 * The update on plain arrays, element by element (the wasm kernel; the
 * reference for the others):
 *
 * ```text
 * g  = grad * scale
 * m' = beta1 m + (1 - beta1) g
 * v' = beta2 v + (1 - beta2) g^2
 * p' = decay p - lr (m' / c1) / (sqrt(v' / c2) + eps)
 * ```
 *
 * Each operation is rounded to float32 in the order tfjs ops take them
 * (`train/adamw.ts`'s unfused path), coefficients included, so the result
 * is the same bit for bit and a training run is the same with and without
 * the fused op.
 */
export function adamwArrays(
  [param, grad, moment1, moment2]: ArrayLike<number>[],
  scale: number,
  [newParam, newMoment1, newMoment2]: Float32Array[],
  c: AdamWCoefficients,
): void {
  const f = Math.fround;
  const [, beta1, keep1, beta2, keep2, c1, c2, eps, decay, lr] = adamwFactors(scale, c);
  const scaled = f(scale) !== 1;
  for (let i = 0; i < param.length; i++) {
    const g = scaled ? f(grad[i] * scale) : grad[i];
    const m = f(f(moment1[i] * beta1) + f(g * keep1));
    const v = f(f(moment2[i] * beta2) + f(f(g * g) * keep2));
    newMoment1[i] = m;
    newMoment2[i] = v;
    const update = f(f(m / c1) / f(f(Math.sqrt(f(v / c2))) + eps));
    newParam[i] = f(f(param[i] * decay) - f(update * lr));
  }
}

/**
 * The update's factors as float32, as every kernel takes them: `scale`,
 * `beta1`, `1 - beta1`, `beta2`, `1 - beta2`, `c1`, `c2`, `eps`, `decay`,
 * `lr` (the SIMD kernel's `ADAMW_COEFFICIENTS` order).
 */
export function adamwFactors(scale: number, c: AdamWCoefficients): Float32Array {
  return new Float32Array([
    scale,
    c.beta1,
    1 - c.beta1,
    c.beta2,
    1 - c.beta2,
    c.c1,
    c.c2,
    c.eps,
    c.decay,
    c.lr,
  ]);
}

/** Registers a backend's AdamW kernel (idempotent; optimisers need no gradient). */
export function registerAdamWKernel(backend: string, update: KernelImpl): void {
  registerOpKernels(backend, { [ADAMW]: update });
}

/** Whether the fused update has a kernel on the active backend. */
export function fusedAdamWReady(): boolean {
  return tf.getKernel(ADAMW, tf.getBackend()) !== undefined;
}

/**
 * The new `[param, moment1, moment2]` after one AdamW step, as one kernel
 * (see the module notes); needs {@linkcode fusedAdamWReady}. `gradScale`
 * holds one float32 that multiplies the gradient first.
 */
export function fusedAdamW(
  param: tf.Tensor,
  grad: tf.Tensor,
  moment1: tf.Tensor,
  moment2: tf.Tensor,
  gradScale: tf.Tensor,
  coefficients: AdamWCoefficients,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return tf.engine().runKernel(
    ADAMW,
    { param, grad, moment1, moment2, gradScale } as unknown as tf.NamedTensorMap,
    coefficients as unknown as tf.NamedAttrMap,
  ) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];
}

/** {@linkcode adamwUpdate} from tfjs ops: the reference the kernels are tested against. */
export function adamwReference(
  param: tf.Tensor,
  grad: tf.Tensor,
  moment1: tf.Tensor,
  moment2: tf.Tensor,
  gradScale: tf.Tensor | undefined,
  c: AdamWCoefficients,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const g = gradScale ? tf.mul(grad, gradScale) : grad;
  const m = tf.add(tf.mul(moment1, c.beta1), tf.mul(g, 1 - c.beta1));
  const v = tf.add(tf.mul(moment2, c.beta2), tf.mul(tf.square(g), 1 - c.beta2));
  const update = tf.div(tf.div(m, c.c1), tf.add(tf.sqrt(tf.div(v, c.c2)), c.eps));
  return [tf.sub(tf.mul(param, c.decay), tf.mul(update, c.lr)), m, v];
}

/**
 * The new `[param, moment1, moment2]` after one AdamW step (see
 * {@linkcode adamwArrays} for the formula), `gradScale` (one float32, or
 * none for 1) multiplying the gradient first: one fused kernel where the
 * active backend registered one, {@linkcode adamwReference} elsewhere. The
 * two give the same bits. Call inside `tf.tidy`.
 */
export function adamwUpdate(
  param: tf.Tensor,
  grad: tf.Tensor,
  moment1: tf.Tensor,
  moment2: tf.Tensor,
  gradScale: tf.Tensor | undefined,
  c: AdamWCoefficients,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  if (!fusedAdamWReady()) return adamwReference(param, grad, moment1, moment2, gradScale, c);
  return fusedAdamW(param, grad, moment1, moment2, gradScale ?? tf.scalar(1), c);
}
