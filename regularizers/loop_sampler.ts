/**
 * Loop-count samplers for training looped language models (STARS, section 1
 * of the design notes): each training step draws one loop count `N` for the
 * whole batch. A draw depends only on `(spec, seed, step)`, so a resumed run
 * draws exactly the counts the original run would have drawn.
 *
 * Kinds: `fixed` (the fixed-depth baseline), `lognormal` (STARS' reference:
 * `N = clip(round(LogNormal(mu, sigma)), min, max)`), `poisson` and `uniform`
 * (the paper's ablations), and `poisson_lognormal` (Huginn's sampler with
 * truncated backprop, the only kind that runs some loops without gradient).
 *
 * @example
 * ```ts
 * import { expectedLoops, sampleLoops } from "@stars/toolkit";
 * const spec = { kind: "lognormal", mu: 2, sigma: 0.7, min: 1, max: 100 } as const;
 * const draw = sampleLoops(spec, 1, 0); // { total, noGrad: 0, withGrad: total }
 * expectedLoops(spec); // about 9.4
 * ```
 *
 * @module
 */
import { mixSeed, Rng } from "../utils/rng.ts";
import { normalCdf, poissonPmf, samplePoisson } from "./distributions.ts";

/** The largest loop count a spec may allow (`n`, `max`). */
export const MAX_LOOPS = 100_000;

/** Always the same loop count `n` (the fixed-depth baseline). */
export interface FixedLoops {
  /** Discriminant. */
  readonly kind: "fixed";
  /** The loop count, an integer >= 1. */
  readonly n: number;
}

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

/** `N` uniform on the integers `min..max` inclusive. */
export interface UniformLoops {
  /** Discriminant. */
  readonly kind: "uniform";
  /** Smallest loop count, an integer >= 1. */
  readonly min: number;
  /** Largest loop count, an integer >= min. */
  readonly max: number;
}

/**
 * Huginn's Poisson-lognormal sampler (Geiping et al. 2025):
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

/** How to draw the loop count of a training step; see each kind's type. */
export type LoopSpec =
  | FixedLoops
  | LogNormalLoops
  | PoissonLoops
  | UniformLoops
  | PoissonLogNormalLoops;

/** The kinds of {@linkcode LoopSpec}, in the order error messages list them. */
export const LOOP_KINDS: readonly LoopSpec["kind"][] = [
  "fixed",
  "lognormal",
  "poisson",
  "uniform",
  "poisson_lognormal",
];

/** One step's loop count, split into loops run without and with gradient. */
export interface LoopDraw {
  /** All loops to run, `noGrad + withGrad`, >= 1. */
  total: number;
  /** Leading loops run without gradient (0 for every kind but Huginn's). */
  noGrad: number;
  /** Trailing loops run with gradient (backpropagated through). */
  withGrad: number;
}

/** Huginn's default `sigma` (`s`) when a spec leaves it out. */
export const DEFAULT_HUGINN_SIGMA = 0.5;

const KEYS: Record<
  LoopSpec["kind"],
  { required: string[]; optional: string[] }
> = {
  fixed: { required: ["n"], optional: [] },
  lognormal: { required: ["mu", "sigma", "min", "max"], optional: [] },
  poisson: { required: ["lambda", "min", "max"], optional: [] },
  uniform: { required: ["min", "max"], optional: [] },
  poisson_lognormal: {
    required: ["mean", "backprop"],
    optional: ["sigma", "max"],
  },
};

function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/**
 * Checks that `spec` is a well-formed {@linkcode LoopSpec}, throwing an error
 * that names the offending key (prefixed with `name`, default `"loops"`) and
 * what is allowed: a `TypeError` for a missing, unknown or non-numeric key or
 * an unknown kind, a `RangeError` for a value out of range, e.g.
 * `loops.sigma must be > 0 (got 0)` or `loops.min must be <= loops.max`.
 *
 * @example
 * ```ts
 * import { validateLoopSpec } from "@stars/toolkit";
 * const spec: unknown = JSON.parse('{"kind":"poisson","lambda":5,"min":1,"max":100}');
 * validateLoopSpec(spec); // spec is now typed as LoopSpec
 * ```
 */
