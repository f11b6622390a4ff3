/**
 * Matrix products, the op the model spends most of its time in: `a b`,
 * `a b^T` and the transposes their gradients need. Which form runs is
 * decided here, once, from the traits a backend declares
 * ({@linkcode declareProductTraits}); the kernels themselves are the
 * backends' `BatchMatMul` (backends/wasm/matmul.ts, backends/webgpu/matmul.ts).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** How a backend's `BatchMatMul` treats transpose flags. */
export interface ProductTraits {
  /**
   * tfjs's own gradient of `matMul` (transpose flags) is slow here, so the
   * products' gradient is written with {@linkcode transposeLast} or free flags
   * instead (on tfjs's wasm kernel, flags cost ~8x an explicit transpose).
   */
  readonly ownGradient: boolean;
  /**
   * Transposed operands cost nothing: `transposeA` in every product,
   * `transposeB` in batched ones (the toolkit's wasm kernels).
   */
  readonly freeTransposes: boolean;
  /**
   * `transposeB` costs nothing in single products too (a native BLAS takes
   * either flag); read at every product, so a backend may answer with a
   * getter that follows its current product path.
   */
  readonly freeTransposeB?: boolean;
}

const PLAIN: ProductTraits = { ownGradient: false, freeTransposes: false };
const TRAITS = new Map<string, ProductTraits>([
  ["wasm", { ownGradient: true, freeTransposes: false }],
]);

/** Declares how `backend`'s product kernel takes transposes (backends call this when they register kernels). */
export function declareProductTraits(backend: string, traits: ProductTraits): void {
  TRAITS.set(backend, traits);
}

/** The active backend's {@linkcode ProductTraits}. */
export function productTraits(): ProductTraits {
  return TRAITS.get(tf.getBackend()) ?? PLAIN;
}

/** Swaps the last two axes of a rank-2 or rank-3 tensor. */
export function transposeLast(x: tf.Tensor): tf.Tensor {
  return x.rank === 2 ? tf.transpose(x) : tf.transpose(x, [0, 2, 1]);
}

/** `a^T b` (last two axes), by the flag where that is free, else by an explicit transpose. */
function productAT(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (productTraits().freeTransposes) {
    return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, true, false);
  }
  return tf.matMul(transposeLast(a) as tf.Tensor3D, b as tf.Tensor3D);
}

/** `a b^T` (last two axes), by the flag where that is free, else by an explicit transpose. */
function productBT(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const traits = productTraits();
  if (traits.freeTransposeB || (a.rank === 3 && traits.freeTransposes)) {
    return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, false, true);
  }
  return tf.matMul(a as tf.Tensor3D, transposeLast(b) as tf.Tensor3D);
}

// `a b` with its gradient written as productBT and productAT.
const productWithOwnGradient = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
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
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { matmul } from "@stars/toolkit/ops";
 * const y = matmul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
 * if (y.dataSync()[0] !== 11) throw new Error("1*3 + 2*4 is 11");
 * ```
 */
export function matmul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (productTraits().ownGradient) return productWithOwnGradient(a, b);
  return tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
}

/**
 * `a b^T` over the last two axes of two batched rank-3 tensors (attention's
 * scores `q k^T`), without transposing `b` where the backend takes the flag
 * well: WebGPU, cpu, and wasm with the toolkit's kernels.
 */
export function matmulTransposed(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const traits = productTraits();
  if (traits.ownGradient && !traits.freeTransposes) return matmul(a, transposeLast(b));
  return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, false, true);
}
