/**
 * STARS' reference sampler: a rounded, clipped log-normal.
 *
 * @module
 */
import { normalCdf } from "../distributions.ts";
import { clip, type LoopSampler, trimZeros, withGradDraw } from "./entry.ts";

/** `N = clip(round(exp(mu + sigma * z)), min, max)` with `z ~ N(0, 1)`. */
export interface LogNormalLoops {
  /** Discriminant. */
  readonly kind: "lognormal";
  /** Mean of `log N` before rounding (STARS: 2). */
  readonly mu: number;
  /** Standard deviation of `log N` before rounding, > 0 (STARS: 0.7). */
  readonly sigma: number;
  /** Smallest loop count, an integer >= 1 (STARS: 1). */
  readonly min: number;
  /** Largest loop count, an integer >= min (STARS: 100). */
  readonly max: number;
}

/** The `lognormal` sampler; its pmf is exact, from normal CDF differences. */
export const LOGNORMAL: LoopSampler<LogNormalLoops> = {
  kind: "lognormal",
  required: ["mu", "sigma", "min", "max"],
  optional: [],
  check: (c) => {
    c.positive("sigma");
    c.range();
  },
  draw: (spec, rng) => {
    const x = Math.exp(spec.mu + spec.sigma * rng.normal());
    return withGradDraw(clip(Math.round(x), spec.min, spec.max));
  },
  pmf: (spec) => {
    const pmf = new Array<number>(spec.max + 1).fill(0);
    const cdf = (edge: number) => normalCdf((Math.log(edge) - spec.mu) / spec.sigma);
    let below = 0; // P(clipped round(X) < n)
    for (let n = spec.min; n <= spec.max && below < 1; n++) {
      const upTo = n === spec.max ? 1 : cdf(n + 0.5);
      pmf[n] = upTo - below;
      below = upTo;
    }
    return trimZeros(pmf);
  },
  describe: (spec, mean) =>
    `N = clip(round(LogNormal(mu=${spec.mu}, sigma=${spec.sigma})), ${spec.min}, ${spec.max}), ${mean}`,
  fromKeys: (k) => ({
    kind: "lognormal",
    mu: k.loop_mu,
    sigma: k.loop_sigma,
    min: k.loop_min,
    max: k.loop_max,
  }),
};
