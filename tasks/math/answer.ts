/**
 * Final-answer extraction and exact-match checking for math word problems,
 * following what common evaluation harnesses do (GSM8K's `#### N` line,
 * MATH's last `\boxed{...}`, Hendrycks-style string normalisation), with
 * numbers compared exactly as rationals (so `0.75` equals `3/4`).
 *
 * @module
 */

/**
 * The text after the last `####` marker of a GSM8K-style solution, trimmed;
 * `undefined` when there is no marker or nothing follows it.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { extractHashAnswer } from "@stars/toolkit/tasks";
 * assertEquals(extractHashAnswer("48 / 2 = 24\n#### 72"), "72");
 * ```
 */
export function extractHashAnswer(text: string): string | undefined {
  const at = text.lastIndexOf("####");
  if (at < 0) return undefined;
  const rest = text.slice(at + 4).trim();
  return rest === "" ? undefined : rest;
}

/**
 * The content of the last `\boxed{...}` (or `\fbox{...}`) in `text`, with
 * nested braces matched; also accepts the brace-less `\boxed 5` form.
 * `undefined` when there is none or its braces never close.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { extractBoxed } from "@stars/toolkit/tasks";
 * assertEquals(extractBoxed("so \\boxed{1} or rather \\boxed{\\frac{1}{2}}"), "\\frac{1}{2}");
 * ```
 */
export function extractBoxed(text: string): string | undefined {
  const re = /\\(?:boxed|fbox)\b/g;
  let last = -1, m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) last = m.index + m[0].length;
  if (last < 0) return undefined;
  let i = last;
  while (text[i] === " ") i++;
  if (text[i] !== "{") {
    // `\boxed 5`: up to the next `$` or end of line.
    const m2 = /^[^$\n]+/.exec(text.slice(i));
    const v = m2?.[0].trim();
    return v ? v : undefined;
  }
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    if (text[j] === "\\" && j + 1 < text.length) {
      j++; // an escaped character (e.g. `\{`) never opens or closes
      continue;
    }
    if (text[j] === "{") depth++;
    else if (text[j] === "}" && --depth === 0) return text.slice(i + 1, j);
  }
  return undefined;
}

/**
 * The final answer a piece of model or reference output states: after the
 * last `####` if there is one, else the last `\boxed{}`, else the whole
 * text (trimmed).
 */
export function extractFinalAnswer(text: string): string {
  return extractHashAnswer(text) ?? extractBoxed(text) ?? text.trim();
}

// Replaces every `\cmd{...}` (balanced braces) by what `f` makes of its content.
function mapCommand(s: string, cmd: string, f: (inner: string) => string): string {
  const open = `\\${cmd}{`;
  let out = "", i = 0;
  for (;;) {
    const at = s.indexOf(open, i);
    if (at < 0) return out + s.slice(i);
    let depth = 0, end = -1;
    for (let j = at + open.length - 1; j < s.length; j++) {
      if (s[j] === "{") depth++;
      else if (s[j] === "}" && --depth === 0) {
        end = j;
        break;
      }
    }
    if (end < 0) return out + s.slice(i);
    out += s.slice(i, at) + f(s.slice(at + open.length, end));
    i = end + 1;
  }
}

// `\frac{a}{b}`, `\frac12`, `\frac1{b}` with numeric parts -> "a/b" when that
// is the whole string (with an optional sign); anything else is left as is.
function fracToSlash(s: string): string {
  const m = /^([+-]?)\\frac(?:\{([^{}]+)\}|(\d))(?:\{([^{}]+)\}|(\d))$/.exec(s);
  if (!m) return s;
  const num = m[2] ?? m[3], den = m[4] ?? m[5];
  if (!isPlainNumber(num) || !isPlainNumber(den)) return s;
  return `${m[1]}${num}/${den}`;
}

const PLAIN_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)$/;
const THOUSANDS = /^([+-]?)(\d{1,3}(?:,\d{3})+)(\.\d+)?$/;

function isPlainNumber(s: string): boolean {
  return PLAIN_NUMBER.test(s);
}

/** An exact rational `num / den` with `den > 0`, in lowest terms. */
interface Rational {
  readonly num: bigint;
  readonly den: bigint;
}

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b) [a, b] = [b, a % b];
  return a;
}

function rational(num: bigint, den: bigint): Rational | undefined {
  if (den === 0n) return undefined;
  if (den < 0n) [num, den] = [-num, -den];
  const g = gcd(num, den) || 1n;
  return { num: num / g, den: den / g };
}

function decimalToRational(s: string): Rational | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[2] === "" && !m[3])) return undefined;
  const frac = m[3] ?? "";
  const num = BigInt((m[2] || "0") + frac) * (m[1] === "-" ? -1n : 1n);
  return rational(num, 10n ** BigInt(frac.length));
}

/**
 * The exact value of a normalised answer that is a plain number or a
 * simple fraction `a/b` of plain numbers; `undefined` otherwise.
 */
