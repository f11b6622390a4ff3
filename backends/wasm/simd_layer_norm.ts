/**
 * WebAssembly SIMD LayerNorm over rows of `d` float32 values (`d` a multiple
 * of 4) at byte offsets of a wasm memory, assembled by `asm.ts`:
 *
 * - `forward(x, gain, bias, y, rows, d, epsBits)`:
 *   `y = (x - mean) * rstd * gain + bias`, `rstd = 1 / sqrt(var + eps)`.
 * - `forwardStats(x, gain, bias, y, stats, rows, d, epsBits)`: also writes
 *   each row's `mean` and `rstd` to `stats` (`[rows, 2]`).
 * - `backward(dy, x, gain, dx, dgain, dbias, rows, d, epsBits)`:
 *   `dx = rstd (g - mean(g) - xhat mean(g xhat))` with `g = dy gain`, and
 *   `dgain = sum(dy xhat)`, `dbias = sum(dy)` over rows.
 * - `backwardStats(dy, x, gain, stats, dx, dgain, dbias, rows, d)`: the
 *   same, reading the rows' statistics from `forwardStats` instead of
 *   recomputing them (the same floats, so the same results).
 *
 * Means and variances take two passes (no `E[x^2] - mean^2` cancellation), in
 * four float32 lanes. `epsBits` is `eps` as float32 bits (the functions take
 * i32 arguments only).
 *
 * @module
 */
import {
  add,
  type Code,
  defineKernel,
  expr,
  f32Load,
  f32Store,
  forLoop,
  type FunctionBuilder,
  get,
  i32,
  instantiate,
  type KernelExports,
  type KernelFunction,
  kernelModule,
  laneSum,
  type Local,
  mul,
  OP,
  set,
  splat,
  type V128,
  v128Load,
  v128Store,
  v128Zero,
  vAdd,
  vMul,
  vSub,
} from "./asm.ts";

/** Locals and code shared by both kernels: row statistics of `x`. */
class RowStats {
  readonly mean: Local<"f32">;
  readonly rstd: Local<"f32">;
  readonly meanV: Local<"v128">;
  readonly rstdV: Local<"v128">;
  readonly acc: Local<"v128">;
  readonly t: Local<"v128">;
  readonly i: Local<"i32">;
  readonly width: Local<"i32">;
  readonly count: Local<"f32">;
  readonly eps: Local<"f32">;

  constructor(f: FunctionBuilder) {
    [this.mean, this.rstd, this.count, this.eps] = f.locals("f32", 4);
    [this.meanV, this.rstdV, this.acc, this.t] = f.locals("v128", 4);
    [this.i, this.width] = f.locals("i32", 2);
  }

  /** Sets `width = 4 d` (bytes per row), `count = d` and `eps` from its bits. */
  setup(d: Local<"i32">, epsBits: Local<"i32">): Code {
    return [
      ...mul(get(d), i32(4)),
      ...set(this.width),
      ...get(d),
      OP.f32ConvertI32U,
      ...set(this.count),
      ...get(epsBits),
      OP.f32ReinterpretI32,
      ...set(this.eps),
    ];
  }

  /** `for (i = 0; i < width; i += 16) body` over one row's bytes. */
  overRow(body: Code): Code {
    return forLoop(this.i, this.width, body, 16);
  }

  /** Mean and rstd of the row at byte offset local `row`, also splatted to meanV, rstdV. */
  of(row: Local<"i32">): Code {
    const x = v128Load(add(get(row), get(this.i)));
    const centred = [...vSub(x, get(this.meanV)), ...set(this.t)];
    return [
      ...v128Zero,
      ...set(this.acc),
      ...this.overRow([...vAdd(get(this.acc), x), ...set(this.acc)]),
      ...laneSum(this.acc),
      ...get(this.count),
      OP.f32Div,
      ...set(this.mean),
      ...splat(get(this.mean)),
      ...set(this.meanV),
      ...v128Zero,
      ...set(this.acc),
      ...this.overRow([
        ...centred,
        ...vAdd(get(this.acc), vMul(get(this.t), get(this.t))),
        ...set(this.acc),
      ]),
      // rstd = 1 / sqrt(sum / d + eps)
      OP.f32Const,
      0,
      0,
      0x80,
      0x3f, // 1.0
      ...laneSum(this.acc),
      ...get(this.count),
      OP.f32Div,
      ...get(this.eps),
      OP.f32Add,
      OP.f32Sqrt,
      OP.f32Div,
      ...set(this.rstd),
      ...splat(get(this.rstd)),
      ...set(this.rstdV),
    ];
  }

