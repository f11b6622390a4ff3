/**
 * The looped decoder's parts: its config, parameters and their shapes,
 * norms and placements, the per-loop key/value cache, and memory
 * estimates. The model itself, `LoopedLM`, is also in the main entry.
 *
 * @module
 */
export {
  INIT_STATES,
  type InitState,
  type Injection,
  INJECTIONS,
  MODEL_KEYS,
  type ModelConfig,
  modelConfigProblem,
  NORM_PLACEMENTS,
  NORM_TYPES,
  type NormPlacement,
  type NormType,
  PAPER_MODEL,
} from "./config.ts";
export {
  cacheTensors,
  type DecodeCache,
  emptyCache,
  type ForwardOptions,
  type ForwardResult,
  LoopedLM,
} from "./looped.ts";
export { type KVEntry } from "./layer.ts";
export {
  countParams,
  type Init,
  initParams,
  type Params,
  paramsFromValues,
  paramSpecs,
} from "./params.ts";
export { layerNorm, type NormParams, residual, rmsNorm } from "./norm.ts";
export {
  formatBytes,
  ioFloats,
  layerFloats,
  type MemoryEstimate,
  memoryEstimate,
  memoryLimit,
  type MemoryPart,
  overLimit,
  paramCount,
  WASM_HEAP_BYTES,
} from "./memory.ts";
