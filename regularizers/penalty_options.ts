/**
 * The run-configuration keys of the Jacobian penalty (`reg_*`), their
 * validation, and the penalty they select.
 *
 * @module
 */
import {
  checkKey,
  choiceKey,
  intKey,
  type KeySpec,
  type KeyTable,
  numKey,
} from "../utils/config_keys.ts";
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

/** {@linkcode PenaltyOptions} with the run config's defaults (penalty off), ranges and help. */
export const PENALTY_KEYS: KeyTable<Required<PenaltyOptions>> = {
  reg_weight: numKey(0, "penalty weight lambda (0 = off)", 0, 1),
  reg_kind: choiceKey("spectral", "penalty", REG_KINDS as readonly RegKind[]),
  reg_iters: intKey(1, "power-iteration steps K", 1, 1000),
  reg_mode: choiceKey("jvp", "Jacobian products J v or J^T v", POWER_MODES),
  reg_warmup: intKey(0, "steps before the penalty starts", 0, 1e9),
  reg_samples: intKey(1, "Hutchinson probe vectors", 1, 1000),
  reg_probe: choiceKey("gaussian", "Hutchinson probe distribution", PROBES),
  reg_eps: numKey(0.1, "finite-difference step of J v (0.1 to 0.3 is accurate)", 0, 10, true),
};

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

/**
 * Checks the `reg_*` keys that are present against {@linkcode PENALTY_KEYS}
 * (the run config's own check), throwing a `ConfigError` (an input error)
 * that names the offending key, e.g.
 * `config key "reg_iters" must be an integer >= 1, got 0`.
 *
 * @example
 * ```ts
 * import { assertThrows } from "@std/assert";
 * import { validatePenaltyOptions } from "@stars/toolkit/regularizers";
 * validatePenaltyOptions({ reg_mode: "jvp", reg_iters: 2 }); // ok
 * assertThrows(() => validatePenaltyOptions({ reg_iters: 0 }), Error, "reg_iters");
 * ```
 */
export function validatePenaltyOptions(options: Partial<PenaltyOptions>): void {
  for (const [key, value] of Object.entries(options)) {
    const spec = (PENALTY_KEYS as Record<string, KeySpec>)[key];
    if (spec && value !== undefined) checkKey(key, spec, value);
  }
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
