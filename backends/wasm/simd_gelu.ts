/**
 * WebAssembly SIMD GELU (exact form, `x Phi(x)`) and its derivative over
 * float32 arrays whose length is a multiple of 4, at byte offsets of a wasm
 * memory, assembled by `asm.ts`:
 *
 * - `forward(x, y, count)`: `y = x Phi(x)`, `Phi(x) = (1 + erf(x / sqrt 2)) / 2`.
 * - `forwardSlope(x, y, slope, count)`: also `slope = Phi(x) + x phi(x)`,
 *   `phi` the standard normal density, the derivative, with the bits
 *   `backward` multiplies by (so a backward pass that reads it, `scale`,
 *   gives what `backward` gives).
 * - `backward(dy, x, dx, count)`: `dx = dy (Phi(x) + x phi(x))`.
 * - `scale(dy, slope, dx, count)`: `dx = dy slope`.
 *
 * `erf` is Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7, the
 * size of float32 rounding near 1): `1 - erf(|z|) = poly(t) exp(-z^2)`,
 * `t = 1 / (1 + 0.3275911 |z|)`, which also gives the lower tail without
 * cancellation. `exp` of a non-positive argument is `2^n p(r)` with
 * `n = round(y / ln 2)`, `r = y - n ln 2` (ln 2 in two parts) and `p` its
 * Taylor polynomial of degree 6 (relative error about 1e-7 for |r| < 0.35).
 *
 * @module
 */
import {
  add,
  below,
  type Code,
  defineKernel,
  type FunctionBuilder,
  get,
  geU,
  type I32,
  i32,
  inc,
  instantiate,
  type KernelExports,
  kernelModule,
  type Local,
  mul,
  set,
  type V128,
  v128Load,
  v128Store,
  vAbs,
  vAdd,
  vConst,
  vDiv,
  vGe,
  vMul,
  vSelect,
  vSub,
  whileLoop,
} from "./asm.ts";
import { ERF_A, ERF_P } from "../../ops/erf.ts";
import { horner, vExp } from "./simd_exp.ts";

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Locals and code shared by the kernels: `Phi(x)` and `exp(-x^2 / 2)` of the lanes at `x`. */
class NormalCdf {
  readonly x: Local<"v128">;
  readonly cdf: Local<"v128">;
  readonly gauss: Local<"v128">;
  readonly #z: Local<"v128">;
  readonly #t: Local<"v128">;
  readonly #n: Local<"v128">;
  readonly #r: Local<"v128">;

