/**
 * The WebGPU kernels of the fused LayerNorm (ops/layer_norm.ts), as tfjs
 * WebGPU programs (WGSL) run by the backend's `runWebGPUProgram`:
 *
 * - forward: one workgroup per row computes the row's mean and variance (two
 *   passes, workgroup reductions) and writes `y`: 1 dispatch instead of ~10;
 * - backward: the same per row for `dx`, and for the gain and bias gradients
 *   the row statistics once, then one workgroup per column summing over
 *   rows: 4 dispatches instead of ~25.
 *
 * Rows are indexed by workgroup (`runWebGPUProgram` folds dispatches past
 * the per-dimension limit into y and z); inputs are read as `[rows, d]`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { WebGPUProgram } from "@tensorflow/tfjs-backend-webgpu";
import { type WebGPUBackend, withShape } from "./program.ts";
import { registerLayerNormKernels } from "../../ops/layer_norm.ts";

const WORKGROUP = 64;

/** WGSL shared by the programs: the row (or column) of this workgroup, and a workgroup sum. */
const WORKGROUP_HELPERS = `
  var<workgroup> partial : array<f32, ${WORKGROUP}>;
  fn workgroupRow() -> i32 {
    return i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y +
      workgroupId.y * numWorkgroups.x + workgroupId.x);
  }
  // Sum of value over the workgroup; every invocation gets it.
  fn rowSum(value : f32) -> f32 {
    let tid = i32(localId.x);
    partial[tid] = value;
    workgroupBarrier();
    for (var size = ${WORKGROUP / 2}; size > 0; size = size >> 1) {
      if (tid < size) {
        partial[tid] = partial[tid] + partial[tid + size];
      }
      workgroupBarrier();
    }
    let total = partial[0];
    workgroupBarrier();
    return total;
  }
`;

/** WGSL for the programs that read rows of x: their statistics. */
const ROW_STATS = `
  // Mean and 1 / sqrt(var + eps) of row r of x ([rows, d]), two passes.
  fn rowStats(r : i32, d : i32, eps : f32) -> vec2<f32> {
    let tid = i32(localId.x);
    var s = 0.0;
    for (var c = tid; c < d; c = c + ${WORKGROUP}) {
      s = s + getX(r, c);
    }
    let mean = rowSum(s) / f32(d);
    var q = 0.0;
    for (var c = tid; c < d; c = c + ${WORKGROUP}) {
      let t = getX(r, c) - mean;
      q = q + t * t;
    }
    return vec2<f32>(mean, inverseSqrt(rowSum(q) / f32(d) + eps));
  }
`;

/** A program with one workgroup per row of a `[rows, d]` output or input. */
function rowProgram(
  key: string,
  variableNames: string[],
  outputShape: number[],
  rows: number,
  body: string,
): WebGPUProgram {
  return {
    variableNames,
    outputShape,
    shaderKey: key,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [rows, 1, 1],
    workgroupSize: [WORKGROUP, 1, 1],
    getUserCode: () => `${WORKGROUP_HELPERS}${ROW_STATS}\n fn main(index : i32) {\n${body}\n}`,
  };
}

/** Keeps row r in range where the dispatch was folded past `rows` (no early return: barriers). */
const ROW = `
  let rows = uniforms.xShape[0];
  let d = uniforms.xShape[1];
  let row = workgroupRow();
  let r = min(row, rows - 1);
  let tid = i32(localId.x);`;

function forwardProgram(rows: number, d: number, eps: number): WebGPUProgram {
  return rowProgram(
    `stars_layer_norm_${eps}`,
    ["x", "gain", "bias"],
    [rows, d],
    rows,
    `
    ${ROW}
    let stats = rowStats(r, d, ${eps});
    if (row < rows) {
      for (var c = tid; c < d; c = c + ${WORKGROUP}) {
        setOutputAtCoords(r, c, (getX(r, c) - stats.x) * stats.y * getGain(c) + getBias(c));
      }
    }`,
  );
}

function statsProgram(rows: number, eps: number): WebGPUProgram {
  return rowProgram(
    `stars_layer_norm_stats_${eps}`,
    ["x"],
    [rows, 2],
    rows,
    `
    ${ROW}
    let stats = rowStats(r, d, ${eps});
    if (row < rows && tid == 0) {
      setOutputAtCoords(r, 0, stats.x);
      setOutputAtCoords(r, 1, stats.y);
    }`,
  );
}

