/**
 * When a run left its loss plateau: the first step at which the training
 * cross-entropy, averaged over the preceding `window` steps, is below
 * `threshold`. The average keeps one lucky batch from counting.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { plateauExit } from "./plateau.ts";
 * const records = [1.4, 1.4, 0.05, 0.05].map((ce, i) => ({ step: i + 1, ce }));
 * assertEquals(plateauExit(records, 0.1, 2), 4);
 * assertEquals(plateauExit(records, 0.01, 2), null);
 * ```
 *
 * @module
 */

/** The step where the windowed cross-entropy first falls below `threshold`, or null. */
export function plateauExit(
  records: readonly { step: number; ce?: number }[],
  threshold = 0.1,
  window = 50,
): number | null {
  const ce = records.filter((r) => typeof r.ce === "number") as { step: number; ce: number }[];
  let sum = 0;
  for (let i = 0; i < ce.length; i++) {
    sum += ce[i].ce;
    if (i >= window) sum -= ce[i - window].ce;
    if (i >= window - 1 && sum / window < threshold) return ce[i].step;
  }
  return null;
}
