/**
 * The WebGPU kernels of the fused GELU (ops/gelu.ts): one element-wise
 * WGSL program each way (1 dispatch instead of 5 forward and ~10 backward),
 * with erf by Abramowitz and Stegun 7.1.26 as in the wasm kernels.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { WebGPUProgram } from "@tensorflow/tfjs-backend-webgpu";
import { type WebGPUBackend, withShape } from "./program.ts";
import { registerGeluKernels } from "../../ops/gelu.ts";
import { ERF_P, erfPolySource } from "../../ops/erf.ts";

const WORKGROUP = 128;

const NORMAL_CDF = `
  fn normalCdf(x : f32) -> f32 {
    let z = abs(x) * ${Math.SQRT1_2};
    let t = 1.0 / (1.0 + ${ERF_P} * z);
    let poly = t * ${erfPolySource("t")};
    let half = 0.5 * poly * exp(-z * z);
    return select(half, 1.0 - half, x >= 0.0);
  }`;

function program(key: string, variableNames: string[], n: number, value: string): WebGPUProgram {
  return {
    variableNames,
    outputShape: [n],
    shaderKey: key,
    dispatchLayout: { x: [0] },
    dispatch: [Math.ceil(n / WORKGROUP), 1, 1],
    workgroupSize: [WORKGROUP, 1, 1],
    size: true,
    getUserCode: () =>
      `${NORMAL_CDF}
      fn main(index : i32) {
        if (index < uniforms.size) {
          let x = getXByOutputIndex(index);
          setOutputAtIndex(index, ${value});
        }
      }`,
  };
}

type Args = Parameters<tf.KernelFunc>[0];

const flat = (t: tf.TensorInfo) => withShape(t, [tf.util.sizeFromShape(t.shape)]);

function forwardKernel({ inputs, backend }: Args): tf.TensorInfo {
  const { x } = inputs as Record<string, tf.TensorInfo>;
  const n = tf.util.sizeFromShape(x.shape);
  const p = program("stars_gelu", ["x"], n, "x * normalCdf(x)");
  const y = (backend as WebGPUBackend).runWebGPUProgram(p, [flat(x)], "float32");
  return withShape(y, x.shape);
}

function backwardKernel({ inputs, backend }: Args): tf.TensorInfo {
  const { dy, x } = inputs as Record<string, tf.TensorInfo>;
  const n = tf.util.sizeFromShape(x.shape);
  const derivative = `normalCdf(x) + x * exp(-0.5 * x * x) * ${1 / Math.sqrt(2 * Math.PI)}`;
  const p = program(
    "stars_gelu_grad",
    ["x", "dy"],
    n,
    `getDyByOutputIndex(index) * (${derivative})`,
  );
  const dx = (backend as WebGPUBackend).runWebGPUProgram(p, [flat(x), flat(dy)], "float32");
  return withShape(dx, x.shape);
}

/**
 * Registers the fused GELU's WebGPU kernels and the op's gradients
 * (idempotent). `useBackend("webgpu")` calls it.
 */
export function registerWebgpuGelu(): void {
  registerGeluKernels("webgpu", { forward: forwardKernel, backward: backwardKernel });
}