export function numericValue(normalized: string): { num: bigint; den: bigint } | undefined {
  const parts = normalized.split("/");
  if (parts.length === 1) return isPlainNumber(parts[0]) ? decimalToRational(parts[0]) : undefined;
  if (parts.length !== 2 || !isPlainNumber(parts[0]) || !isPlainNumber(parts[1])) return undefined;
  const a = decimalToRational(parts[0]), b = decimalToRational(parts[1]);
  if (!a || !b || b.num === 0n) return undefined;
  return rational(a.num * b.den, a.den * b.num);
}

// Canonical text of a plain number: no sign on zero, no "+", no leading or
// trailing zeros ("007" -> "7", "3.50" -> "3.5", "5.0" -> "5", ".5" -> "0.5").
function canonicalNumber(s: string): string {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(s)!;
  const int = (m[2] ?? "").replace(/^0+(?=\d)/, "") || "0";
  const frac = (m[3] ?? "").replace(/0+$/, "");
  const body = frac ? `${int}.${frac}` : int;
  return m[1] === "-" && /[1-9]/.test(body) ? `-${body}` : body;
}

/**
 * Normalises an answer string for exact matching. In order:
 * - `\boxed{x}` / `\fbox{x}` -> `x`; `\text{x}`, `\textbf{x}`, `\mathrm{x}`,
 *   `\mbox{x}` -> `x`; `\left`, `\right`, `\!`, `\,`, `\;`, `\:` removed;
 *   `\dfrac` / `\tfrac` -> `\frac`;
 * - surrounding `$...$` removed, `\$`, `$`, `€`, `£`, `¥` removed (currency signs);
 * - `^\circ`, `^{\circ}`, `°`, `\%`, `%` removed (so "50%" is "50");
 * - a leading `x =` (one-letter variable) removed; a trailing period removed;
 * - a number followed only by words loses the words ("5 apples" -> "5",
 *   "10 cm" -> "10");
 * - thousands separators removed ("1,000" and `1{,}000` -> "1000");
 * - all spaces removed;
 * - a plain number is written canonically ("+5" -> "5", "-0" -> "0",
 *   "3.50" -> "3.5", "5.0" -> "5", "007" -> "7"); a whole-string numeric
 *   `\frac{a}{b}` becomes "a/b" and a fraction "a/b" of plain numbers is
 *   reduced to lowest terms ("6/8" -> "3/4", "4/2" -> "2").
 *
 * Anything else (expressions, intervals, words) is compared as the string
 * left after these rules.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { normalizeAnswer } from "@stars/toolkit/tasks";
 * assertEquals(normalizeAnswer("$1,000.50"), "1000.5");
 * assertEquals(normalizeAnswer("\\dfrac{6}{8}"), "3/4");
 * ```
 */
export function normalizeAnswer(answer: string): string {
  let s = answer.trim();
  for (const cmd of ["boxed", "fbox", "text", "textbf", "mathrm", "mbox"]) {
    s = mapCommand(s, cmd, (inner) => inner);
  }
  s = s.replace(/\\(?:left|right)(?![a-zA-Z])/g, "")
    .replace(/\\[!,;:]/g, " ")
    .replace(/\\[dt]frac/g, "\\frac")
    .replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|°/g, "")
    .replace(/\\?%/g, "")
    .replace(/\\?\$|[€£¥]/g, "")
    .replace(/\{,\}/g, ",")
    .trim();
  s = s.replace(/^[a-zA-Z]\s*=\s*(?=\S)/, "").replace(/\.$/, "").trim();
  // "5 apples", "1,000 dollars", "3.5 cm": keep the number.
  const unit = /^([+-]?[\d.,]*\d[\d.,]*)\s+[a-zA-Z][a-zA-Z\s.'-]*$/.exec(s);
  if (unit) s = unit[1];
  s = s.replace(/\s+/g, "");
  const th = THOUSANDS.exec(s);
  if (th) s = th[1] + th[2].replace(/,/g, "") + (th[3] ?? "");
  s = fracToSlash(s);
  if (isPlainNumber(s)) return canonicalNumber(s);
  const parts = s.split("/");
  if (parts.length === 2 && isPlainNumber(parts[0]) && isPlainNumber(parts[1])) {
    const v = numericValue(s);
    if (v && /^[+-]?\d+$/.test(parts[0]) && /^[+-]?\d+$/.test(parts[1])) {
      return v.den === 1n ? String(v.num) : `${v.num}/${v.den}`;
    }
    return `${canonicalNumber(parts[0])}/${canonicalNumber(parts[1])}`;
  }
  return s;
}

/**
 * Exact match of two answers after {@linkcode normalizeAnswer}: equal
 * strings, or, when both are numbers or simple fractions, equal values
 * (`0.75` matches `3/4`, `2.50` matches `5/2`).
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { answersMatch } from "@stars/toolkit/tasks";
 * assert(answersMatch("$1,000", "1000"));
 * assert(answersMatch("0.75", "\\frac{3}{4}"));
 * ```
 */
export function answersMatch(predicted: string, reference: string): boolean {
  const a = normalizeAnswer(predicted), b = normalizeAnswer(reference);
  if (a === b) return a !== "";
  const x = numericValue(a), y = numericValue(b);
  return !!x && !!y && x.num === y.num && x.den === y.den;
}
