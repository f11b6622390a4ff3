/**
 * Abramowitz and Stegun 7.1.26, the erf approximation every GELU kernel
 * uses (absolute error below 1.5e-7): `1 - erf(z) = t poly(t) exp(-z^2)`
 * for `z >= 0`, `t = 1 / (1 + ERF_P z)`, `poly(t) = a0 + t (a1 + ...)`.
 * The kernels (wasm SIMD, JavaScript, WGSL) read these constants from here.
 *
 * @module
 */

/** The `p` of `t = 1 / (1 + p z)`. */
export const ERF_P = 0.3275911;

/** `a0 .. a4`, the polynomial's coefficients from the constant term up. */
export const ERF_A: readonly number[] = [
  0.254829592,
  -0.284496736,
  1.421413741,
  -1.453152027,
  1.061405429,
];

/**
 * `poly(t)` as source text for a language with `+` and `*` (WGSL), in
 * Horner's order, the same as the other kernels: `a0 + t * (a1 + ...)`.
 */
export function erfPolySource(t: string): string {
  return ERF_A.slice(0, -1).reduceRight(
    (inner, a) => `(${a} + ${t} * ${inner})`,
    String(ERF_A[ERF_A.length - 1]),
  );
}
