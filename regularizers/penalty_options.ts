/**
 * The run-configuration keys of the Jacobian penalty (`reg_*`), their
 * validation, and the penalty they select.
 *
 * @module
 */
import type { PenaltyCompute } from "./jacobian_penalty.ts";
import { PENALTY_KINDS, penaltyKind } from "./penalties.ts";
import { type Probe, PROBES } from "./probes.ts";
import { POWER_MODES, type PowerMode } from "./power_penalty.ts";

/**
 * The penalty kinds of the registry (regularizers/penalties.ts): `spectral`
 * (STARS: K power-iteration steps, tends to `rho(J)^2`), `hutchinson` (DEQ:
 * `||J||_F^2 / D`), and any registered since.
 */
export const REG_KINDS: readonly string[] = PENALTY_KINDS;
/** A built-in penalty kind (a registered one is any string of {@linkcode REG_KINDS}). */
export type RegKind = "spectral" | "hutchinson";

/** The `reg_*` keys of a run configuration. */
export interface PenaltyOptions {
  /** lambda in `(1 - lambda) CE + lambda R`, in [0, 1]; 0 disables (STARS: 0.1). */
  reg_weight: number;
  /** Power-iteration steps K, an integer >= 1 (STARS: 1). */
  reg_iters: number;
  /** `jvp` or `vjp` products. */
  reg_mode: PowerMode;
  /** Steps before the penalty is switched on, an integer >= 0. */
  reg_warmup: number;
  /** Which penalty. */
  reg_kind: RegKind;
  /** Central-difference step in state norm, > 0 (default 0.1). */
  reg_eps?: number;
  /** Probes per step of the `hutchinson` kind, an integer >= 1 (default 1). */
  reg_samples?: number;
  /** Probe distribution of the `hutchinson` kind (default `gaussian`). */
  reg_probe?: Probe;
}

/** The paper's settings: lambda 0.1, one JVP power step. */
export const DEFAULT_PENALTY_OPTIONS: PenaltyOptions = {
  reg_weight: 0.1,
  reg_iters: 1,
  reg_mode: "jvp",
  reg_warmup: 0,
  reg_kind: "spectral",
  reg_eps: 0.1,
  reg_samples: 1,
  reg_probe: "gaussian",
};

function oneOf(key: string, value: unknown, allowed: readonly string[]): void {
  if (!allowed.includes(value as string)) {
    throw new RangeError(
      `${key} must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`,
    );
  }
}

function integerAtLeast(key: string, value: unknown, min: number): void {
  if (!Number.isInteger(value) || (value as number) < min) {
    throw new RangeError(`${key} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
}

/**
 * Checks the `reg_*` keys that are present, throwing a `RangeError` whose
 * message starts with the offending key, e.g.
 * `reg_iters must be an integer >= 1, got 0`.
 *
 * @example
 * ```ts
 * import { validatePenaltyOptions } from "@stars/toolkit";
 * validatePenaltyOptions({ reg_mode: "jvp", reg_iters: 2 }); // ok
 * ```
 */
export function validatePenaltyOptions(options: Partial<PenaltyOptions>): void {
  const o = options;
  if (o.reg_weight !== undefined) {
    const w = o.reg_weight;
    if (typeof w !== "number" || !(w >= 0 && w <= 1)) {
      throw new RangeError(`reg_weight must be >= 0 and <= 1, got ${JSON.stringify(w)}`);
    }
  }
  if (o.reg_iters !== undefined) integerAtLeast("reg_iters", o.reg_iters, 1);
  if (o.reg_mode !== undefined) oneOf("reg_mode", o.reg_mode, POWER_MODES);
  if (o.reg_warmup !== undefined) integerAtLeast("reg_warmup", o.reg_warmup, 0);
  if (o.reg_kind !== undefined) oneOf("reg_kind", o.reg_kind, REG_KINDS);
  if (o.reg_eps !== undefined) {
    const e = o.reg_eps;
    if (typeof e !== "number" || !(e > 0) || !Number.isFinite(e)) {
      throw new RangeError(`reg_eps must be a finite number > 0, got ${JSON.stringify(e)}`);
    }
  }
  if (o.reg_samples !== undefined) integerAtLeast("reg_samples", o.reg_samples, 1);
  if (o.reg_probe !== undefined) oneOf("reg_probe", o.reg_probe, PROBES);
}

/**
 * The loop evaluations a step adds for the penalty `options` select.
 */
export function penaltyEvaluations(options: PenaltyOptions): number {
  return penaltyKind(options.reg_kind).evaluations(options);
}

/**
 * The compute function selected by validated options (`reg_kind`), ready
 * for the trainer's `Penalty`; the caller applies `reg_weight` and
 * `reg_warmup` (weight 0 before the warm-up ends).
 */
export function penaltyFromOptions(options: PenaltyOptions): PenaltyCompute {
  validatePenaltyOptions(options);
  return penaltyKind(options.reg_kind).build(options);
}
