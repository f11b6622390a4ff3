/**
 * One line of a JSON-lines file as an object, or a failure naming what is
 * wrong (the caller's `fail` adds the file and line).
 *
 * @module
 */

/** Parses `raw` as one JSON object; anything else goes to `fail`. */
export function parseJsonObjectLine(
  raw: string,
  fail: (why: string) => never,
): Record<string, unknown> {
  let obj: unknown;
  try {
    obj = JSON.parse(raw);
  } catch (e) {
    fail(`bad JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    fail("line is not a JSON object");
  }
  return obj as Record<string, unknown>;
}
