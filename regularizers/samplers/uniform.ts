/**
 * The paper's uniform ablation: every loop count of a range equally likely.
 *
 * @module
 */
import { type LoopSampler, withGradDraw } from "./entry.ts";

/** `N` uniform on the integers `min..max` inclusive. */
export interface UniformLoops {
  /** Discriminant. */
  readonly kind: "uniform";
  /** Smallest loop count, an integer >= 1. */
  readonly min: number;
  /** Largest loop count, an integer >= min. */
  readonly max: number;
}

/** The `uniform` sampler. */
export const UNIFORM: LoopSampler<UniformLoops> = {
  kind: "uniform",
  required: ["min", "max"],
  optional: [],
  check: (c) => c.range(),
  draw: (spec, rng) => withGradDraw(rng.int(spec.min, spec.max)),
  pmf: (spec) => {
    const pmf = new Array<number>(spec.max + 1).fill(0);
    const p = 1 / (spec.max - spec.min + 1);
    for (let n = spec.min; n <= spec.max; n++) pmf[n] = p;
    return pmf;
  },
  mean: (spec) => (spec.min + spec.max) / 2,
  describe: (spec, mean) => `N ~ Uniform{${spec.min}..${spec.max}}, ${mean.replace("≈", "=")}`,
  fromKeys: (k) => ({ kind: "uniform", min: k.loop_min, max: k.loop_max }),
};
