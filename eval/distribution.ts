/**
 * Measures of next-token distributions given as log-probabilities (natural
 * log, one value per token id), used by the exit criteria and the latent
 * dynamics.
 *
 * @module
 */

/**
 * Entropy `H(p) = -sum p log p` in nats, from log-probabilities.
 *
 * @example
 * ```ts
 * import { assertAlmostEquals } from "@std/assert";
 * import { entropy } from "@stars/toolkit/eval";
 * assertAlmostEquals(entropy([Math.log(0.5), Math.log(0.5)]), Math.LN2); // ln 2 = 0.6931...
 * ```
 */
export function entropy(logP: ArrayLike<number>): number {
  let h = 0;
  for (let i = 0; i < logP.length; i++) {
    const p = Math.exp(logP[i]);
    if (p > 0) h -= p * logP[i];
  }
  return h;
}

/**
 * Kullback-Leibler divergence `KL(p || q) = sum p (log p - log q)` in nats,
 * from log-probabilities of equal length (terms with `p = 0` count 0).
 *
 * @example
 * ```ts
 * import { assertAlmostEquals } from "@std/assert";
 * import { klDivergence } from "@stars/toolkit/eval";
 * const kl = klDivergence([Math.log(0.5), Math.log(0.5)], [Math.log(0.25), Math.log(0.75)]);
 * assertAlmostEquals(kl, 0.1438, 1e-4);
 * ```
 */
export function klDivergence(logP: ArrayLike<number>, logQ: ArrayLike<number>): number {
  if (logP.length !== logQ.length) {
    throw new RangeError(`kl: lengths differ (${logP.length} != ${logQ.length})`);
  }
  let kl = 0;
  for (let i = 0; i < logP.length; i++) {
    const p = Math.exp(logP[i]);
    if (p > 0) kl += p * (logP[i] - logQ[i]);
  }
  return Math.max(0, kl);
}

/** Index of the largest value (the first one on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Euclidean norm of a vector. */
export function vectorNorm(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

/** Relative change `||a - b|| / ||a||` (0 when both are zero, Infinity when only `a` is). */
export function relativeChange(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff += (a[i] - b[i]) ** 2;
  const n = vectorNorm(a);
  if (n === 0) return diff === 0 ? 0 : Infinity;
  return Math.sqrt(diff) / n;
}
