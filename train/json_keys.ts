/**
 * Duplicate keys in JSON text. `JSON.parse` keeps the last of two equal keys
 * without a word, so a file that names a tensor twice would load whichever
 * came last; the checkpoint readers refuse such files instead.
 *
 * @module
 */

/**
 * The first key that appears twice in one object of `text` (which must
 * already be valid JSON), as a path like `a.b`, or `null` when none does.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { duplicateKey } from "./json_keys.ts";
 * assertEquals(duplicateKey('{"a": 1, "b": {"c": 2, "c": 3}}'), "b.c");
 * ```
 */
export function duplicateKey(text: string): string | null {
  // One frame per open object or array; an object's frame records its keys.
  const stack: { keys: Set<string> | null; expectKey: boolean; key: string }[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    const top = stack[stack.length - 1];
    if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) {
          return [...stack.slice(0, -1).map((f) => f.key).filter((k) => k), key].join(".");
        }
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = j;
    } else if (ch === "{" || ch === "[") {
      stack.push({ keys: ch === "{" ? new Set() : null, expectKey: ch === "{", key: "" });
    } else if (ch === "}" || ch === "]") {
      stack.pop();
    } else if (ch === "," && top?.keys) {
      top.expectKey = true;
    }
  }
  return null;
}