export function validateLoopSpec(
  spec: unknown,
  name = "loops",
): asserts spec is LoopSpec {
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    throw new TypeError(
      `${name} must be an object with a "kind" key (got ${show(spec)})`,
    );
  }
  const record = spec as Record<string, unknown>;
  const kind = record.kind;
  const allowedKinds = LOOP_KINDS.map((k) => `"${k}"`).join(", ");
  if (typeof kind !== "string" || !(LOOP_KINDS as string[]).includes(kind)) {
    throw new TypeError(
      `${name}.kind must be one of ${allowedKinds} (got ${show(kind)})`,
    );
  }
  const { required, optional } = KEYS[kind as LoopSpec["kind"]];
  const allowed = ["kind", ...required, ...optional];
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) {
      throw new TypeError(
        `${name}.${key} is not a key of kind "${kind}" (allowed: ${allowed.join(", ")})`,
      );
    }
  }
  for (const key of [...required, ...optional]) {
    const value = record[key];
    if (value === undefined) {
      if (required.includes(key)) {
        throw new TypeError(`${name}.${key} is required for kind "${kind}"`);
      }
      continue;
    }
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new TypeError(
        `${name}.${key} must be a finite number (got ${show(value)})`,
      );
    }
  }
  const num = (key: string): number | undefined => record[key] as number | undefined;
  const positive = (key: string): void => {
    const v = num(key);
    if (v !== undefined && !(v > 0)) {
      throw new RangeError(`${name}.${key} must be > 0 (got ${v})`);
    }
  };
  const count = (key: string): void => {
    const v = num(key);
    if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > MAX_LOOPS)) {
      throw new RangeError(
        `${name}.${key} must be an integer >= 1 and <= ${MAX_LOOPS} (got ${v})`,
      );
    }
  };
  const range = (): void => {
    count("min");
    count("max");
    if (num("min")! > num("max")!) {
      throw new RangeError(
        `${name}.min must be <= ${name}.max (got min ${num("min")}, max ${num("max")})`,
      );
    }
  };
  switch (kind as LoopSpec["kind"]) {
    case "fixed":
      count("n");
      break;
    case "lognormal":
      positive("sigma");
      range();
      break;
    case "poisson":
      positive("lambda");
      range();
      break;
    case "uniform":
      range();
      break;
    case "poisson_lognormal":
      positive("mean");
      positive("sigma");
      count("backprop");
      count("max");
      break;
  }
}

function clip(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi);
}

function trimZeros(pmf: number[]): number[] {
  let top = pmf.length - 1;
  while (top > 0 && pmf[top] === 0) top--;
  return pmf.slice(0, top + 1);
}

function noGradDraw(total: number): LoopDraw {
  return { total, noGrad: 0, withGrad: total };
}

/**
 * Draws the loop count for training step `step` of a run seeded with `seed`.
 * The draw uses only `new Rng(mixSeed(seed, step))`, so the same
 * `(spec, seed, step)` always gives the same {@linkcode LoopDraw} and there is
 * no state to checkpoint. Validates `spec` first (see
 * {@linkcode validateLoopSpec}).
 *
 * @example
 * ```ts
 * import { sampleLoops } from "@stars/toolkit";
 * const huginn = { kind: "poisson_lognormal", mean: 32, backprop: 8 } as const;
 * const { total, noGrad, withGrad } = sampleLoops(huginn, 1, 42);
 * // run `noGrad` loops without gradient, then `withGrad` loops with it
 * ```
 */
export function sampleLoops(
  spec: LoopSpec,
  seed: number,
  step: number,
): LoopDraw {
  validateLoopSpec(spec);
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`seed must be a safe integer (got ${seed})`);
  }
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new RangeError(`step must be an integer >= 0 (got ${step})`);
  }
  const rng = new Rng(mixSeed(seed, step));
  switch (spec.kind) {
    case "fixed":
      return noGradDraw(spec.n);
    case "lognormal": {
      const x = Math.exp(spec.mu + spec.sigma * rng.normal());
      return noGradDraw(clip(Math.round(x), spec.min, spec.max));
    }
    case "poisson":
      return noGradDraw(
        clip(samplePoisson(rng, spec.lambda), spec.min, spec.max),
      );
    case "uniform":
      return noGradDraw(rng.int(spec.min, spec.max));
    case "poisson_lognormal": {
      const s = spec.sigma ?? DEFAULT_HUGINN_SIGMA;
      const tau = Math.exp(Math.log(spec.mean) - s * s / 2 + s * rng.normal());
      let total = samplePoisson(rng, tau) + 1;
      if (spec.max !== undefined) total = Math.min(total, spec.max);
      const withGrad = Math.min(spec.backprop, total);
      return { total, noGrad: total - withGrad, withGrad };
    }
  }
}

/** Simpson's rule over z in [-Z_MAX, Z_MAX] for the lognormal mixture. */
const Z_MAX = 8.5;
const Z_STEPS = 3400;

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

/**
 * The probability mass function of the total loop count: element `n` is
 * `P(total = n)` (so element 0 is always 0), up to the largest count with
 * non-negligible mass. Computed exactly from the rounded/clipped
 * distribution (normal CDF differences, Poisson pmf sums); Huginn's mixture
 * is integrated numerically over `tau` (error about 1e-10), and without a
 * `max` its tail beyond {@linkcode MAX_LOOPS} is lumped on `MAX_LOOPS`.
 *
 * @example
 * ```ts
 * import { loopPmf } from "@stars/toolkit";
 * const pmf = loopPmf({ kind: "lognormal", mu: 2, sigma: 0.7, min: 1, max: 100 });
 * const pOver20 = pmf.slice(21).reduce((a, b) => a + b, 0); // about 0.07
 * ```
 */
