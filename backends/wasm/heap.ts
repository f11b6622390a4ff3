/**
 * What the toolkit's own wasm kernels need from tfjs's wasm backend: its
 * heap (a `WebAssembly.Memory`) and where each tensor lives in it.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";

/** The parts of tfjs-wasm's `BackendWasm` the kernels use. */
export type WasmBackend = tf.KernelBackend & {
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(x: tf.TensorInfo): Float32Array;
  disposeData(dataId: object): boolean;
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  // The single-threaded build exports its heap; the threaded one imports it.
  wasm: { asm: { memory?: WebAssembly.Memory }; wasmMemory?: WebAssembly.Memory };
};

/** The backend's heap, or null where it is out of reach. */
export function heapOf(backend: WasmBackend): WebAssembly.Memory | null {
  return backend.wasm.asm.memory ?? backend.wasm.wasmMemory ?? null;
}

/** The byte offset of a tensor's data in the heap. */
export function offsetOf(backend: WasmBackend, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}

/**
 * `instantiate(heap)` once per heap (restarting the backend makes a new
 * one), or null where the heap is out of reach.
 */
export function perHeap<T>(
  instantiate: (memory: WebAssembly.Memory) => T,
): (backend: WasmBackend) => T | null {
  const instances = new WeakMap<WebAssembly.Memory, T>();
  return (backend) => {
    const memory = heapOf(backend);
    if (!memory) return null;
    if (!instances.has(memory)) instances.set(memory, instantiate(memory));
    return instances.get(memory)!;
  };
}
