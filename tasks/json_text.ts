/**
 * Checks on JSON text that `JSON.parse` lets pass silently: a key given
 * twice in one object (the last value wins) and a number too large for a
 * float64 (it becomes Infinity). Also strips a UTF-8 byte-order mark, which
 * `JSON.parse` reports as an invisible "Unexpected token".
 *
 * @module
 */

/** `text` without a leading byte-order mark (U+FEFF). */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * What is wrong with valid JSON `text` that `JSON.parse` accepts: a
 * duplicate key (`duplicate key "lr"`, nested keys joined by dots) or an
 * overflowing number (`key "lr": 1e400 overflows to Infinity`); undefined
 * when nothing is. Call it on text `JSON.parse` has accepted.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { jsonTextProblem } from "@stars/toolkit/tasks";
 * const problem = jsonTextProblem('{"lr": 1, "lr": 2}');
 * assertEquals(problem, 'duplicate key "lr" (a key may appear once)');
 * assertEquals(jsonTextProblem('{"lr": 1}'), undefined);
 * ```
 */
export function jsonTextProblem(text: string): string | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const str = (): string => {
    const start = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const where = (path: string) => path ? `key "${path}"` : "the value";
  // Returns a problem, or undefined; leaves i after the value.
  const value = (path: string): string | undefined => {
    ws();
    const c = text[i];
    if (c === "{" || c === "[") {
      const object = c === "{";
      i++;
      ws();
      if (text[i] === (object ? "}" : "]")) {
        i++;
        return undefined;
      }
      const keys = new Set<string>();
      for (let n = 0;; n++) {
        let inner = `${path}[${n}]`;
        if (object) {
          ws();
          const key = str();
          inner = path ? `${path}.${key}` : key;
          if (keys.has(key)) return `duplicate key "${inner}" (a key may appear once)`;
          keys.add(key);
          ws();
          i++; // ':'
        }
        const problem = value(inner);
        if (problem) return problem;
        ws();
        if (text[i++] !== ",") return undefined; // '}' or ']'
      }
    }
    if (c === '"') {
      str();
      return undefined;
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m) {
      i += m[0].length;
      return Number.isFinite(Number(m[0]))
        ? undefined
        : `${where(path)}: ${m[0]} is too large (it overflows to Infinity)`;
    }
    i += text.startsWith("null", i) ? 4 : text.startsWith("true", i) ? 4 : 5; // false
    return undefined;
  };
  try {
    return value("");
  } catch (e) {
    if (e instanceof RangeError) return "nested too deeply";
    throw e;
  }
}
