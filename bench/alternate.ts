/**
 * Step times of several contenders in alternating rounds: each runs a block
 * of steps in turn, with a pause between blocks (a BLAS's idle threads spin
 * for a while after their last call and would steal the next contender's
 * cores), so a machine that slows down or speeds up over the minutes does it
 * to all alike. The median of every contender's steps is kept.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { alternateRounds } from "./alternate.ts";
 * const order: string[] = [];
 * const arm = (name: string, ms: number) => (n: number) => {
 *   order.push(name);
 *   return Promise.resolve(Array(n).fill(ms));
 * };
 * const medians = await alternateRounds({ a: arm("a", 2), b: arm("b", 3) }, { rounds: 2, pauseMs: 0 });
 * assertEquals(medians, { a: 2, b: 3 });
 * assertEquals(order, ["a", "b", "a", "b"]);
 * ```
 *
 * @module
 */
import { median } from "./step_time.ts";

/** A contender: runs `n` steps and returns their times in ms. */
export type StepRunner = (n: number) => Promise<number[]>;

/** Runs `rounds` rounds of `block` steps of each contender in turn; the median ms of each. */
export async function alternateRounds<K extends string>(
  contenders: Record<K, StepRunner>,
  { rounds = 5, block = 3, pauseMs = 300 } = {},
): Promise<Record<K, number>> {
  const times = {} as Record<K, number[]>;
  for (let r = 0; r < rounds; r++) {
    for (const name of Object.keys(contenders) as K[]) {
      (times[name] ??= []).push(...await contenders[name](block));
      if (pauseMs > 0) await new Promise((done) => setTimeout(done, pauseMs));
    }
  }
  const medians = {} as Record<K, number>;
  for (const name of Object.keys(times) as K[]) medians[name] = median(times[name]);
  return medians;
}
