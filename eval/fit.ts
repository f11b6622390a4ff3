/**
 * Whether a test problem fits the model that is to answer it: within what
 * its task trains on (for arithmetic, the operand digits and the
 * operation), every character in the vocabulary, and prompt plus answer
 * plus EOS within the model's sequence length. Greedy decoding is capped at `seqLen + 1 - promptLen` tokens, so
 * a problem that does not fit would be scored wrong however good the
 * model; callers stop on it (or skip it and say so) instead.
 *
 * @module
 */
import type { Task, TextProblem } from "../tasks/task.ts";

/** A problem that does not fit, with where it came from. */
export interface Unfit {
  /** 1-based line in its file (0 when not from a file). */
  line: number;
  /** Why it does not fit, naming the limit. */
  reason: string;
}

/**
 * Why `problem` cannot be answered by a model of `task` (naming the limit):
 * outside what the task trains on ({@linkcode Task.unfit}), a character
 * outside the vocabulary, or too long for `seqLen`; undefined when it fits.
 *
 * @example
 * ```ts
 * import { assertEquals, assertStringIncludes } from "@std/assert";
 * import { arithmeticTask, makeProblem } from "@stars/toolkit/tasks";
 * import { unfitReason } from "@stars/toolkit/eval";
 * const task = arithmeticTask({ digits: 2 });
 * assertEquals(unfitReason(task, makeProblem(12, 34)), undefined);
 * assertStringIncludes(unfitReason(task, makeProblem(123, 4))!, "operand 123 has 3 digits");
 * ```
 */
export function unfitReason(
  task: Task,
  problem: TextProblem,
): string | undefined {
  const outside = task.unfit?.(problem);
  if (outside !== undefined) return outside;
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