  constructor(f: FunctionBuilder) {
    [this.x, this.cdf, this.gauss, this.#z, this.#t, this.#n, this.#r] = f.locals("v128", 7);
  }

  /** `Phi(x) + x phi(x)`, the derivative, once {@linkcode compute} has run. */
  slope(): V128 {
    return vAdd(get(this.cdf), vMul(get(this.x), vMul(get(this.gauss), vConst(INV_SQRT_2PI))));
  }

  /** Sets `cdf = Phi(x)` and `gauss = exp(-x^2 / 2)` from the lanes in local `x`. */
  compute(): Code {
    const [z, t, n, r] = [this.#z, this.#t, this.#n, this.#r];
    return [
      ...vMul(get(this.x), vConst(Math.SQRT1_2)),
      ...set(z),
      ...vDiv(vConst(1), vAdd(vConst(1), vMul(vConst(ERF_P), vAbs(get(z))))),
      ...set(t),
      ...vExp(vSub(vConst(0), vMul(get(z), get(z))), r, n),
      ...set(this.gauss),
      // q = 1 - erf(|z|) = t poly(t) exp(-z^2); Phi = z >= 0 ? 1 - q / 2 : q / 2
      ...vMul(vMul(get(t), horner(t, ERF_A)), vMul(get(this.gauss), vConst(0.5))),
      ...set(t),
      ...vSelect(vGe(get(this.x), vConst(0)), vSub(vConst(1), get(t)), get(t)),
      ...set(this.cdf),
    ];
  }
}

// Blocks of four lanes done side by side per iteration: one block's chain of
// dependent operations (division, polynomials, exponential) is long, so
// independent blocks keep the CPU busy while it waits (each lane's
// arithmetic, and so each result, is unchanged).
const UNROLL = 4;

/** The address `base + i` of the current block. */
type At = (base: Local<"i32">) => I32;

/**
 * `for (i = 0; i < 4 count; i += 16) body`, `UNROLL` blocks an iteration
 * (then one at a time), with `at(base)` the address `base + i` and
 * `offset` the block's byte offset from it; `body` is called once per copy,
 * so each copy declares its own locals.
 */
function overLanes(
  f: FunctionBuilder,
  count: Local<"i32">,
  body: (at: At, offset: number) => Code,
): Code {
  const [i, end] = f.locals("i32", 2);
  const at = (base: Local<"i32">) => add(get(base), get(i));
  const blocks = Array.from({ length: UNROLL }, (_, k) => body(at, 16 * k)).flat();
  return [
    ...mul(get(count), i32(4)),
    ...set(end),
    ...i32(0),
    ...set(i),
    ...whileLoop(geU(get(end), add(get(i), i32(16 * UNROLL))), [
      ...blocks,
      ...inc(i, i32(16 * UNROLL)),
    ]),
    ...whileLoop(below(i, end), [...body(at, 0), ...inc(i, i32(16))]),
  ];
}

/** The kernels' signatures (byte offsets and counts), the one declaration of each. */
export const SIMD_GELU_SIGNATURES = {
  /** `y = x Phi(x)` over `count` floats (`count % 4 == 0`). */
  forward: ["x", "y", "count"],
  /** `y = x Phi(x)` and `slope = Phi(x) + x phi(x)` over `count` floats (`count % 4 == 0`). */
  forwardSlope: ["x", "y", "slope", "count"],
  /** `dx = dy (Phi(x) + x phi(x))` over `count` floats (`count % 4 == 0`). */
  backward: ["dy", "x", "dx", "count"],
  /** `dx = dy slope` over `count` floats (`count % 4 == 0`). */
  scale: ["dy", "slope", "dx", "count"],
} as const;

// Over the lanes of `x`: Phi(x) computed, then `write` stores what the kernel keeps of it.
function overNormalCdf(
  f: FunctionBuilder,
  x: Local<"i32">,
  count: Local<"i32">,
  write: (phi: NormalCdf, at: At, offset: number) => Code,
): Code {
  return overLanes(f, count, (at, offset) => {
    const phi = new NormalCdf(f);
    return [...v128Load(at(x), offset), ...set(phi.x), ...phi.compute(), ...write(phi, at, offset)];
  });
}

const forwardKernel = () =>
  defineKernel(
    "forward",
    SIMD_GELU_SIGNATURES.forward,
    (f, { x, y, count }) =>
      overNormalCdf(f, x, count, (phi, at, offset) =>
        v128Store(at(y), vMul(get(phi.x), get(phi.cdf)), offset)),
  );

const forwardSlopeKernel = () =>
  defineKernel(
    "forwardSlope",
    SIMD_GELU_SIGNATURES.forwardSlope,
    (f, { x, y, slope, count }) =>
      overNormalCdf(f, x, count, (phi, at, offset) => [
        ...v128Store(at(y), vMul(get(phi.x), get(phi.cdf)), offset),
        ...v128Store(at(slope), phi.slope(), offset),
      ]),
  );

const backwardKernel = () =>
  defineKernel(
    "backward",
    SIMD_GELU_SIGNATURES.backward,
    (f, { dy, x, dx, count }) =>
      overNormalCdf(f, x, count, (phi, at, offset) =>
        v128Store(at(dx), vMul(v128Load(at(dy), offset), phi.slope()), offset)),
  );

const scaleKernel = () =>
  defineKernel("scale", SIMD_GELU_SIGNATURES.scale, (f, { dy, slope, dx, count }) => {
    return overLanes(f, count, (at, offset) => [
      ...v128Store(
        at(dx),
        vMul(v128Load(at(dy), offset), v128Load(at(slope), offset)),
        offset,
      ),
    ]);
  });

/** The module's bytes; `shared` must match the memory it will import. */
export function simdGeluModule(shared: boolean): Uint8Array<ArrayBuffer> {
  return kernelModule(
    [forwardKernel(), forwardSlopeKernel(), backwardKernel(), scaleKernel()],
    shared,
  );
}

/** The kernels of one instance, over the memory it was made with (byte offsets). */
export type SimdGelu = KernelExports<typeof SIMD_GELU_SIGNATURES>;

/**
 * Instantiates the kernels over `memory`.
 *
 * @example
 * ```ts
 * import { assertAlmostEquals } from "@std/assert";
 * import { simdGelu } from "./simd_gelu.ts";
 * const memory = new WebAssembly.Memory({ initial: 1 });
 * const heap = new Float32Array(memory.buffer);
 * heap.set([-1, 0, 1, 2], 0);
 * simdGelu(memory).forward(0, 16, 4);
 * const expected = [-0.1587, 0, 0.8413, 1.9545];
 * heap.slice(4, 8).forEach((y, i) => assertAlmostEquals(y, expected[i], 1e-4));
 * ```
 */
export function simdGelu(memory: WebAssembly.Memory): SimdGelu {
  return instantiate<SimdGelu>(memory, (shared) => new WebAssembly.Module(simdGeluModule(shared)));
}
