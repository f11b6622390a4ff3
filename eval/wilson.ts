/**
 * The Wilson score interval for a binomial proportion: the confidence
 * interval reported next to every exact-match accuracy.
 *
 * @module
 */

/** A confidence interval `[low, high]` inside [0, 1]. */
export interface Interval {
  /** Lower end. */
  low: number;
  /** Upper end. */
  high: number;
}

/**
 * Wilson score interval for `correct` successes out of `total` trials at
 * normal quantile `z` (1.96 for 95%):
 * `(p + z^2/2n ± z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)`, `p = correct/total`.
 * Unlike the normal approximation it stays inside [0, 1] and is not empty at
 * 0 or n successes. With no trials the interval is all of [0, 1].
 *
 * @example
 * ```ts
 * import { assertAlmostEquals } from "@std/assert";
 * import { wilsonInterval } from "@stars/toolkit";
 * const { low, high } = wilsonInterval(5, 10);
 * assertAlmostEquals(low, 0.2366, 1e-4);
 * assertAlmostEquals(high, 0.7634, 1e-4);
 * ```
 */
export function wilsonInterval(correct: number, total: number, z = 1.96): Interval {
  if (!Number.isInteger(total) || total < 0) {
    throw new RangeError(`wilson: total must be an integer >= 0, got ${total}`);
  }
  if (!Number.isInteger(correct) || correct < 0 || correct > total) {
    throw new RangeError(`wilson: correct must be an integer in [0, ${total}], got ${correct}`);
  }
  if (!(z > 0)) throw new RangeError(`wilson: z must be > 0, got ${z}`);
  if (total === 0) return { low: 0, high: 1 };
  const n = total, p = correct / n, z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))) / denom;
  return {
    low: correct === 0 ? 0 : Math.max(0, center - half),
    high: correct === total ? 1 : Math.min(1, center + half),
  };
}
