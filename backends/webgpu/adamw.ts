/**
 * The WebGPU kernel of the fused AdamW update (ops/adamw.ts): three
 * element-wise WGSL programs, one per output (a program writes one tensor),
 * each recomputing the moments it needs from the old ones, so they are
 * independent: 3 dispatches a parameter instead of about 16. The step's
 * coefficients are uniforms, so one compiled pipeline serves every step.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { WebGPUProgram } from "@tensorflow/tfjs-backend-webgpu";
import { type AdamWCoefficients, registerAdamWKernel } from "../../ops/adamw.ts";
import { type WebGPUBackend, withShape } from "./program.ts";

const WORKGROUP = 128;
const COEFFICIENTS = ["beta1", "beta2", "lr", "decay", "eps", "c1", "c2"] as const;

const MOMENT1 = "uniforms.beta1 * moment1[i] + (1.0 - uniforms.beta1) * g";
const MOMENT2 = "uniforms.beta2 * moment2[i] + (1.0 - uniforms.beta2) * g * g";
const PARAM = `uniforms.decay * param[i] - uniforms.lr * ((${MOMENT1}) / uniforms.c1) /
  (sqrt((${MOMENT2}) / uniforms.c2) + uniforms.eps)`;

/** A program writing `value` (of `g`, the scaled gradient, and the inputs named) at each index. */
function program(key: string, variableNames: string[], n: number, value: string): WebGPUProgram {
  return {
    variableNames,
    outputShape: [n],
    shaderKey: `stars_adamw_${key}`,
    dispatchLayout: { x: [0] },
    dispatch: [Math.ceil(n / WORKGROUP), 1, 1],
    workgroupSize: [WORKGROUP, 1, 1],
    size: true,
    uniforms: COEFFICIENTS.map((c) => `${c} : f32,`).join(" "),
    getUserCode: () => `
      fn main(i : i32) {
        if (i < uniforms.size) {
          let g = grad[i] * gradScale[0];
          setOutputAtIndex(i, ${value});
        }
      }`,
  };
}

function adamwKernel({ inputs, attrs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { param, grad, moment1, moment2, gradScale } = inputs as Record<string, tf.TensorInfo>;
  const gpu = backend as WebGPUBackend;
  const n = tf.util.sizeFromShape(param.shape);
  const flat = (t: tf.TensorInfo) => withShape(t, [tf.util.sizeFromShape(t.shape)]);
  const c = attrs as unknown as AdamWCoefficients;
  const uniforms = COEFFICIENTS.map((name) => ({ type: "float32", data: [c[name]] }));
  const run = (key: string, named: Record<string, tf.TensorInfo>, value: string) => {
    const p = program(key, Object.keys(named), n, value);
    const out = gpu.runWebGPUProgram(p, Object.values(named).map(flat), "float32", uniforms);
    return withShape(out, param.shape);
  };
  return [
    run("param", { param, grad, moment1, moment2, gradScale }, PARAM),
    run("moment1", { grad, moment1, gradScale }, MOMENT1),
    run("moment2", { grad, moment2, gradScale }, MOMENT2),
  ];
}

/** Registers the fused AdamW's WebGPU kernel (idempotent). `useBackend("webgpu")` calls it. */
export function registerWebgpuAdamW(): void {
  registerAdamWKernel("webgpu", adamwKernel);
}