function inputGradProgram(rows: number, d: number, eps: number): WebGPUProgram {
  return rowProgram(
    `stars_layer_norm_dx_${eps}`,
    ["x", "dy", "gain"],
    [rows, d],
    rows,
    `
    ${ROW}
    let stats = rowStats(r, d, ${eps});
    var m1 = 0.0;
    var m2 = 0.0;
    for (var c = tid; c < d; c = c + ${WORKGROUP}) {
      let g = getDy(r, c) * getGain(c);
      m1 = m1 + g;
      m2 = m2 + g * (getX(r, c) - stats.x) * stats.y;
    }
    let mean1 = rowSum(m1) / f32(d);
    let mean2 = rowSum(m2) / f32(d);
    if (row < rows) {
      for (var c = tid; c < d; c = c + ${WORKGROUP}) {
        let xhat = (getX(r, c) - stats.x) * stats.y;
        setOutputAtCoords(r, c, stats.y * (getDy(r, c) * getGain(c) - mean1 - xhat * mean2));
      }
    }`,
  );
}

/**
 * `sum over rows of dy * xhat` (withXhat) or of `dy`: one workgroup per
 * column, its threads striding over rows, then a workgroup sum. (A program
 * must use every input it binds: WebGPU's automatic layout drops unused
 * bindings, and the dispatch then fails validation.)
 */
function columnSumProgram(d: number, withXhat: boolean): WebGPUProgram {
  const term = withXhat
    ? "getDy(r, c) * (getX(r, c) - getStats(r, 0)) * getStats(r, 1)"
    : "getDy(r, c)";
  return {
    variableNames: withXhat ? ["dy", "x", "stats"] : ["dy"],
    outputShape: [d],
    shaderKey: `stars_layer_norm_columns_${withXhat}`,
    dispatchLayout: { x: [0] },
    dispatch: [d, 1, 1],
    workgroupSize: [WORKGROUP, 1, 1],
    getUserCode: () =>
      `${WORKGROUP_HELPERS}
      fn main(index : i32) {
        let d = uniforms.dyShape[1];
        let column = workgroupRow();
        let c = min(column, d - 1);
        var s = 0.0;
        for (var r = i32(localId.x); r < uniforms.dyShape[0]; r = r + ${WORKGROUP}) {
          s = s + ${term};
        }
        let total = rowSum(s);
        if (column < d && localId.x == 0u) {
          setOutputAtIndex(c, total);
        }
      }`,
  };
}

type Args = Parameters<tf.KernelFunc>[0];

/** `tensors` read as `[rows, d]`. */
function asRows(tensors: tf.TensorInfo[]) {
  const d = tensors[0].shape[tensors[0].shape.length - 1];
  const rows = tf.util.sizeFromShape(tensors[0].shape) / d;
  return { rows, d, views: tensors.map((t) => withShape(t, [rows, d])) };
}

function forwardKernel({ inputs, backend, attrs }: Args): tf.TensorInfo {
  const { x, gain, bias } = inputs as Record<string, tf.TensorInfo>;
  const { eps } = attrs as unknown as { eps: number };
  const gpu = backend as WebGPUBackend;
  const { rows, d, views } = asRows([x]);
  const y = gpu.runWebGPUProgram(forwardProgram(rows, d, eps), [views[0], gain, bias], "float32");
  return withShape(y, x.shape);
}

function backwardKernel({ inputs, backend, attrs }: Args): tf.TensorInfo[] {
  const { dy, x, gain } = inputs as Record<string, tf.TensorInfo>;
  const { eps } = attrs as unknown as { eps: number };
  const gpu = backend as WebGPUBackend;
  const { rows, d, views } = asRows([x, dy]);
  const [x2, dy2] = views;
  const dx = gpu.runWebGPUProgram(inputGradProgram(rows, d, eps), [x2, dy2, gain], "float32");
  const stats = gpu.runWebGPUProgram(statsProgram(rows, eps), [x2], "float32");
  const dgain = gpu.runWebGPUProgram(columnSumProgram(d, true), [dy2, x2, stats], "float32");
  const dbias = gpu.runWebGPUProgram(columnSumProgram(d, false), [dy2], "float32");
  gpu.disposeData(stats.dataId);
  return [withShape(dx, x.shape), dgain, dbias];
}

/**
 * Registers the fused LayerNorm's WebGPU kernels and the op's gradients
 * (idempotent). `useBackend("webgpu")` calls it.
 */
export function registerWebgpuLayerNorm(): void {
  registerLayerNormKernels("webgpu", { forward: forwardKernel, backward: backwardKernel });
}