  /** Writes mean and rstd (set by {@linkcode of}) to the 8 bytes at local `at`. */
  store(at: Local<"i32">): Code {
    return [
      ...f32Store(get(at), get(this.mean)),
      ...f32Store(add(get(at), i32(4)), get(this.rstd)),
    ];
  }

  /** Reads mean and rstd from the 8 bytes at local `at` (as {@linkcode store} wrote them). */
  load(at: Local<"i32">): Code {
    return [
      ...f32Load(get(at)),
      ...set(this.mean),
      ...splat(get(this.mean)),
      ...set(this.meanV),
      ...f32Load(add(get(at), i32(4))),
      ...set(this.rstd),
      ...splat(get(this.rstd)),
      ...set(this.rstdV),
    ];
  }

  /** `(x[row + i] - mean) * rstd`, four lanes. */
  xhat(row: Local<"i32">): V128 {
    return vMul(vSub(v128Load(add(get(row), get(this.i))), get(this.meanV)), get(this.rstdV));
  }
}

/** The kernels' signatures (byte offsets and sizes, each an i32): the one declaration of each. */
export const SIMD_LAYER_NORM_SIGNATURES = {
  /** `y = (x - mean) * rstd * gain + bias` over `rows` rows of `d` (`d % 4 == 0`). */
  forward: ["x", "gain", "bias", "y", "rows", "d", "epsBits"],
  /** The forward pass, also writing each row's mean and rstd to `stats` (`[rows, 2]`). */
  forwardStats: ["x", "gain", "bias", "y", "stats", "rows", "d", "epsBits"],
  /** `dx`, and `dgain`, `dbias` summed over rows (see the module notes). */
  backward: ["dy", "x", "gain", "dx", "dgain", "dbias", "rows", "d", "epsBits"],
  /** `backward` with the rows' statistics read from `stats` (as `forwardStats` wrote them). */
  backwardStats: ["dy", "x", "gain", "stats", "dx", "dgain", "dbias", "rows", "d"],
} as const;

// One row of the forward pass: statistics, then the normalised, scaled row.
function forwardRows(
  f: FunctionBuilder,
  p: Record<"x" | "gain" | "bias" | "y" | "rows" | "d" | "epsBits", Local<"i32">>,
  stats?: Local<"i32">,
): Code {
  const [r, xRow, yRow, at8] = f.locals("i32", 4);
  const s = new RowStats(f);
  const at = (base: Local<"i32">) => add(get(base), get(s.i));
  const write = v128Store(
    at(yRow),
    vAdd(vMul(s.xhat(xRow), v128Load(at(p.gain))), v128Load(at(p.bias))),
  );
  const keep = stats ? [...add(get(stats), mul(get(r), i32(8))), ...set(at8), ...s.store(at8)] : [];
  const row = [
    ...add(get(p.x), mul(get(r), get(s.width))),
    ...set(xRow),
    ...add(get(p.y), mul(get(r), get(s.width))),
    ...set(yRow),
    ...s.of(xRow),
    ...keep,
    ...s.overRow(write),
  ];
  return [...s.setup(p.d, p.epsBits), ...forLoop(r, p.rows, row)];
}

function forwardKernel(): KernelFunction {
  return defineKernel("forward", SIMD_LAYER_NORM_SIGNATURES.forward, (f, p) => forwardRows(f, p));
}

function forwardStatsKernel(): KernelFunction {
  return defineKernel(
    "forwardStats",
    SIMD_LAYER_NORM_SIGNATURES.forwardStats,
    (f, p) => forwardRows(f, p, p.stats),
  );
}

