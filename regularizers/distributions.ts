/**
 * Small numerical helpers for the loop-count samplers: a Poisson sampler that
 * is exact for every rate, the Poisson probability mass function, the log of
 * the gamma function and the standard normal CDF. They draw only from the
 * generator they are given, so results are reproducible.
 *
 * @module
 */

/** Any source of uniform variates in [0, 1), such as `utils/rng.ts`'s `Rng`. */
export interface UniformSource {
  /** A uniform variate in [0, 1). */
  next(): number;
}

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993,
  676.5203681218851,
  -1259.1392167224028,
  771.32342877765313,
  -176.61502916214059,
  12.507343278686905,
  -0.13857109526572012,
  9.9843695780195716e-6,
  1.5056327351493116e-7,
];
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * The natural log of the gamma function, `log Γ(x)` for `x > 0` (Lanczos
 * approximation, relative error about 1e-15). `logGamma(k + 1)` is `log k!`.
 *
 * @example
 * ```ts
 * import { assertAlmostEquals } from "@std/assert";
 * import { logGamma } from "./distributions.ts";
 * assertAlmostEquals(Math.exp(logGamma(5)), 24, 1e-9); // 4!
 * ```
 */
export function logGamma(x: number): number {
  if (x < 0.5) {
    // Reflection: Γ(x) Γ(1 - x) = π / sin(πx).
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) -
      logGamma(1 - x);
  }
  const y = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (y + i);
  const t = y + LANCZOS_G + 0.5;
  return HALF_LOG_2PI + (y + 0.5) * Math.log(t) - t + Math.log(sum);
}

/**
 * The Poisson probability `P(K = k)` for `K ~ Poisson(lambda)`, computed in
 * log space so it stays accurate for large `k` and `lambda`.
 */
export function poissonPmf(k: number, lambda: number): number {
  if (!Number.isInteger(k) || k < 0) return 0;
  if (lambda === 0) return k === 0 ? 1 : 0;
  return Math.exp(k * Math.log(lambda) - lambda - logGamma(k + 1));
}

/**
 * The standard normal cumulative distribution function `Φ(x)`, by the
 * all-positive Taylor series `Φ(x) = 1/2 + φ(x) Σ x^(2n+1) / (2n+1)!!`
 * (absolute error about 1e-16; exactly 0 or 1 beyond |x| = 8.5).
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x <= -8.5) return 0;
  if (x >= 8.5) return 1;
  const q = x * x;
  let term = x;
  let sum = x;
  for (let i = 3; i < 1000; i += 2) {
    term *= q / i;
    const next = sum + term;
    if (next === sum) break;
    sum = next;
  }
  return 0.5 + sum * Math.exp(-0.5 * q - HALF_LOG_2PI);
}

/** Rates below this use Knuth's product method; at or above, PTRS. */
const KNUTH_LIMIT = 10;

/**
 * Draws `K ~ Poisson(lambda)` from `rng`. For `lambda < 10` it multiplies
 * uniforms until the product falls below `exp(-lambda)` (Knuth; expected
 * `lambda + 1` uniforms); for larger rates it uses Hörmann's transformed
 * rejection with squeeze (PTRS, 1993), which is exact and needs about two
 * uniforms per draw whatever the rate.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { Rng } from "@stars/toolkit";
 * import { samplePoisson } from "./distributions.ts";
 * const k = samplePoisson(new Rng(1), 5); // a non-negative integer, mean 5
 * assert(Number.isInteger(k) && k >= 0);
 * ```
 */
export function samplePoisson(rng: UniformSource, lambda: number): number {
  if (!(lambda >= 0) || !Number.isFinite(lambda)) {
    throw new RangeError(
      `Poisson rate must be a finite number >= 0 (got ${lambda})`,
    );
  }
  if (lambda === 0) return 0;
  if (lambda < KNUTH_LIMIT) {
    const limit = Math.exp(-lambda);
    let k = 0;
    let product = rng.next();
    while (product > limit) {
      k++;
      product *= rng.next();
    }
    return k;
  }
  const sqrtLam = Math.sqrt(lambda);
  const logLam = Math.log(lambda);
  const b = 0.931 + 2.53 * sqrtLam;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng.next() - 0.5;
    const v = rng.next();
    const us = 0.5 - Math.abs(u);
    if (us <= 0) continue;
    const k = Math.floor((2 * a / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    const lhs = Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b);
    const rhs = -lambda + k * logLam - logGamma(k + 1);
    if (lhs <= rhs) return k;
  }
}
