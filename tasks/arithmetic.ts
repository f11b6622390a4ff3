/**
 * The arithmetic problem format of the paper: the prompt is `"a+b="` and
 * the model emits `" " + reversed(String(a + b))` followed by EOS, least
 * significant digit first.
 *
 * @module
 */

/** The operations supported: addition and multiplication. */
export type Op = "+" | "*";

/** One arithmetic problem and the text a model must produce for it. */
export interface Problem {
  /** First operand. */
  readonly a: number;
  /** Second operand. */
  readonly b: number;
  /** The operation. */
  readonly op: Op;
  /** The prompt, e.g. `"1234+5678="`. */
  readonly prompt: string;
  /** The result in ordinary digit order, e.g. `"6912"`. */
  readonly answer: string;
  /** What the model must emit before EOS, e.g. `" 2196"`. */
  readonly target: string;
  /** Whether `target` holds the answer's digits reversed. */
  readonly reversed: boolean;
}

/** Options of {@linkcode makeProblem}. */
export interface FormatOptions {
  /** Reverse the answer digits in the target (default true, the paper's). */
  readonly reverse?: boolean;
}

/** Reverses a string character by character. */
export function reverseString(s: string): string {
  return [...s].reverse().join("");
}

/** The result of `a op b`; throws if it is not a safe integer. */
export function compute(a: number, b: number, op: Op): number {
  const r = op === "+" ? a + b : a * b;
  if (!Number.isSafeInteger(r)) {
    throw new Error(`${a}${op}${b} is too large for exact arithmetic`);
  }
  return r;
}

/**
 * Builds a problem for non-negative integer operands.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { makeProblem } from "@stars/toolkit/tasks";
 * assertEquals(makeProblem(1234, 5678).target, " 2196"); // 6912, reversed
 * ```
 */
export function makeProblem(
  a: number,
  b: number,
  op: Op = "+",
  options: FormatOptions = {},
): Problem {
  for (const x of [a, b]) {
    if (!Number.isSafeInteger(x) || x < 0) {
      throw new Error(`operand ${x} must be a non-negative integer`);
    }
  }
  if (op !== "+" && op !== "*") throw new Error(`unknown operation "${op}"`);
  const reversed = options.reverse ?? true;
  const answer = String(compute(a, b, op));
  const digits = reversed ? reverseString(answer) : answer;
  return {
    a,
    b,
    op,
    prompt: `${a}${op}${b}=`,
    answer,
    target: " " + digits,
    reversed,
  };
}

/**
 * Reads a decoded model output (the target text, without EOS) back into
 * an answer in ordinary digit order, or `null` if it is not a space
 * followed by one or more digits.
 */
export function parseAnswer(decoded: string, reversed = true): string | null {
  const m = /^ ([0-9]+)$/.exec(decoded);
  if (m === null) return null;
  return reversed ? reverseString(m[1]) : m[1];
}

/**
 * Exact match: whether a decoded output (stopped at EOS) gives the
 * problem's answer, digit for digit (a leading zero counts as wrong).
 */
export function isCorrect(problem: Problem, decoded: string): boolean {
  return parseAnswer(decoded, problem.reversed) === problem.answer;
}