export function loopPmf(spec: LoopSpec): number[] {
  validateLoopSpec(spec);
  switch (spec.kind) {
    case "fixed": {
      const pmf = new Array<number>(spec.n + 1).fill(0);
      pmf[spec.n] = 1;
      return pmf;
    }
    case "uniform": {
      const pmf = new Array<number>(spec.max + 1).fill(0);
      const p = 1 / (spec.max - spec.min + 1);
      for (let n = spec.min; n <= spec.max; n++) pmf[n] = p;
      return pmf;
    }
    case "lognormal": {
      const pmf = new Array<number>(spec.max + 1).fill(0);
      const cdf = (edge: number) => normalCdf((Math.log(edge) - spec.mu) / spec.sigma);
      let below = 0; // P(clipped round(X) < n)
      for (let n = spec.min; n <= spec.max && below < 1; n++) {
        const upTo = n === spec.max ? 1 : cdf(n + 0.5);
        pmf[n] = upTo - below;
        below = upTo;
      }
      return trimZeros(pmf);
    }
    case "poisson": {
      const { lambda, min, max } = spec;
      const pmf = new Array<number>(max + 1).fill(0);
      if (min === max) {
        pmf[min] = 1;
        return pmf;
      }
      // Beyond lambda + 40 sqrt(lambda) + 40 the Poisson pmf is below 1e-300.
      const end = Math.min(
        max - 1,
        Math.max(min, Math.ceil(lambda + 40 * Math.sqrt(lambda) + 40)),
      );
      let upTo = 0; // P(K <= k)
      for (let k = 0; k <= end; k++) {
        const p = poissonPmf(k, lambda);
        upTo += p;
        if (k === min) pmf[k] = upTo; // P(K <= min) lands on min
        else if (k > min) pmf[k] = p;
      }
      pmf[max] = Math.max(0, 1 - upTo); // P(K >= max) lands on max
      return trimZeros(pmf);
    }
    case "poisson_lognormal":
      return huginnPmf(spec);
  }
}

/**
 * The expected total loop count `E[N]` of a spec: exact in closed form for
 * `fixed`, `uniform` and an uncapped `poisson_lognormal` (`mean + 1`), and
 * otherwise the sum `Σ n P(N = n)` over {@linkcode loopPmf}.
 *
 * @example
 * ```ts
 * import { expectedLoops } from "@stars/toolkit";
 * expectedLoops({ kind: "uniform", min: 1, max: 100 }); // 50.5
 * ```
 */
export function expectedLoops(spec: LoopSpec): number {
  validateLoopSpec(spec);
  switch (spec.kind) {
    case "fixed":
      return spec.n;
    case "uniform":
      return (spec.min + spec.max) / 2;
    case "poisson_lognormal":
      if (spec.max === undefined) return spec.mean + 1;
  }
  return loopPmf(spec).reduce((acc, p, n) => acc + n * p, 0);
}

function fmt(x: number): string {
  return String(Number(x.toPrecision(4)));
}

/**
 * A one-line, human-readable description of a spec with its expected loop
 * count, for logs and run summaries, e.g.
 * `N = clip(round(LogNormal(mu=2, sigma=0.7)), 1, 100), E[N] ≈ 9.434`.
 */
export function describeLoopSpec(spec: LoopSpec): string {
  validateLoopSpec(spec);
  const mean = `E[N] ≈ ${fmt(expectedLoops(spec))}`;
  switch (spec.kind) {
    case "fixed":
      return `N = ${spec.n} (fixed)`;
    case "lognormal":
      return `N = clip(round(LogNormal(mu=${spec.mu}, sigma=${spec.sigma})), ${spec.min}, ${spec.max}), ${mean}`;
    case "poisson":
      return `N = clip(Poisson(lambda=${spec.lambda}), ${spec.min}, ${spec.max}), ${mean}`;
    case "uniform":
      return `N ~ Uniform{${spec.min}..${spec.max}}, E[N] = ${fmt(expectedLoops(spec))}`;
    case "poisson_lognormal": {
      const s = spec.sigma ?? DEFAULT_HUGINN_SIGMA;
      const cap = spec.max === undefined ? "" : `, capped at ${spec.max}`;
      return `N = Poisson(tau) + 1, tau ~ LogNormal(log(${spec.mean}) - ${s}^2/2, ${s})${cap}; ` +
        `gradient through the last ${spec.backprop} loops, ${mean}`;
    }
  }
}
