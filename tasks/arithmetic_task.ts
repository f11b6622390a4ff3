/**
 * n-digit addition or multiplication as a {@linkcode Task}.
 *
 * @module
 */
import type { Op, Problem } from "./arithmetic.ts";
import { generateProblems } from "./generate.ts";
import { parseArithmeticJsonl } from "./paper_data.ts";
import { exactTargetMatch, type FileProblem, type Task } from "./task.ts";
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
 * The row length (in the task's batches) a problem of this shape can need: its prompt, a space,
 * the most result digits its operands' digit counts allow, and EOS, less
 * one (inputs and targets are shifted by one). 16 for 4-digit addition.
 */
export function maxSeqLen(problem: Problem): number {
  const da = String(problem.a).length;
  const db = String(problem.b).length;
  const most = problem.op === "+" ? Math.max(da, db) + 1 : da + db;
  return problem.prompt.length + most + 1;
}

/**
 * The arithmetic task: the paper's format, train and test splits disjoint by
 * operand pair. It reads the paper's test files (addition, formatted with
 * the task's `reverse`), and a problem with longer operands or another
 * operation than it trains on is outside it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { arithmeticTask } from "@stars/toolkit";
 * const task = arithmeticTask({ digits: 4 });
 * assertEquals(task.seqLen, 16);
 * const prompts = task.sample("train", 1, 2).map((p) => p.prompt);
 * assertEquals(prompts, ["2799+9839=", "7215+1598="]);
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
    // The same as `isCorrect`: the target is " " + the answer's digits (reversed
    // or not), and any other text parses to another answer or to none.
    isCorrect: exactTargetMatch,
    parseTestFile: (text, file) => withLines(text, parseArithmeticJsonl(text, file, { reverse })),
    unfit: (p) => {
      if (p.op !== op) return `a "${p.op}" problem, but the model was trained on "${op}"`;
      for (const x of [p.a, p.b]) {
        const n = String(x).length;
        if (n > digits) {
          return `operand ${x} has ${n} digits, more than the ${digits} the model was trained on`;
        }
      }
      return undefined;
    },
  };
}

// Each problem with its line: the file's non-blank lines, in order.
function withLines(text: string, problems: Problem[]): FileProblem<Problem>[] {
  const lines = text.split(/\r?\n/).flatMap((raw, i) => raw.trim() === "" ? [] : [i + 1]);
  return problems.map((problem, k) => ({ line: lines[k], problem }));
}
