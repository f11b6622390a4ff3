/**
 * The paper's Poisson ablation: a clipped Poisson loop count.
 *
 * @module
 */
import { poissonPmf, samplePoisson } from "../distributions.ts";
import { clip, type LoopSampler, pointMass, trimZeros, withGradDraw } from "./entry.ts";

/** `N = clip(Poisson(lambda), min, max)`. */
export interface PoissonLoops {
  /** Discriminant. */
  readonly kind: "poisson";
  /** The Poisson rate, > 0 (the paper's ablation: 5). */
  readonly lambda: number;
  /** Smallest loop count, an integer >= 1. */
  readonly min: number;
  /** Largest loop count, an integer >= min. */
  readonly max: number;
}

/** The `poisson` sampler; its pmf is exact, from Poisson pmf sums. */
export const POISSON: LoopSampler<PoissonLoops> = {
  kind: "poisson",
  required: ["lambda", "min", "max"],
  optional: [],
  check: (c) => {
    c.positive("lambda");
    c.range();
  },
  draw: (spec, rng) => withGradDraw(clip(samplePoisson(rng, spec.lambda), spec.min, spec.max)),
  pmf: ({ lambda, min, max }) => {
    if (min === max) return pointMass(min);
    const pmf = new Array<number>(max + 1).fill(0);
    // Beyond lambda + 40 sqrt(lambda) + 40 the Poisson pmf is below 1e-300.
    const end = Math.min(max - 1, Math.max(min, Math.ceil(lambda + 40 * Math.sqrt(lambda) + 40)));
    let upTo = 0; // P(K <= k)
    for (let k = 0; k <= end; k++) {
      const p = poissonPmf(k, lambda);
      upTo += p;
      if (k === min) pmf[k] = upTo; // P(K <= min) lands on min
      else if (k > min) pmf[k] = p;
    }
    pmf[max] = Math.max(0, 1 - upTo); // P(K >= max) lands on max
    return trimZeros(pmf);
  },
  describe: (spec, mean) =>
    `N = clip(Poisson(lambda=${spec.lambda}), ${spec.min}, ${spec.max}), ${mean}`,
  fromKeys: (k) => ({ kind: "poisson", lambda: k.loop_lambda, min: k.loop_min, max: k.loop_max }),
};
