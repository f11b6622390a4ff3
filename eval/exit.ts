/**
 * Adaptive-exit criteria (Huginn's, Geiping et al. 2025): per generated
 * token, stop looping when successive loops agree. Pure functions over one
 * row's trajectory of next-token log-probabilities and latent states.
 *
 * A criterion is checked after every loop `t >= 1` and exits at the first
 * `t` where it fires; a rule fires when any of its criteria does, and every
 * rule stops at a cap (the largest loop count computed) if nothing fired.
 *
 * | criterion | fires at loop t when | earliest t |
 * | --- | --- | --- |
 * | `kl:x` | `KL(p_{t-1} \|\| p_t) < x` | 2 |
 * | `delta:x` | `\|\|h_t - h_{t-1}\|\| / \|\|h_t\|\| < x` | 1 |
 * | `entropy:x` | `\|H(p_t) - H(p_{t-1})\| < x` | 2 |
 * | `argmax:m` | `argmax p_s` equal for all s in `t-m .. t` (unchanged for m loops) | m + 1 |
 * | `max:n` | `t = n` | n |
 *
 * @module
 */
import { argmax, entropy, klDivergence, relativeChange } from "./distribution.ts";

/** One exit criterion. */
export type ExitCriterion =
  | { kind: "kl"; threshold: number }
  | { kind: "delta"; threshold: number }
  | { kind: "entropy"; threshold: number }
  | { kind: "argmax"; loops: number }
  | { kind: "max"; loops: number };

/** Criteria combined by "or": exit at the first loop where any fires. */
export type ExitRule = readonly ExitCriterion[];

/** The criterion names, as written on the command line. */
export const EXIT_KINDS = ["kl", "delta", "entropy", "argmax", "max"] as const;

/** One row's view after `t` loops of one token. */
export interface LoopPoint {
  /** Next-token log-probabilities read out from h_t (absent for t = 0). */
  logProbs?: ArrayLike<number>;
  /** The latent state h_t at the predicting position (needed by `delta`). */
  state?: ArrayLike<number>;
}

function need<T>(value: T | undefined, what: string, t: number): T {
  if (value === undefined) throw new RangeError(`exit: ${what} missing at loop ${t}`);
  return value;
}

/**
 * Whether `criterion` fires after loop `t` (>= 1) of `trajectory`, where
 * `trajectory[s]` is the view after s loops (s = 0 is h_0).
 */
export function criterionFires(
  criterion: ExitCriterion,
  trajectory: readonly LoopPoint[],
  t: number,
): boolean {
  const probs = (s: number) => need(trajectory[s]?.logProbs, "log-probabilities", s);
  switch (criterion.kind) {
    case "kl":
      return t >= 2 && klDivergence(probs(t - 1), probs(t)) < criterion.threshold;
    case "entropy":
      return t >= 2 && Math.abs(entropy(probs(t)) - entropy(probs(t - 1))) < criterion.threshold;
    case "delta": {
      const now = need(trajectory[t]?.state, "state", t);
      const before = need(trajectory[t - 1]?.state, "state", t - 1);
      return relativeChange(now, before) < criterion.threshold;
    }
    case "argmax": {
      const m = criterion.loops;
      if (t - m < 1) return false;
      const top = argmax(probs(t));
      for (let s = t - m; s < t; s++) if (argmax(probs(s)) !== top) return false;
      return true;
    }
    case "max":
      return t >= criterion.loops;
  }
}

/**
 * The loop at which `rule` exits on `trajectory` (views after 0..L loops):
 * the first `t` in `1 .. cap` where any criterion fires, else `cap`
 * (default L, the last loop computed).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { exitLoop } from "@stars/toolkit/eval";
 * const p = (a: number) => ({ logProbs: [Math.log(a), Math.log(1 - a)] });
 * assertEquals(exitLoop([{ kind: "argmax", loops: 2 }], [{}, p(0.4), p(0.6), p(0.7), p(0.8)]), 4);
 * ```
 */
export function exitLoop(
  rule: ExitRule,
  trajectory: readonly LoopPoint[],
  cap = trajectory.length - 1,
): number {
  if (!Number.isInteger(cap) || cap < 1 || cap > trajectory.length - 1) {
    throw new RangeError(`exit: cap must be in 1..${trajectory.length - 1}, got ${cap}`);
  }
  for (let t = 1; t < cap; t++) {
    if (rule.some((c) => criterionFires(c, trajectory, t))) return t;
  }
  return cap;
}

/** Whether a rule needs latent states (the `delta` criterion does). */
export function ruleNeedsStates(rule: ExitRule): boolean {
  return rule.some((c) => c.kind === "delta");
}

/**
 * Parses a rule written as criteria joined by `+` (any of them), e.g.
 * `kl:1e-3`, `delta:0.03+max:32`, `argmax:5`. Throws a RangeError naming
 * what is wrong.
 */
export function parseExitRule(text: string): ExitRule {
  const parts = text.split("+").map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => p === "")) {
    throw new RangeError(`exit: empty criterion in "${text}"`);
  }
  return parts.map((part): ExitCriterion => {
    const m = /^([a-z]+):(.+)$/.exec(part);
    const kind = m?.[1];
    if (!m || !(EXIT_KINDS as readonly string[]).includes(kind!)) {
      throw new RangeError(
        `exit: unknown criterion "${part}"; write kind:value with kind one of ${
          EXIT_KINDS.join(", ")
        } (e.g. kl:1e-3, delta:0.03, entropy:1e-3, argmax:5, max:32)`,
      );
    }
    const value = Number(m[2]);
    if (kind === "argmax" || kind === "max") {
      if (!/^\d+$/.test(m[2]) || value < 1) {
        throw new RangeError(`exit: ${kind} needs an integer >= 1, got "${m[2]}"`);
      }
      return { kind, loops: value };
    }
    if (!Number.isFinite(value) || value <= 0 || m[2].trim() === "") {
      throw new RangeError(`exit: ${kind} needs a threshold > 0, got "${m[2]}"`);
    }
    return { kind: kind as "kl" | "delta" | "entropy", threshold: value };
  });
}

/** A rule written back as text, e.g. `kl:0.001+max:32`. */
export function formatExitRule(rule: ExitRule): string {
  return rule.map((c) => `${c.kind}:${"threshold" in c ? c.threshold : c.loops}`).join("+");
}
