/**
 * The penalty registry: each kind of Jacobian penalty a run's `reg_kind`
 * names, with how it is built from the `reg_*` keys and how many extra loop
 * evaluations a step spends on it (for the memory estimate).
 * {@linkcode registerPenalty} adds one.
 *
 * @module
 */
import { hutchinsonPenalty, jacobianPenalty, type PenaltyCompute } from "./jacobian_penalty.ts";
import type { PenaltyOptions } from "./penalty_options.ts";

/** A penalty kind of the registry. */
export interface PenaltyKind {
  /** Its `reg_kind` name. */
  readonly kind: string;
  /** One line for `--help` and logs. */
  readonly description: string;
  /** The compute function for validated options. */
  build(options: PenaltyOptions): PenaltyCompute;
  /** Loop evaluations a step adds for it (each a JVP or VJP through the loop). */
  evaluations(options: PenaltyOptions): number;
}

const KINDS = new Map<string, PenaltyKind>();
const NAMES: string[] = [];

/** The registered kinds' names (the built-ins `spectral` and `hutchinson` first). */
export const PENALTY_KINDS: readonly string[] = NAMES;

/** Adds a penalty kind (its name must be new); a run's `reg_kind` then accepts it. */
export function registerPenalty(kind: PenaltyKind): void {
  if (KINDS.has(kind.kind)) throw new Error(`penalty "${kind.kind}" is already registered`);
  KINDS.set(kind.kind, kind);
  NAMES.push(kind.kind);
}

/** The registered kind `name`, or a `RangeError` listing the kinds. */
export function penaltyKind(name: string): PenaltyKind {
  const kind = KINDS.get(name);
  if (!kind) {
    throw new RangeError(
      `reg_kind must be one of ${NAMES.join(", ")}, got ${JSON.stringify(name)}`,
    );
  }
  return kind;
}

registerPenalty({
  kind: "spectral",
  description: "STARS: K power-iteration steps on J, tends to rho(J)^2",
  build: (o) => jacobianPenalty({ iters: o.reg_iters, mode: o.reg_mode, eps: o.reg_eps }),
  evaluations: (o) => 2 * o.reg_iters + 1,
});

registerPenalty({
  kind: "hutchinson",
  description: "DEQ: Hutchinson's estimate of ||J||_F^2 / D",
  build: (o) =>
    hutchinsonPenalty({ samples: o.reg_samples ?? 1, probe: o.reg_probe, eps: o.reg_eps }),
  evaluations: (o) => 2 * (o.reg_samples ?? 1) + 1,
});
