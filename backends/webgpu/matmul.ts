/**
 * A tiled WebGPU matrix product for large float32 products (the paper's
 * configuration multiplies `[8192, 512]` by `[512, 1536]` and the like):
 * `C[g] = op(A[g]) op(B[g])`, each operand plain or transposed, as one WGSL
 * program run by tfjs-webgpu's `runWebGPUProgram`.
 *
 * tfjs-webgpu's own product (`MatMulPackedProgram`) gives each workgroup of
 * 64 invocations a 32 x 32 output tile, 4 x 4 outputs each, and reads a
 * transposed `B` (the input gradient `dy w^T`) element by element. Here a
 * workgroup of 256 invocations computes a 128 x 128 tile (or 64 x 64 where
 * that leaves too few workgroups), 8 x 8 (or 4 x 4) outputs each: per step
 * over `k`, an invocation reads 16 values from workgroup memory for 64
 * multiply-adds instead of 8 for 16. Tiles of `A` and `B` are staged in
 * workgroup memory `[k][m]` and `[k][n]` whichever way the operands are
 * stored, so a transposed operand costs only its load pattern. Invocation
 * `(x, y)` owns rows `y + 16 i` and columns `x + 16 j` of the tile: reads of
 * workgroup memory and writes of the output are contiguous across a row of
 * invocations.
 *
 * Products too small to fill a GPU (attention's `[B H, 16, 16]` and the
 * like), with broadcast batches or other dtypes stay on tfjs's kernel.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { WebGPUProgram } from "@tensorflow/tfjs-backend-webgpu";
import { type WebGPUBackend, withShape } from "./program.ts";
import { InputError } from "../../utils/errors.ts";

/** Invocations per side of a workgroup (16 x 16 = 256). */
const SIDE = 16;
/** Depth of a `k` step staged in workgroup memory. */
const DEPTH = 8;

/** A product's layout: outputs per invocation per side, and which operands are transposed. */
export interface TiledLayout {
  /** Outputs per invocation along each side: 8 (128 x 128 tiles) or 4 (64 x 64). */
  perSide: 4 | 8;
  /** `A` is stored `[k, m]`. */
  transposeA: boolean;
  /** `B` is stored `[n, k]`. */
  transposeB: boolean;
}

/** The WGSL of a tiled product (see the module notes), fully unrolled over the tile. */
export function tiledMatMulSource({ perSide, transposeA, transposeB }: TiledLayout): string {
  const tile = SIDE * perSide, threads = SIDE * SIDE, loads = (tile * DEPTH) / threads;
  const range = Array.from({ length: perSide }, (_, i) => i);
  // Element e of the staged tile: its (row or column, k) within the tile.
  // The contiguous axis of the stored operand varies fastest across invocations.
  const stage = (name: "A" | "B", kMajor: boolean, outer: string, bound: string) => `
    for (var l = 0; l < ${loads}; l = l + 1) {
      let e = tid + l * ${threads};
      ${
    kMajor
      ? `let o = e % ${tile}; let kk = e / ${tile};`
      : `let o = e / ${DEPTH}; let kk = e % ${DEPTH};`
  }
      let go = ${outer} + o;
      let gk = k0 + kk;
      var v = 0.0;
      if (go < ${bound} && gk < K) {
        v = ${name}[${name.toLowerCase()}Base + ${kMajor ? `gk * ${bound} + go` : `go * K + gk`}];
      }
      ${name.toLowerCase()}Tile[kk * ${tile} + o] = v;
    }`;
  const accumulators = range.flatMap((i) => range.map((j) => `var c${i}_${j} = 0.0;`)).join("\n");
  const step = [
    ...range.map((i) => `let a${i} = aTile[kk * ${tile} + ty + ${SIDE * i}];`),
    ...range.map((j) => `let b${j} = bTile[kk * ${tile} + tx + ${SIDE * j}];`),
    ...range.flatMap((i) => range.map((j) => `c${i}_${j} = fma(a${i}, b${j}, c${i}_${j});`)),
  ].join("\n        ");
  const store = range.flatMap((i) =>
    range.map((j) => `
    if (row0 + ty + ${SIDE * i} < M && col0 + tx + ${SIDE * j} < N) {
      result[outBase + (row0 + ty + ${SIDE * i}) * N + col0 + tx + ${SIDE * j}] = c${i}_${j};
    }`)
  ).join("");
  return `
  var<workgroup> aTile : array<f32, ${tile * DEPTH}>;
  var<workgroup> bTile : array<f32, ${tile * DEPTH}>;
  fn main() {
    let M = uniforms.outShape[1];
    let N = uniforms.outShape[2];
    let K = ${transposeA ? "uniforms.aShape[1]" : "uniforms.aShape[2]"};
    let g = i32(workgroupId.z);
    let aBase = g * M * K;
    let bBase = g * K * N;
    let outBase = g * M * N;
    let row0 = i32(workgroupId.y) * ${tile};
    let col0 = i32(workgroupId.x) * ${tile};
    let tx = i32(localId.x);
    let ty = i32(localId.y);
    let tid = ty * ${SIDE} + tx;
    ${accumulators}
    for (var k0 = 0; k0 < K; k0 = k0 + ${DEPTH}) {
      ${stage("A", transposeA, "row0", "M")}
      ${stage("B", !transposeB, "col0", "N")}
      workgroupBarrier();
      for (var kk = 0; kk < ${DEPTH}; kk = kk + 1) {
        ${step}
      }
      workgroupBarrier();
    }
    ${store}
  }`;
}

