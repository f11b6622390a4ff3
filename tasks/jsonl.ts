/**
 * One line of a JSON-lines file as an object, or a failure naming what is
 * wrong (the caller's `fail` adds the file and line).
 *
 * @module
 */
import { jsonTextProblem, stripBom } from "./json_text.ts";

/**
 * Parses `raw` as one JSON object; anything else goes to `fail`, and so
 * does a key given twice or a number that overflows (see
 * {@linkcode jsonTextProblem}). A leading byte-order mark is dropped.
 */
export function parseJsonObjectLine(
  raw: string,
  fail: (why: string) => never,
): Record<string, unknown> {
  const text = stripBom(raw);
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    fail(`bad JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    fail("line is not a JSON object");
  }
  const problem = jsonTextProblem(text);
  if (problem) fail(problem);
  return obj as Record<string, unknown>;
}
