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
 * Each kind is one file of `samplers/` and an entry of the registry here
 * ({@linkcode registerLoopSampler} adds one).
 *
 * @example
 * ```ts
 * import { assertAlmostEquals, assertEquals } from "@std/assert";
 * import { expectedLoops, sampleLoops } from "@stars/toolkit";
 * const spec = { kind: "lognormal", mu: 2, sigma: 0.7, min: 1, max: 100 } as const;
 * const draw = sampleLoops(spec, 1, 0);
 * assertEquals(draw, { total: draw.total, noGrad: 0, withGrad: draw.total });
 * assertAlmostEquals(expectedLoops(spec), 9.4, 0.05);
 * ```
 *
 * @module
 */
import { mixSeed, Rng } from "../utils/rng.ts";
import {
  LOOP_KEYS,
  type LoopDraw,
  type LoopKeys,
  type LoopSampler,
  MAX_LOOPS,
  type SpecChecks,
} from "./samplers/entry.ts";
import { FIXED, type FixedLoops } from "./samplers/fixed.ts";
import { LOGNORMAL, type LogNormalLoops } from "./samplers/lognormal.ts";
import { POISSON, type PoissonLoops } from "./samplers/poisson.ts";
import {
  DEFAULT_HUGINN_SIGMA,
  POISSON_LOGNORMAL,
  type PoissonLogNormalLoops,
} from "./samplers/poisson_lognormal.ts";
import { UNIFORM, type UniformLoops } from "./samplers/uniform.ts";

export {
  DEFAULT_HUGINN_SIGMA,
  type FixedLoops,
  type LogNormalLoops,
  LOOP_KEYS,
  type LoopDraw,
  type LoopKeys,
  type LoopSampler,
  MAX_LOOPS,
  type PoissonLogNormalLoops,
  type PoissonLoops,
  type SpecChecks,
  type UniformLoops,
};

/** How to draw the loop count of a training step; see each kind's type. */
export type LoopSpec =
  | FixedLoops
  | LogNormalLoops
  | PoissonLoops
  | UniformLoops
  | PoissonLogNormalLoops;

// deno-lint-ignore no-explicit-any
type AnySampler = LoopSampler<any>;
const SAMPLERS = new Map<string, AnySampler>();
const KINDS: LoopSpec["kind"][] = [];

/** The registered kinds, in the order error messages list them (the built-ins first). */
export const LOOP_KINDS: readonly LoopSpec["kind"][] = KINDS;

/**
 * Adds a sampler to the registry (its `kind` must be new): from then on
 * specs of that kind validate, draw, and have a pmf and a description, and
 * a run's `loop_sampler` key accepts it.
 */
export function registerLoopSampler<S extends { readonly kind: string }>(
  sampler: LoopSampler<S>,
): void {
  if (SAMPLERS.has(sampler.kind)) {
    throw new Error(`loop sampler "${sampler.kind}" is already registered`);
  }
  SAMPLERS.set(sampler.kind, sampler);
  KINDS.push(sampler.kind as LoopSpec["kind"]);
}

for (const s of [FIXED, LOGNORMAL, POISSON, UNIFORM, POISSON_LOGNORMAL]) {
  registerLoopSampler(s as AnySampler);
}

/** The registered sampler of `kind`, or a `TypeError` listing the kinds. */
export function loopSampler(kind: string): LoopSampler<LoopSpec> {
  const sampler = SAMPLERS.get(kind);
  if (!sampler) {
    const allowed = LOOP_KINDS.map((k) => `"${k}"`).join(", ");
    throw new TypeError(`loop sampler must be one of ${allowed} (got ${JSON.stringify(kind)})`);
  }
  return sampler;
}

/** The spec a run's `loop_sampler` and flat loop keys ask for. */
export function loopSpecFromKeys(kind: string, keys: LoopKeys): LoopSpec {
  return loopSampler(kind).fromKeys(keys) as LoopSpec;
}

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
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { validateLoopSpec } from "@stars/toolkit/regularizers";
 * const spec: unknown = JSON.parse('{"kind":"poisson","lambda":5,"min":1,"max":100}');
 * validateLoopSpec(spec); // spec is now typed as LoopSpec
 * assertEquals(spec.kind, "poisson");
 * const bad = { kind: "poisson", lambda: 0, min: 1, max: 100 };
 * assertThrows(() => validateLoopSpec(bad), RangeError, "loops.lambda must be > 0");
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
  if (typeof kind !== "string" || !SAMPLERS.has(kind)) {
    throw new TypeError(
      `${name}.kind must be one of ${allowedKinds} (got ${show(kind)})`,
    );
  }
  const sampler = loopSampler(kind);
  const { required, optional } = sampler;
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
  sampler.check({ positive, count, range });
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
 * import { assertEquals } from "@std/assert";
 * import { sampleLoops } from "@stars/toolkit";
 * const huginn = { kind: "poisson_lognormal", mean: 32, backprop: 8 } as const;
 * const { total, noGrad, withGrad } = sampleLoops(huginn, 1, 42);
 * // run `noGrad` loops without gradient, then `withGrad` loops with it
 * assertEquals(noGrad + withGrad, total);
 * assertEquals(withGrad, 8); // the last `backprop` loops (when total >= 8)
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
  return loopSampler(spec.kind).draw(spec, new Rng(mixSeed(seed, step)));
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
 * import { assertAlmostEquals } from "@std/assert";
 * import { loopPmf } from "@stars/toolkit/regularizers";
 * const pmf = loopPmf({ kind: "lognormal", mu: 2, sigma: 0.7, min: 1, max: 100 });
 * const pOver20 = pmf.slice(21).reduce((a, b) => a + b, 0);
 * assertAlmostEquals(pOver20, 0.07, 0.005);
 * ```
 */
export function loopPmf(spec: LoopSpec): number[] {
  validateLoopSpec(spec);
  return loopSampler(spec.kind).pmf(spec);
}

/**
 * The expected total loop count `E[N]` of a spec: exact in closed form for
 * `fixed`, `uniform` and an uncapped `poisson_lognormal` (`mean + 1`), and
 * otherwise the sum `Σ n P(N = n)` over {@linkcode loopPmf}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { expectedLoops } from "@stars/toolkit";
 * assertEquals(expectedLoops({ kind: "uniform", min: 1, max: 100 }), 50.5);
 * ```
 */
export function expectedLoops(spec: LoopSpec): number {
  validateLoopSpec(spec);
  const exact = loopSampler(spec.kind).mean?.(spec);
  return exact ?? loopPmf(spec).reduce((acc, p, n) => acc + n * p, 0);
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
  return loopSampler(spec.kind).describe(spec, `E[N] ≈ ${fmt(expectedLoops(spec))}`);
}
