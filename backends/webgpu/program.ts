/**
 * What the toolkit's WebGPU kernels need from tfjs's WebGPU backend: running
 * a WGSL program of their own (`runWebGPUProgram`), and tensors read with
 * another shape on the same buffer.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { WebGPUProgram } from "@tensorflow/tfjs-backend-webgpu";

/** The parts of tfjs-webgpu's `WebGPUBackend` the kernels use. */
export type WebGPUBackend = tf.KernelBackend & {
  runWebGPUProgram(
    program: WebGPUProgram,
    inputs: tf.TensorInfo[],
    dtype: tf.DataType,
    programUniforms?: { type: string; data: number[] }[],
  ): tf.TensorInfo;
  disposeData(dataId: object): boolean;
};

/** `t` read as `shape` (same size; a shape on the same buffer, as tfjs's Reshape does). */
export function withShape(t: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return { ...t, shape };
}
