/**
 * Compact charts for the terminal: a unicode sparkline, and one bar per
 * row (accuracy per depth).
 *
 * @module
 */

const SPARKS = "▁▂▃▄▅▆▇█";
const EIGHTHS = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/**
 * A one-line sparkline of `values` (null or non-finite: a space), scaled
 * between `min` and `max` (default: the data's range).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { sparkline } from "@stars/toolkit/plots";
 * assertEquals(sparkline([0, 0.5, 1]), "▁▅█");
 * ```
 */
export function sparkline(values: readonly (number | null)[], min?: number, max?: number): string {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = min ?? Math.min(...finite), hi = max ?? Math.max(...finite);
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return " ";
    const k = hi > lo ? Math.round((v - lo) / (hi - lo) * (SPARKS.length - 1)) : 0;
    return SPARKS[Math.max(0, Math.min(SPARKS.length - 1, k))];
  }).join("");
}

/**
 * A horizontal bar of `fraction` (0..1) of `width` cells, in eighths.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { bar } from "@stars/toolkit/plots";
 * assertEquals(bar(0.5, 10), "█████");
 * ```
 */
export function bar(fraction: number, width: number): string {
  const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  const eighths = Math.round(f * width * 8);
  return "█".repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8];
}
