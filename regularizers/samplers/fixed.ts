/**
 * The fixed-depth baseline: always `n` loops.
 *
 * @module
 */
import { type LoopSampler, pointMass, withGradDraw } from "./entry.ts";

/** Always the same loop count `n` (the fixed-depth baseline). */
export interface FixedLoops {
  /** Discriminant. */
  readonly kind: "fixed";
  /** The loop count, an integer >= 1. */
  readonly n: number;
}

/** The `fixed` sampler. */
export const FIXED: LoopSampler<FixedLoops> = {
  kind: "fixed",
  required: ["n"],
  optional: [],
  check: (c) => c.count("n"),
  draw: (spec) => withGradDraw(spec.n),
  pmf: (spec) => pointMass(spec.n),
  mean: (spec) => spec.n,
  describe: (spec) => `N = ${spec.n} (fixed)`,
  fromKeys: (k) => ({ kind: "fixed", n: k.loops }),
};
