/**
 * Small tensor helpers the model is built from, chosen for speed and for
 * sound gradients on every backend (docs/design.md, section 2).
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../core/rng.ts";
import { fusedGelu, fusedGeluReady } from "../core/gelu_op.ts";
import { wasmTransposesAreFree } from "../core/wasm_kernels.ts";

/** Swaps the last two axes of a rank-2 or rank-3 tensor. */
export function transposeLast(x: tf.Tensor): tf.Tensor {
  return x.rank === 2 ? tf.transpose(x) : tf.transpose(x, [0, 2, 1]);
}

/** `a^T b` (last two axes), by the flag where that is free, else by an explicit transpose. */
function productAT(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (wasmTransposesAreFree()) return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, true, false);
  return tf.matMul(transposeLast(a) as tf.Tensor3D, b as tf.Tensor3D);
}

/** `a b^T` (last two axes), by the flag where that is free, else by an explicit transpose. */
function productBT(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (a.rank === 3 && wasmTransposesAreFree()) {
    return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, false, true);
  }
  return tf.matMul(a as tf.Tensor3D, transposeLast(b) as tf.Tensor3D);
}

// On wasm, tfjs's own matMul with transpose flags is ~8x slower than an
// explicit transpose, and tfjs's matMul gradient uses the flags; on cpu the
// explicit transpose is slower. So wasm gets this gradient. With the
// toolkit's wasm kernels (core/wasm_kernels.ts), transposed operands cost
// nothing where the SIMD kernels take them (see productAT, productBT).
const explicitTransposeMatMul = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = inputs as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, [sa, sb]: tf.Tensor[]) => [productBT(dy, sb), productAT(sa, dy)],
  };
});

/**
 * Matrix product of two rank-2 (or two batched rank-3) tensors of equal
 * rank, with a gradient that is fast on the active backend.
 */
export function matmul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (tf.getBackend() === "wasm") return explicitTransposeMatMul(a, b);
  return tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
}

/**
 * `a b^T` over the last two axes of two batched rank-3 tensors (attention's
 * scores `q k^T`), without transposing `b` where the backend takes the flag
 * well: WebGPU, cpu, and wasm with the toolkit's kernels.
 */
export function matmulTransposed(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (tf.getBackend() === "wasm" && !wasmTransposesAreFree()) {
    return matmul(a, transposeLast(b));
  }
  return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, false, true);
}

/**
 * `x @ w + b` over the last axis of `x`, for any leading shape.
 */
export function dense(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const lead = x.shape.slice(0, -1) as number[];
  const y = matmul(x.reshape([-1, x.shape[x.rank - 1]]), w);
  const out = b ? tf.add(y, b) : y;
  return out.reshape([...lead, w.shape[1] as number]);
}

/**
 * GELU with the exact erf form: tfjs's second-order gradient is right
 * through erf and wrong through the tanh approximation (docs/design.md, section 2).
 * The fused op where the backend has its kernels (core/gelu_op.ts), tfjs ops
 * elsewhere.
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (fusedGeluReady()) return fusedGelu(x);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/**
 * Inverted dropout with an explicit seed, so runs replay exactly. The mask
 * is drawn by the toolkit's own generator, not by tfjs: seeded `tf.random*`
 * ops are not reproducible on the WebGPU backend.
 */
export function dropout(x: tf.Tensor, rate: number, seed: number): tf.Tensor {
  if (rate <= 0) return x;
  const rng = new Rng(seed);
  const scale = 1 / (1 - rate);
  const mask = new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < rate ? 0 : scale;
  return tf.mul(x, tf.tensor(mask, x.shape));
}

/**
 * Normal samples truncated to two standard deviations, from a seed, drawn
 * by the toolkit's own generator (reproducible on every backend).
 */
export function seededTruncatedNormal(shape: number[], std: number, seed: number): tf.Tensor {
  const rng = new Rng(seed);
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) {
    let z = rng.normal();
    while (Math.abs(z) > 2) z = rng.normal();
    values[i] = z * std;
  }
  return tf.tensor(values, shape);
}
