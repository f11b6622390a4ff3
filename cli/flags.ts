/**
 * Flag parsing on `@std/cli` for every subcommand: unknown, repeated and
 * empty flags are usage errors that say what is allowed; lists and
 * integers are checked the same way everywhere.
 *
 * @module
 */
import { parseArgs } from "@std/cli";
import { UsageError } from "./usage_error.ts";

/** The flags of a subcommand: value flags and boolean switches. */
export interface FlagSet {
  /** Flags that take a value. */
  strings: string[];
  /** Switches. */
  booleans: string[];
  /** Switches that are on unless `--no-NAME` turns them off. */
  negatable?: string[];
  /** Value flags for which an empty value means something (default: none; "" is an error). */
  allowEmpty?: string[];
}

// `--d-model=8` -> `--d_model=8`; `--no-resume` keeps its negation prefix.
function normaliseFlag(arg: string): string {
  if (!arg.startsWith("--") || arg === "--") return arg;
  const [name, ...value] = arg.slice(2).split("=");
  const negated = name.startsWith("no-");
  const key = (negated ? name.slice(3) : name).replaceAll("-", "_");
  return `--${negated ? "no-" : ""}${key}${value.length ? "=" + value.join("=") : ""}`;
}

// `--lr -1` would read "-1" as a flag: join it as `--lr=-1`.
function joinNegativeValues(args: string[], strings: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    if (strings.includes(args[i].slice(2)) && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${args[i]}=${next}`);
      i++;
    } else out.push(args[i]);
  }
  return out;
}

// The flag's key: `--no-resume` -> resume, `--lr=3` -> lr.
function flagKey(arg: string): string {
  const name = arg.slice(2).split("=")[0];
  return name.startsWith("no-") ? name.slice(3) : name;
}

/**
 * Checks the raw (normalised) arguments for what `parseArgs` would hide: a
 * flag given twice (it keeps only the last value) and an empty value
 * (`--out ""`, `--out=`).
 */
function checkRaw(args: string[], flags: FlagSet): void {
  const known = new Set([...flags.strings, ...flags.booleans, ...(flags.negatable ?? [])]);
  const seen = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") break;
    if (!arg.startsWith("--")) continue;
    const key = flagKey(arg);
    if (!known.has(key)) continue; // parseArgs names unknown flags
    const isString = flags.strings.includes(key);
    const inline = arg.includes("=");
    let value: string | undefined;
    if (isString) {
      value = inline ? arg.slice(arg.indexOf("=") + 1) : args[i + 1];
      if (!inline && value !== undefined && !value.startsWith("--")) i++;
      if (value === "" && !flags.allowEmpty?.includes(key)) {
        throw new UsageError(
          `flag --${key} needs a value, got an empty string (${
            inline ? `--${key}=` : `--${key} ""`
          })`,
        );
      }
    }
    const shown = isString && value !== undefined && !value.startsWith("--")
      ? `--${key} ${JSON.stringify(value)}`
      : arg;
    const before = seen.get(key);
    if (before !== undefined) {
      throw new UsageError(
        `flag --${key} given more than once (${before}, then ${shown}); give it once`,
      );
    }
    seen.set(key, shown);
  }
}

/**
 * Parses `args` against a flag set; an unknown flag is a {@linkcode UsageError}
 * listing what is allowed, and so is a flag given twice or an empty value.
 * Hyphens in flag names are read as underscores.
 */
export function parseFlags(args: string[], flags: FlagSet): Record<string, unknown> {
  const normalised = joinNegativeValues(args.map(normaliseFlag), flags.strings);
  checkRaw(normalised, flags);
  const parsed = parseArgs(normalised, {
    string: flags.strings,
    boolean: flags.booleans,
    negatable: flags.negatable,
    default: Object.fromEntries((flags.negatable ?? []).map((f) => [f, true])),
    unknown: (arg: string) => {
      if (!arg.startsWith("-")) return true;
      throw new UsageError(
        `unknown flag "${arg}"; allowed: ${
          [
            ...flags.booleans,
            ...(flags.negatable ?? []).map((f) => "no-" + f),
            ...flags.strings,
          ].map((f) => "--" + f).join(", ")
        }`,
      );
    },
  });
  if (parsed._.length) throw new UsageError(`unexpected argument "${parsed._[0]}"`);
  for (const key of flags.strings) {
    const v: unknown = parsed[key];
    if (Array.isArray(v)) throw new UsageError(`flag --${key} given more than once`);
    if (v === "" && args.some((a) => a === `--${key}` || a === `--${key.replaceAll("_", "-")}`)) {
      throw new UsageError(`flag --${key} needs a value`);
    }
  }
  return parsed;
}

/**
 * Splits a comma-separated flag value; an empty item (`1,,2`, a trailing
 * comma) is a {@linkcode UsageError}. Spaces around items are dropped.
 */
export function listFlag(flag: string, text: string): string[] {
  const items = text.split(",").map((s) => s.trim());
  const empty = items.findIndex((s) => s === "");
  if (empty >= 0) {
    throw new UsageError(
      `--${flag}: item ${
        empty + 1
      } of "${text}" is empty (give comma-separated values, e.g. 1,2,4)`,
    );
  }
  return items;
}

/**
 * An integer flag: plain decimal digits only (no `0x3`, spaces, `1e3` or
 * `Infinity`), from `min` to `max`; `fallback` when the flag is absent.
 */
export function intFlag(
  flag: string,
  text: string | undefined,
  fallback: number,
  min = 1,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (text === undefined) return fallback;
  const range = `an integer from ${min} to ${max}`;
  if (!/^\d+$/.test(text)) {
    const why = /^[+-]?(Infinity|NaN)$/i.test(text.trim())
      ? "not a finite number"
      : "not a plain decimal integer";
    throw new UsageError(`--${flag}: must be ${range}, got "${text}" (${why})`);
  }
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag}: must be ${range}, got ${text}`);
  }
  return n;
}

/**
 * Pulls every `--name VALUE` / `--name=VALUE` out of `args` (a flag that may
 * repeat), returning the values and the remaining arguments.
 */
export function takeRepeated(args: string[], name: string): { values: string[]; rest: string[] } {
  const values: string[] = [], rest: string[] = [];
  const long = [`--${name}`, `--${name.replaceAll("_", "-")}`];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const eq = long.find((l) => a.startsWith(l + "="));
    if (eq) values.push(a.slice(eq.length + 1));
    else if (long.includes(a)) {
      const v = args[i + 1];
      if (v === undefined || v.startsWith("--")) {
        throw new UsageError(`flag --${name} needs a value`);
      }
      values.push(v);
      i++;
    } else rest.push(a);
  }
  return { values, rest };
}
