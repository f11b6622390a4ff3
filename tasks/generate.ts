/**
 * Seeded generation of n-digit arithmetic problems from one split.
 *
 * @module
 */

import { Rng } from "../utils/rng.ts";
import { makeProblem, type Op, type Problem } from "./arithmetic.ts";
import { DEFAULT_TEST_FRACTION, type Split, splitOf } from "./split.ts";

/** Options of {@linkcode generateProblems}. */
export interface GenerateOptions {
  /** Digits of each operand (1 means 0-9; n > 1 means 10^(n-1)..10^n-1). */
  readonly digits: number;
  /** How many problems to return. */
  readonly count: number;
  /** Seed of the draw; the same options give the same problems. */
  readonly seed: number;
  /** The split to draw from (see {@linkcode splitOf}). */
  readonly split: Split;
  /** The operation (default `"+"`). */
  readonly op?: Op;
  /** Reverse the target digits (default true). */
  readonly reverse?: boolean;
  /** Share of pairs in the test split (default 0.1). */
  readonly testFraction?: number;
  /** Draw without repeating a pair (default false: with replacement). */
  readonly unique?: boolean;
  /** Pairs never to return, e.g. a published test set. */
  readonly exclude?: Iterable<{ readonly a: number; readonly b: number }>;
}

/** The inclusive operand range `[lo, hi]` for a digit count. */
export function operandRange(digits: number): [number, number] {
  if (!Number.isInteger(digits) || digits < 1 || digits > 15) {
    throw new Error(`digits must be an integer in 1..15, got ${digits}`);
  }
  return [digits === 1 ? 0 : 10 ** (digits - 1), 10 ** digits - 1];
}

/**
 * Draws `count` problems uniformly from the chosen split of all n-digit
 * operand pairs. Throws if the split runs out (with `unique`) or if no
 * acceptable pair turns up within a generous number of draws.
 */
export function generateProblems(options: GenerateOptions): Problem[] {
  const { digits, count, seed, split } = options;
  const op = options.op ?? "+";
  const frac = options.testFraction ?? DEFAULT_TEST_FRACTION;
  if (!Number.isInteger(count) || count < 0) {
    throw new Error(`count must be a non-negative integer, got ${count}`);
  }
  if (!(frac >= 0 && frac <= 1)) {
    throw new Error(`testFraction must be in [0, 1], got ${frac}`);
  }
  const [lo, hi] = operandRange(digits);
  const key = (a: number, b: number) => `${a},${b}`;
  const skip = new Set<string>();
  for (const p of options.exclude ?? []) skip.add(key(p.a, p.b));
  const rng = new Rng(seed);
  const out: Problem[] = [];
  const maxDraws = 1000 * count + 100_000;
  for (let draws = 0; out.length < count; draws++) {
    if (draws >= maxDraws) {
      throw new Error(
        `found only ${out.length} of ${count} ${split} problems ` +
          `(${digits}-digit "${op}") in ${maxDraws} draws`,
      );
    }
    const a = rng.int(lo, hi);
    const b = rng.int(lo, hi);
    const k = key(a, b);
    if (skip.has(k) || splitOf(a, b, op, frac) !== split) continue;
    if (options.unique) skip.add(k);
    out.push(makeProblem(a, b, op, { reverse: options.reverse }));
  }
  return out;
}