/** The program for `[batch, m, k] x [batch, k, n]` (before transposes) in `layout`. */
function tiledProgram(batch: number, m: number, n: number, layout: TiledLayout): WebGPUProgram {
  const tile = SIDE * layout.perSide;
  return {
    variableNames: ["A", "B"],
    outputShape: [batch, m, n],
    shaderKey: `stars_matmul_${layout.perSide}_${layout.transposeA}_${layout.transposeB}`,
    dispatchLayout: { x: [2], y: [1], z: [0] },
    dispatch: [Math.ceil(n / tile), Math.ceil(m / tile), batch],
    workgroupSize: [SIDE, SIDE, 1],
    getUserCode: () => tiledMatMulSource(layout),
  };
}

/**
 * Whether the tiled program takes a product of `batch` matrices of `m x n`
 * outputs over `k`, and with which tile: 128 x 128 where that still gives at
 * least 256 workgroups (two per multiprocessor of a large GPU), else 64 x 64
 * where that gives at least 16; null for smaller products (tfjs's kernel)
 * and where the batch would not fit one dispatch.
 */
export function tiledMatMulSize(batch: number, m: number, k: number, n: number): 4 | 8 | null {
  if (m < 64 || n < 64 || k < DEPTH || batch > 65_535) return null;
  const workgroups = (tile: number) => batch * Math.ceil(m / tile) * Math.ceil(n / tile);
  if (workgroups(128) >= 256) return 8;
  return workgroups(64) >= 16 ? 4 : null;
}

/**
 * `op(a) @ op(b)` for float32 `[...batch, m, k] x [...batch, k, n]` (`op`
 * swaps the last two axes where its flag is set) by the tiled program with
 * `perSide` outputs per invocation per side, whatever the size: the kernel
 * below chooses when; tests call it directly on small odd shapes.
 */
export function runTiledMatMul(
  backend: WebGPUBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  perSide: 4 | 8,
): tf.TensorInfo {
  const batchShape = a.shape.slice(0, -2);
  const batch = tf.util.sizeFromShape(batchShape);
  const [a0, a1] = a.shape.slice(-2), [b0, b1] = b.shape.slice(-2);
  const m = transposeA ? a1 : a0, n = transposeB ? b0 : b1;
  const program = tiledProgram(batch, m, n, { perSide, transposeA, transposeB });
  const out = backend.runWebGPUProgram(
    program,
    [withShape(a, [batch, a0, a1]), withShape(b, [batch, b0, b1])],
    "float32",
  );
  return withShape(out, [...batchShape, m, n]);
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** The tiled product for tfjs's `BatchMatMul` arguments, or null where tfjs's kernel should run. */
function tiledBatchMatMul({ inputs, attrs, backend }: KernelArgs): tf.TensorInfo | null {
  const { a, b } = inputs as Record<string, tf.TensorInfo>;
  const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
  const rank = a.shape.length;
  if (rank < 2 || b.shape.length !== rank) return null;
  if (a.dtype !== "float32" || b.dtype !== "float32") return null;
  const batchShape = a.shape.slice(0, -2);
  if (!tf.util.arraysEqual(batchShape, b.shape.slice(0, -2))) return null;
  const [a0, a1] = a.shape.slice(-2), [b0, b1] = b.shape.slice(-2);
  const [m, k] = transposeA ? [a1, a0] : [a0, a1];
  const [k2, n] = transposeB ? [b1, b0] : [b0, b1];
  if (k !== k2) return null; // tfjs's kernel reports the mismatch
  const perSide = tiledMatMulSize(tf.util.sizeFromShape(batchShape), m, k, n);
  if (!perSide) return null;
  return runTiledMatMul(backend as WebGPUBackend, a, b, transposeA, transposeB, perSide);
}

/**
 * Environment variable choosing WebGPU's large matrix products: `tfjs`
 * (default: tfjs-webgpu's own kernel) or `toolkit` (the tiled program).
 * The default stays tfjs's until the tiled program is timed on a real GPU
 * (`bench/webgpu_matmul.ts`); both are tested on llvmpipe.
 */
export const WEBGPU_MATMUL_ENV = "STARS_WEBGPU_MATMUL";

/** The product `STARS_WEBGPU_MATMUL` asks for; anything but `tfjs` or `toolkit` throws. */
export function webgpuMatMulFromEnv(): "tfjs" | "toolkit" {
  let text: string | undefined;
  try {
    text = Deno.env.get(WEBGPU_MATMUL_ENV);
  } catch {
    return "tfjs";
  }
  if (text === undefined || text === "" || text === "tfjs") return "tfjs";
  if (text === "toolkit") return "toolkit";
  throw new InputError(
    `${WEBGPU_MATMUL_ENV} must be "tfjs" or "toolkit", got "${text}"`,
  );
}

let installed = false;

/**
 * Routes large float32 `BatchMatMul`s on the WebGPU backend to the tiled
 * program; everything else still runs on tfjs's kernel. Idempotent;
 * `useBackend("webgpu")` calls it when `STARS_WEBGPU_MATMUL=toolkit`.
 */
export function registerWebgpuMatMul(): void {
  if (installed) return;
  const original = tf.getKernel("BatchMatMul", "webgpu");
  if (!original) throw new Error('webgpu matmul: tfjs has no webgpu kernel "BatchMatMul"');
  tf.unregisterKernel("BatchMatMul", "webgpu");
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => tiledBatchMatMul(args) ?? original.kernelFunc(args),
  });
  installed = true;
}
