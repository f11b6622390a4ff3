/**
 * Train/test assignment of operand pairs by a hash, so the two splits are
 * disjoint by construction whatever the sampling seed.
 *
 * @module
 */

import { mixSeed } from "../utils/rng.ts";
import type { Op } from "./arithmetic.ts";

/** Which side of the train/test split a problem belongs to. */
export type Split = "train" | "test";

/** Default share of operand pairs assigned to the test split. */
export const DEFAULT_TEST_FRACTION = 0.1;

/**
 * The split of the pair `(a, b)` under `op`: a fixed hash of the pair,
 * mapped to [0, 1), is compared with `testFraction`. Depends on no seed.
 */
export function splitOf(
  a: number,
  b: number,
  op: Op = "+",
  testFraction: number = DEFAULT_TEST_FRACTION,
): Split {
  const h = mixSeed(0x5a17, op === "+" ? 1 : 2, a, b) / 4294967296;
  return h < testFraction ? "test" : "train";
}
