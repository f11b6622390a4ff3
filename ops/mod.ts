/**
 * The ops layer: each op the model and the optimiser use, with its
 * reference implementation in tfjs ops, its gradient, and the one place
 * that picks between a backend's kernel and the reference. Backends
 * (`@stars/toolkit/backends`) register kernels into it; the model calls it
 * unconditionally.
 *
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { gelu, geluReference } from "@stars/toolkit/ops";
 * const x = tf.tensor1d([-1, 0, 2]);
 * const gap = tf.max(tf.abs(tf.sub(gelu(x), geluReference(x)))).dataSync()[0];
 * if (gap > 1e-6) throw new Error("the op and its reference agree");
 * ```
 *
 * @module
 */
export {
  declareProductTraits,
  matmul,
  matmulTransposed,
  type ProductTraits,
  productTraits,
  transposeLast,
} from "./matmul.ts";
export {
  fusedGelu,
  fusedGeluReady,
  GELU,
  gelu,
  GELU_GRAD,
  geluReference,
  registerGeluKernels,
} from "./gelu.ts";
export { type KernelImpl, registerOpKernels } from "./kernels.ts";
export {
  fusedLayerNorm,
  fusedLayerNormReady,
  LAYER_NORM,
  LAYER_NORM_GRAD,
  layerNorm,
  layerNormReference,
  registerLayerNormKernels,
} from "./layer_norm.ts";
export {
  ADAMW,
  adamwArrays,
  type AdamWCoefficients,
  adamwReference,
  adamwUpdate,
  fusedAdamW,
  fusedAdamWReady,
  registerAdamWKernel,
} from "./adamw.ts";
export {
  attend,
  ATTENTION,
  ATTENTION_GRAD,
  type AttentionFits,
  attentionJvp,
  attentionPath,
  attentionReference,
  causalMask,
  causalSelfAttention,
  fusedAttentionFits,
  mergeHeads,
  registerAttentionKernels,
  setFusedAttention,
  splitHeads,
} from "./attention.ts";
export {
  DENSE,
  dense,
  DENSE_GRAD,
  denseReference,
  fusedDenseReady,
  registerDenseKernels,
} from "./dense.ts";
export {
  ALL_FINITE,
  nonFiniteFlag,
  nonFiniteFlagReference,
  registerAllFiniteKernel,
} from "./all_finite.ts";
