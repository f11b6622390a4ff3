/**
 * `exp` of four float32 lanes for the SIMD kernels (GELU's Gaussian,
 * attention's softmax): `2^n p(r)` with `n = round(y / ln 2)`,
 * `r = y - n ln 2` (ln 2 in two parts) and `p` the Taylor polynomial of
 * degree 6 (relative error about 1e-7 for |r| < 0.35). Arguments are first
 * clamped to at least -87, so the result stays a normal float32; meant for
 * non-positive arguments (larger ones than 88 overflow the exponent bits).
 *
 * @module
 */
import {
  expr,
  get,
  type Local,
  set,
  type V128,
  vAdd,
  vConst,
  vExp2Int,
  vMax,
  vMul,
  vNearest,
  vSub,
} from "./asm.ts";

const EXP_TAYLOR = [1, 1, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720];
const LN2_HI = 0.693145751953125; // ln 2 to 16 bits: n * LN2_HI is exact for |n| < 2^8
const LN2_LO = 1.428606765330187e-6;

/** `c0 + x (c1 + x (c2 + ...))` for the v128 local `x`. */
export function horner(x: Local<"v128">, coeffs: readonly number[]): V128 {
  let code = vConst(coeffs[coeffs.length - 1]);
  for (let i = coeffs.length - 2; i >= 0; i--) code = vAdd(vMul(code, get(x)), vConst(coeffs[i]));
  return code;
}

/** `exp(max(y, -87))` lane by lane, using the v128 locals `r` and `n` as scratch. */
export function vExp(y: V128, r: Local<"v128">, n: Local<"v128">): V128 {
  return expr([
    ...vMax(y, vConst(-87)),
    ...set(r),
    ...vNearest(vMul(get(r), vConst(Math.LOG2E))),
    ...set(n),
    ...vSub(vSub(get(r), vMul(get(n), vConst(LN2_HI))), vMul(get(n), vConst(LN2_LO))),
    ...set(r),
    ...vMul(horner(r, EXP_TAYLOR), vExp2Int(get(n))),
  ]);
}
