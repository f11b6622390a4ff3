/**
 * Loop-count flags of `eval` and `analyze`: `--loops` lists and `--exit`
 * rules, checked into usage errors.
 *
 * @module
 */
import { type ExitRule, parseExitRule } from "../eval/exit.ts";
import { listFlag } from "./flags.ts";
import { UsageError } from "./usage_error.ts";

/** The most loops an evaluation runs per token (as the config's `loops`). */
export const MAX_EVAL_LOOPS = 10000;

/** Parses a comma-separated list of loop counts (integers 0 to {@linkcode MAX_EVAL_LOOPS}). */
export function parseLoopList(text: string): number[] {
  if (text.split(",").every((s) => s.trim() === "")) {
    throw new UsageError("--loops: give at least one loop count, e.g. 1,2,4,8");
  }
  return listFlag("loops", text).map((s) => {
    const n = Number(s);
    if (!/^\d+$/.test(s) || !Number.isSafeInteger(n)) {
      throw new UsageError(
        `--loops: "${s}" is not a loop count (plain decimal integers >= 0, comma-separated)`,
      );
    }
    if (n > MAX_EVAL_LOOPS) {
      throw new UsageError(`--loops: ${s} is more than ${MAX_EVAL_LOOPS} loops per token`);
    }
    return n;
  });
}

/** Parses `--exit`: comma-separated rules, each criteria joined by `+`. */
export function parseExitRules(text: string | undefined): { text: string; rule: ExitRule }[] {
  if (text === undefined) return [];
  const items = text.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) throw new UsageError(`--exit: empty rule in "${text}"`);
  return items.map((item) => {
    try {
      return { text: item, rule: parseExitRule(item) };
    } catch (e) {
      throw new UsageError(`--${(e as Error).message}`);
    }
  });
}
