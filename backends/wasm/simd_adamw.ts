/**
 * WebAssembly SIMD AdamW update (the fused op of ops/adamw.ts) over float32
 * arrays at byte offsets of a wasm memory, assembled by `asm.ts`:
 *
 * - `update(param, grad, m, v, newParam, newM, newV, coefficients, count)`:
 *   for `count` floats (`count % 4 == 0`), with the ten float32
 *   coefficients at `coefficients` in {@linkcode ADAMW_COEFFICIENTS} order.
 *
 * Each lane computes what `adamwArrays` computes, operation by operation in
 * the same order, without fused multiply-adds: wasm's float32 operations
 * are correctly rounded, as is JavaScript's double arithmetic rounded back
 * to float32 for one +, -, x, / or sqrt of float32 operands (double has
 * more than twice float32's precision), so the two agree bit for bit.
 *
 * @module
 */
import {
  add,
  defineKernel,
  forLoop,
  get,
  i32,
  instantiate,
  type KernelExports,
  type KernelFunction,
  kernelModule,
  loadSplat,
  type Local,
  mul,
  set,
  v128Load,
  v128Store,
  vAdd,
  vDiv,
  vMul,
  vSqrt,
  vSub,
} from "./asm.ts";

/** The coefficients' order in memory: `scale` multiplies the gradient first. */
export const ADAMW_COEFFICIENTS = [
  "scale",
  "beta1",
  "keep1",
  "beta2",
  "keep2",
  "c1",
  "c2",
  "eps",
  "decay",
  "lr",
] as const;

/** The kernel's signature (byte offsets and a count, each an i32): its one declaration. */
export const SIMD_ADAMW_SIGNATURES = {
  /** One AdamW update of `count` floats (`count % 4 == 0`); see the module doc. */
  update: [
    "param",
    "grad",
    "moment1",
    "moment2",
    "newParam",
    "newMoment1",
    "newMoment2",
    "coefficients",
    "count",
  ],
} as const;

function updateKernel(): KernelFunction {
  return defineKernel("update", SIMD_ADAMW_SIGNATURES.update, (f, p) => {
    const { param, grad, coefficients, count } = p;
    const [m1, m2, outParam, outM1, outM2] = [
      p.moment1,
      p.moment2,
      p.newParam,
      p.newMoment1,
      p.newMoment2,
    ];
    const c = f.locals("v128", ADAMW_COEFFICIENTS.length);
    const [scale, beta1, keep1, beta2, keep2, c1, c2, eps, decay, lr] = c;
    const [g, m, v] = f.locals("v128", 3);
    const [i, end] = f.locals("i32", 2);
    const at = (base: Local<"i32">) => add(get(base), get(i));
    const code = [
      ...c.flatMap((local, k) => [...loadSplat(get(coefficients), 4 * k), ...set(local)]),
      ...mul(get(count), i32(4)),
      ...set(end),
      ...forLoop(i, end, [
        ...vMul(v128Load(at(grad)), get(scale)),
        ...set(g),
        ...vAdd(vMul(v128Load(at(m1)), get(beta1)), vMul(get(g), get(keep1))),
        ...set(m),
        ...vAdd(vMul(v128Load(at(m2)), get(beta2)), vMul(vMul(get(g), get(g)), get(keep2))),
        ...set(v),
        ...v128Store(at(outM1), get(m)),
        ...v128Store(at(outM2), get(v)),
        ...v128Store(
          at(outParam),
          vSub(
            vMul(v128Load(at(param)), get(decay)),
            vMul(
              vDiv(vDiv(get(m), get(c1)), vAdd(vSqrt(vDiv(get(v), get(c2))), get(eps))),
              get(lr),
            ),
          ),
        ),
      ], 16),
    ];
    return code;
  });
}

/** The module's bytes; `shared` must match the memory it will import. */
export function simdAdamWModule(shared: boolean): Uint8Array<ArrayBuffer> {
  return kernelModule([updateKernel()], shared);
}

/** The kernel of one instance, over the memory it was made with (byte offsets). */
export type SimdAdamW = KernelExports<typeof SIMD_ADAMW_SIGNATURES>;

/** Instantiates the kernel over `memory`. */
export function simdAdamW(memory: WebAssembly.Memory): SimdAdamW {
  return instantiate<SimdAdamW>(
    memory,
    (shared) => new WebAssembly.Module(simdAdamWModule(shared)),
  );
}
