/**
 * The JSON-lines formats of math problem files and the parsing of one line:
 * GSM8K (`question`, `answer` ending in `#### N`), MATH / MATH500
 * (`problem`, `solution` with `\boxed{...}`, optional `answer`) and a
 * generic `{prompt, answer}` form.
 *
 * @module
 */
import { parseJsonObjectLine } from "../jsonl.ts";
import { extractBoxed, extractHashAnswer } from "./answer.ts";

/** The file formats understood by the loaders. */
export const MATH_FORMATS = ["gsm8k", "math", "prompt_answer"] as const;

/** One of {@linkcode MATH_FORMATS}. */
export type MathFormat = typeof MATH_FORMATS[number];

/** A problem read from a file, before any prompt formatting. */
export interface MathItem {
  /** The format the line was read as. */
  readonly format: MathFormat;
  /** The question text (`question`, `problem` or `prompt`). */
  readonly question: string;
  /** The worked solution (GSM8K's lines before `####`, MATH's `solution`; "" for the generic form). */
  readonly solution: string;
  /** The final answer as written in the file (not normalised). */
  readonly answer: string;
  /** 1-based line number in the file. */
  readonly line: number;
}

/** A malformed line: where and why. */
export class MathFormatError extends Error {
  /** Creates an error naming `file:line`. */
  constructor(readonly file: string, readonly line: number, readonly reason: string) {
    super(`${file}:${line}: ${reason}`);
    this.name = "MathFormatError";
  }
}

/** The format a JSON object's fields suggest, or `undefined`. */
export function detectFormat(record: Record<string, unknown>): MathFormat | undefined {
  if ("problem" in record && "solution" in record) return "math";
  if ("question" in record && "answer" in record) return "gsm8k";
  if ("prompt" in record && "answer" in record) return "prompt_answer";
  return undefined;
}

function text(rec: Record<string, unknown>, key: string, at: (why: string) => never): string {
  if (!(key in rec)) at(`missing field "${key}"`);
  const v = rec[key];
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v !== "string") at(`field "${key}" must be a string, got ${JSON.stringify(v)}`);
  if ((v as string).trim() === "") at(`field "${key}" is empty`);
  return v as string;
}

/**
 * Parses one non-blank line as `format` (or, with `"auto"`, the format its
 * fields suggest). Throws {@linkcode MathFormatError} naming `file:line`.
 */
export function parseMathLine(
  raw: string,
  file: string,
  line: number,
  format: MathFormat | "auto" = "auto",
): MathItem {
  const at = (why: string): never => {
    throw new MathFormatError(file, line, why);
  };
  const rec = parseJsonObjectLine(raw, at);
  const fmt = format === "auto" ? detectFormat(rec) : format;
  if (fmt === undefined) {
    at(
      `cannot tell the format from fields ${JSON.stringify(Object.keys(rec))} ` +
        `(expected question+answer, problem+solution or prompt+answer)`,
    );
  }
  switch (fmt!) {
    case "gsm8k": {
      const question = text(rec, "question", at);
      const full = text(rec, "answer", at);
      const answer = extractHashAnswer(full);
      if (answer === undefined) at(`field "answer" has no final "#### <number>" line`);
      const solution = full.slice(0, full.lastIndexOf("####")).trim();
      return { format: "gsm8k", question, solution, answer: answer!, line };
    }
    case "math": {
      const question = text(rec, "problem", at);
      const solution = text(rec, "solution", at);
      const answer = "answer" in rec ? text(rec, "answer", at) : extractBoxed(solution);
      if (answer === undefined) at(`field "solution" has no \\boxed{...} answer`);
      return { format: "math", question, solution, answer: answer!, line };
    }
    case "prompt_answer": {
      const question = text(rec, "prompt", at);
      const answer = text(rec, "answer", at);
      return { format: "prompt_answer", question, solution: "", answer, line };
    }
  }
}
