/**
 * n-digit addition or multiplication as a {@linkcode Task}.
 *
 * @module
 */
import { isCorrect, type Op, type Problem } from "./arithmetic.ts";
import { maxSeqLen } from "./batch.ts";
import { generateProblems } from "./generate.ts";
import type { Task } from "./task.ts";
import { ARITHMETIC_TOKENIZER, MULTIPLICATION_TOKENIZER } from "./tokenizer.ts";

/** Options of {@linkcode arithmeticTask}. */
export interface ArithmeticTaskOptions {
  /** Digits per operand. */
  readonly digits: number;
  /** `+` (default) or `*`. */
  readonly op?: Op;
  /** Answer digits reversed, as the paper does (default true). */
  readonly reverse?: boolean;
}

/**
 * The arithmetic task: the paper's format, train and test splits disjoint by
 * operand pair.
 *
 * @example
 * ```ts
 * import { arithmeticTask } from "./arithmetic_task.ts";
 * const task = arithmeticTask({ digits: 4 });
 * task.seqLen; // 16
 * task.sample("train", 1, 2).map((p) => p.prompt); // e.g. ["3912+5071=", ...]
 * ```
 */
export function arithmeticTask(options: ArithmeticTaskOptions): Task<Problem> {
  const op = options.op ?? "+";
  const reverse = options.reverse ?? true;
  const { digits } = options;
  const tokenizer = op === "*" ? MULTIPLICATION_TOKENIZER : ARITHMETIC_TOKENIZER;
  const probe = generateProblems({ digits, count: 1, seed: 0, split: "train", op });
  return {
    name: `${op === "*" ? "multiplication" : "addition"}-${digits}`,
    tokenizer,
    seqLen: maxSeqLen(probe[0]),
    sample: (split, seed, count, unique = false) =>
      generateProblems({ digits, count, seed, split, op, reverse, unique }),
    isCorrect,
  };
}
