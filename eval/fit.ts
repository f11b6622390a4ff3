/**
 * Whether a test problem fits the model that is to answer it: operands with
 * no more digits than the task was trained on, every character in the
 * vocabulary, and prompt plus answer plus EOS within the model's sequence
 * length. Greedy decoding is capped at `seqLen + 1 - promptLen` tokens, so
 * a problem that does not fit would be scored wrong however good the
 * model; callers stop on it (or skip it and say so) instead.
 *
 * @module
 */
import type { Op, Problem } from "../tasks/arithmetic.ts";
import type { Task, TextProblem } from "../tasks/task.ts";

/** What the model was trained on, beyond its task's tokenizer and `seqLen`. */
export interface FitLimits {
  /** Digits per operand of an arithmetic task. */
  digits?: number;
  /** The arithmetic operation. */
  op?: Op;
}

/** A problem that does not fit, with where it came from. */
export interface Unfit {
  /** 1-based line in its file (0 when not from a file). */
  line: number;
  /** Why it does not fit, naming the limit. */
  reason: string;
}

function isArithmetic(p: TextProblem): p is Problem {
  const q = p as Partial<Problem>;
  return typeof q.a === "number" && typeof q.b === "number" && typeof q.op === "string";
}

/**
 * Why `problem` cannot be answered by a model of `task` (naming the limit),
 * or undefined when it fits.
 *
 * @example
 * ```ts
 * import { arithmeticTask, makeProblem } from "../mod.ts";
 * import { unfitReason } from "./fit.ts";
 * const task = arithmeticTask({ digits: 2 });
 * unfitReason(task, makeProblem(12, 34), { digits: 2 }); // undefined
 * unfitReason(task, makeProblem(123, 4), { digits: 2 }); // "operand 123 has 3 digits, ..."
 * ```
 */
export function unfitReason(
  task: Task,
  problem: TextProblem,
  limits: FitLimits = {},
): string | undefined {
  if (isArithmetic(problem)) {
    if (limits.op !== undefined && problem.op !== limits.op) {
      return `a "${problem.op}" problem, but the model was trained on "${limits.op}"`;
    }
    for (const x of [problem.a, problem.b]) {
      const n = String(x).length;
      if (limits.digits !== undefined && n > limits.digits) {
        return `operand ${x} has ${n} digits, more than the ${limits.digits} the model was trained on`;
      }
    }
  }
  let ids: number[];
  try {
    ids = task.tokenizer.encode(problem.prompt + problem.target);
  } catch (e) {
    return `${(e as Error).message}`;
  }
  if (ids.length > task.seqLen) {
    return `prompt and answer need ${ids.length} positions, more than the model's ` +
      `max_seq_len ${task.seqLen} (task ${task.name})`;
  }
  return undefined;
}