// The backward pass: each row's statistics (recomputed, or read from
// `stats`), its sums, then dx; dgain and dbias summed over rows.
function backwardRows(
  f: FunctionBuilder,
  p: Record<"dy" | "x" | "gain" | "dx" | "dgain" | "dbias" | "rows" | "d", Local<"i32">>,
  source: { epsBits: Local<"i32"> } | { stats: Local<"i32"> },
): Code {
  const { dy, x, gain, dx, dgain, dbias, rows, d } = p;
  const [r, xRow, dyRow, dxRow, at8] = f.locals("i32", 5);
  const [m1, m2, xh, g, dyv] = f.locals("v128", 5);
  const s = new RowStats(f);
  const at = (base: Local<"i32">) => add(get(base), get(s.i));
  const mean = (acc: Local<"v128">) => expr<"f32">([...laneSum(acc), ...get(s.count), OP.f32Div]);
  const sums = s.overRow([
    ...s.xhat(xRow),
    ...set(xh),
    ...v128Load(at(dyRow)),
    ...set(dyv),
    ...vMul(get(dyv), v128Load(at(gain))),
    ...set(g),
    ...vAdd(get(m1), get(g)),
    ...set(m1),
    ...vAdd(get(m2), vMul(get(g), get(xh))),
    ...set(m2),
    ...v128Store(at(dgain), vAdd(v128Load(at(dgain)), vMul(get(dyv), get(xh)))),
    ...v128Store(at(dbias), vAdd(v128Load(at(dbias)), get(dyv))),
  ]);
  const write = s.overRow(v128Store(
    at(dxRow),
    vMul(
      get(s.rstdV),
      vSub(
        vSub(vMul(v128Load(at(dyRow)), v128Load(at(gain))), get(m1)),
        vMul(s.xhat(xRow), get(m2)),
      ),
    ),
  ));
  const statistics = "stats" in source
    ? [...add(get(source.stats), mul(get(r), i32(8))), ...set(at8), ...s.load(at8)]
    : s.of(xRow);
  const row = [
    ...add(get(x), mul(get(r), get(s.width))),
    ...set(xRow),
    ...add(get(dy), mul(get(r), get(s.width))),
    ...set(dyRow),
    ...add(get(dx), mul(get(r), get(s.width))),
    ...set(dxRow),
    ...statistics,
    ...v128Zero,
    ...set(m1),
    ...v128Zero,
    ...set(m2),
    ...sums,
    ...splat(mean(m1)),
    ...set(m1),
    ...splat(mean(m2)),
    ...set(m2),
    ...write,
  ];
  const zero = s.overRow([
    ...v128Store(at(dgain), v128Zero),
    ...v128Store(at(dbias), v128Zero),
  ]);
  // setup reads eps only for recomputed statistics; read from stats, it is unused.
  const epsBits = "epsBits" in source ? source.epsBits : d;
  return [...s.setup(d, epsBits), ...zero, ...forLoop(r, rows, row)];
}

function backwardKernel(): KernelFunction {
  return defineKernel(
    "backward",
    SIMD_LAYER_NORM_SIGNATURES.backward,
    (f, p) => backwardRows(f, p, { epsBits: p.epsBits }),
  );
}

function backwardStatsKernel(): KernelFunction {
  return defineKernel(
    "backwardStats",
    SIMD_LAYER_NORM_SIGNATURES.backwardStats,
    (f, p) => backwardRows(f, p, { stats: p.stats }),
  );
}

/** The module's bytes; `shared` must match the memory it will import. */
export function simdLayerNormModule(shared: boolean): Uint8Array<ArrayBuffer> {
  return kernelModule(
    [forwardKernel(), forwardStatsKernel(), backwardKernel(), backwardStatsKernel()],
    shared,
  );
}

/** The kernels of one instance, over the memory it was made with (byte offsets). */
export type SimdLayerNorm = KernelExports<typeof SIMD_LAYER_NORM_SIGNATURES>;

/** `eps` as the bits of a float32, the kernels' `epsBits`. */
export function float32Bits(eps: number): number {
  return new Int32Array(new Float32Array([eps]).buffer)[0];
}

/**
 * Instantiates the kernels over `memory`.
 *
 * @example
 * ```ts
 * import { assertAlmostEquals } from "@std/assert";
 * import { float32Bits, simdLayerNorm } from "./simd_layer_norm.ts";
 * const memory = new WebAssembly.Memory({ initial: 1 });
 * const heap = new Float32Array(memory.buffer);
 * heap.set([1, 2, 3, 4], 0); // x: one row at byte 0
 * heap.set([1, 1, 1, 1], 4); // gain at byte 16
 * heap.set([0, 0, 0, 0], 8); // bias at byte 32
 * simdLayerNorm(memory).forward(0, 16, 32, 48, 1, 4, float32Bits(1e-5));
 * const expected = [-1.342, -0.447, 0.447, 1.342];
 * heap.slice(12, 16).forEach((y, i) => assertAlmostEquals(y, expected[i], 1e-3));
 * ```
 */
export function simdLayerNorm(memory: WebAssembly.Memory): SimdLayerNorm {
  return instantiate<SimdLayerNorm>(
    memory,
    (shared) => new WebAssembly.Module(simdLayerNormModule(shared)),
  );
}
