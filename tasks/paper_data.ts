/**
 * Loader for the paper's addition test files: one JSON object per line,
 * `{"num1": 1750, "num2": 4733, "sum": 6483, "expression": "1750 + 4733",
 * "answer": 6483}`. In the released 4-digit file `answer` is the plain
 * integer sum (not reversed, no space); the model's target is built from
 * the operands with {@linkcode makeProblem}.
 *
 * @module
 */

import { parseJsonObjectLine } from "./jsonl.ts";
import { type FormatOptions, makeProblem, type Problem } from "./arithmetic.ts";

function fail(fileName: string, line: number, what: string): never {
  throw new Error(`${fileName}:${line}: ${what}`);
}

function intField(
  obj: Record<string, unknown>,
  name: string,
  at: (what: string) => never,
): number {
  if (!(name in obj)) at(`missing field "${name}"`);
  const v = obj[name];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    at(
      `field "${name}" must be a non-negative integer, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

/**
 * Parses the text of a paper test file into problems, checking every
 * non-blank line. Errors name `fileName` and the 1-based line number,
 * e.g. `data.jsonl:17: field "sum" must be a non-negative integer, got "x"`.
 */
export function parseArithmeticJsonl(
  text: string,
  fileName: string,
  options: FormatOptions = {},
): Problem[] {
  const out: Problem[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    if (raw.trim() === "") return;
    const at = (what: string): never => fail(fileName, i + 1, what);
    const rec = parseJsonObjectLine(raw, at);
    const num1 = intField(rec, "num1", at);
    const num2 = intField(rec, "num2", at);
    const sum = intField(rec, "sum", at);
    const answer = intField(rec, "answer", at);
    if (!("expression" in rec)) at(`missing field "expression"`);
    const expr = rec.expression;
    if (typeof expr !== "string") at(`field "expression" must be a string`);
    const m = /^\s*(\d+)\s*\+\s*(\d+)\s*$/.exec(expr as string);
    if (m === null || Number(m[1]) !== num1 || Number(m[2]) !== num2) {
      at(
        `expression ${JSON.stringify(expr)} does not match ` +
          `num1 ${num1} + num2 ${num2}`,
      );
    }
    if (sum !== num1 + num2) {
      at(`sum ${sum} != num1 + num2 = ${num1 + num2}`);
    }
    if (answer !== sum) at(`answer ${answer} != sum ${sum}`);
    out.push(makeProblem(num1, num2, "+", options));
  });
  return out;
}

/** Reads and parses a paper test file (see {@linkcode parseArithmeticJsonl}). */
export async function loadArithmeticJsonl(
  path: string | URL,
  options: FormatOptions = {},
): Promise<Problem[]> {
  const name = path instanceof URL && path.protocol === "file:"
    ? decodeURIComponent(path.pathname)
    : String(path);
  const text = await Deno.readTextFile(path);
  return parseArithmeticJsonl(text, name, options);
}
