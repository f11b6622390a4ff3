/**
 * What a loop-count sampler is: one entry of the registry in
 * `../loop_sampler.ts`, owning its keys, their checks, its draw, its exact
 * distribution, its description and how it reads the run's config keys.
 * Adding a sampler is one file like `lognormal.ts`, registered with
 * `registerLoopSampler`.
 *
 * @module
 */
import { intKey, type KeyTable, numKey } from "../../utils/config_keys.ts";
import type { Rng } from "../../utils/rng.ts";

/** The largest loop count a spec may allow (`n`, `max`). */
export const MAX_LOOPS = 100_000;

/** One step's loop count, split into loops run without and with gradient. */
export interface LoopDraw {
  /** All loops to run, `noGrad + withGrad`, >= 1. */
  total: number;
  /** Leading loops run without gradient (0 for every kind but Huginn's). */
  noGrad: number;
  /** Trailing loops run with gradient (backpropagated through). */
  withGrad: number;
}

/** The run config's flat loop keys, as a sampler reads them. */
export interface LoopKeys {
  /** The fixed loop count. */
  readonly loops: number;
  /** Log-normal mean of `log N`. */
  readonly loop_mu: number;
  /** Log-normal (and Huginn's) standard deviation. */
  readonly loop_sigma: number;
  /** Smallest loop count. */
  readonly loop_min: number;
  /** Largest loop count. */
  readonly loop_max: number;
  /** Poisson rate. */
  readonly loop_lambda: number;
  /** Huginn's mean of `tau`. */
  readonly loop_mean: number;
  /** Huginn's backpropagated loops. */
  readonly loop_backprop: number;
}

/** {@linkcode LoopKeys} with their defaults, ranges and help, declared once. */
export const LOOP_KEYS: KeyTable<LoopKeys> = {
  loops: intKey(4, "fixed loop count (the training depth)", 1, 10000),
  loop_mu: numKey(2, "log-normal mu", -Infinity),
  loop_sigma: numKey(0.7, "log-normal sigma (Huginn's s)", 0, Infinity, true),
  loop_min: intKey(1, "smallest loop count drawn", 1, 10000),
  loop_max: intKey(100, "largest loop count drawn", 1, 10000),
  loop_lambda: numKey(5, "Poisson rate", 0, Infinity, true),
  loop_mean: numKey(32, "Huginn's mean recurrence r", 0, Infinity, true),
  loop_backprop: intKey(8, "Huginn's backpropagated loops k", 1, 10000),
};

/** Range checks a sampler runs on its keys; each throws a `RangeError` naming the key. */
export interface SpecChecks {
  /** The key, where present, is > 0. */
  positive(key: string): void;
  /** The key, where present, is an integer from 1 to {@linkcode MAX_LOOPS}. */
  count(key: string): void;
  /** `min` and `max` are counts and `min <= max`. */
  range(): void;
}

/** A loop-count sampler of specs `S` (`{ kind, ...keys }`). */
export interface LoopSampler<S extends { readonly kind: string }> {
  /** The spec's `kind`. */
  readonly kind: S["kind"];
  /** Keys a spec must have (besides `kind`). */
  readonly required: readonly string[];
  /** Keys a spec may have. */
  readonly optional: readonly string[];
  /** Range checks of a spec whose keys are present and finite numbers. */
  check(checks: SpecChecks): void;
  /** One step's draw from its own generator. */
  draw(spec: S, rng: Rng): LoopDraw;
  /** `P(total = n)` for `n = 0, 1, ...`, up to the largest count with mass. */
  pmf(spec: S): number[];
  /** `E[N]` in closed form, where there is one (else the pmf's mean is used). */
  mean?(spec: S): number | undefined;
  /** One line for logs, given the text of `E[N]`. */
  describe(spec: S, mean: string): string;
  /** The spec a run's flat config keys ask for. */
  fromKeys(keys: LoopKeys): S;
}

/** `x` clipped to `[lo, hi]`. */
export function clip(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi);
}

/** `pmf` without its trailing zeros (element 0 kept). */
export function trimZeros(pmf: number[]): number[] {
  let top = pmf.length - 1;
  while (top > 0 && pmf[top] === 0) top--;
  return pmf.slice(0, top + 1);
}

/** A draw whose every loop gets gradient. */
export function withGradDraw(total: number): LoopDraw {
  return { total, noGrad: 0, withGrad: total };
}

/** A pmf with all its mass on `n`. */
export function pointMass(n: number): number[] {
  const pmf = new Array<number>(n + 1).fill(0);
  pmf[n] = 1;
  return pmf;
}
