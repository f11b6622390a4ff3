/**
 * Huginn's sampler (Geiping et al. 2025): a Poisson loop count whose rate is
 * log-normal, with gradient through only the last loops (truncated
 * backprop), the one kind that runs some loops without gradient.
 *
 * @module
 */
import { poissonPmf, samplePoisson } from "../distributions.ts";
import { type LoopSampler, MAX_LOOPS, trimZeros } from "./entry.ts";

/**
 * Huginn's Poisson-lognormal sampler:
 * `tau ~ LogNormal(log(mean) - sigma^2 / 2, sigma)`, `N = Poisson(tau) + 1`
 * (then `min(N, max)` if `max` is given). The first `max(N - backprop, 0)`
 * loops run without gradient and the last `min(backprop, N)` with it.
 */
export interface PoissonLogNormalLoops {
  /** Discriminant. */
  readonly kind: "poisson_lognormal";
  /** `r`, the mean of `tau` (so `E[N] = r + 1` without `max`), > 0 (Huginn: 32). */
  readonly mean: number;
  /** `s`, the standard deviation of `log tau`, > 0; default 0.5. */
  readonly sigma?: number;
  /** `k`, how many of the last loops get gradients, an integer >= 1 (Huginn: 8). */
  readonly backprop: number;
  /** Optional cap on `N`, an integer >= 1. */
  readonly max?: number;
}

/** Huginn's default `sigma` (`s`) when a spec leaves it out. */
export const DEFAULT_HUGINN_SIGMA = 0.5;

/** Simpson's rule over z in [-Z_MAX, Z_MAX] for the lognormal mixture. */
const Z_MAX = 8.5;
const Z_STEPS = 3400;

// The mixture integrated numerically over tau (error about 1e-10); without a
// `max`, the tail beyond MAX_LOOPS is lumped on MAX_LOOPS.
function huginnPmf(spec: PoissonLogNormalLoops): number[] {
  const s = spec.sigma ?? DEFAULT_HUGINN_SIGMA;
  const cap = spec.max ?? MAX_LOOPS;
  const pmf = new Array<number>(cap + 1).fill(0);
  const logMu = Math.log(spec.mean) - s * s / 2;
  const h = (2 * Z_MAX) / Z_STEPS;
  for (let i = 0; i <= Z_STEPS; i++) {
    const z = -Z_MAX + i * h;
    const w = (i === 0 || i === Z_STEPS ? 1 : i % 2 === 1 ? 4 : 2) * h / 3;
    const weight = w * Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
    const tau = Math.exp(logMu + s * z);
    const spread = 12 * Math.sqrt(tau) + 12;
    const lo = Math.max(0, Math.floor(tau - spread));
    const hi = Math.min(cap - 2, Math.ceil(tau + spread));
    for (let k = lo; k <= hi; k++) pmf[k + 1] += weight * poissonPmf(k, tau);
  }
  // Everything not below the cap lands on it (N = min(Poisson + 1, max)).
  let below = 0;
  for (let n = 1; n < cap; n++) below += pmf[n];
  const rest = 1 - below;
  // Without a cap, keep the lumped tail only when it is more than rounding.
  pmf[cap] = spec.max !== undefined || rest > 1e-9 ? Math.max(0, rest) : 0;
  return trimZeros(pmf);
}

/** The `poisson_lognormal` sampler. */
export const POISSON_LOGNORMAL: LoopSampler<PoissonLogNormalLoops> = {
  kind: "poisson_lognormal",
  required: ["mean", "backprop"],
  optional: ["sigma", "max"],
  check: (c) => {
    c.positive("mean");
    c.positive("sigma");
    c.count("backprop");
    c.count("max");
  },
  draw: (spec, rng) => {
    const s = spec.sigma ?? DEFAULT_HUGINN_SIGMA;
    const tau = Math.exp(Math.log(spec.mean) - s * s / 2 + s * rng.normal());
    let total = samplePoisson(rng, tau) + 1;
    if (spec.max !== undefined) total = Math.min(total, spec.max);
    const withGrad = Math.min(spec.backprop, total);
    return { total, noGrad: total - withGrad, withGrad };
  },
  pmf: huginnPmf,
  mean: (spec) => spec.max === undefined ? spec.mean + 1 : undefined,
  describe: (spec, mean) => {
    const s = spec.sigma ?? DEFAULT_HUGINN_SIGMA;
    const cap = spec.max === undefined ? "" : `, capped at ${spec.max}`;
    return `N = Poisson(tau) + 1, tau ~ LogNormal(log(${spec.mean}) - ${s}^2/2, ${s})${cap}; ` +
      `gradient through the last ${spec.backprop} loops, ${mean}`;
  },
  fromKeys: (k) => ({
    kind: "poisson_lognormal",
    mean: k.loop_mean,
    sigma: k.loop_sigma,
    backprop: k.loop_backprop,
    max: k.loop_max,
  }),
};
