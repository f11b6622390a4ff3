/**
 * Config keys declared once: each key's default, type, range and help line
 * in one {@linkcode ConfigKey}, written by the module that reads the key
 * (a task its task keys, the model its shape, a sampler family its loop
 * keys), and one checker for every value. The run config
 * (`train/config.ts`) is these tables put together.
 *
 * @example
 * ```ts
 * import { checkKey, intKey } from "@stars/toolkit/utils";
 * const digits = intKey(4, "digits per operand", 1, 9);
 * checkKey("digits", digits, 3); // 3
 * try {
 *   checkKey("digits", digits, 12);
 * } catch (e) {
 *   if (!String(e).includes('"digits" must be an integer >= 1 and <= 9')) throw e;
 * }
 * ```
 *
 * @module
 */
import { InputError } from "./errors.ts";

/** How one config key is typed, bounded and described. */
export interface KeySpec {
  /** The key's section of the run config (set where the tables are put together). */
  group?: string;
  /** Value type. */
  type: "int" | "number" | "bool" | "choice" | "string";
  /** Help text. */
  help: string;
  /** Inclusive lower bound (numbers). */
  min?: number;
  /** Inclusive upper bound (numbers). */
  max?: number;
  /** Whether the lower bound is exclusive. */
  exclusiveMin?: boolean;
  /** Allowed values (choices). */
  choices?: readonly string[];
}

/** A key's spec with its default value. */
export interface ConfigKey<T> extends KeySpec {
  /** The value when a config leaves the key out. */
  readonly default: T;
}

/** A table of keys for the fields of `T`: a missing key or a default of the wrong type is a compile error. */
export type KeyTable<T> = { readonly [K in keyof T]-?: ConfigKey<T[K]> };

/** A config error: names the key and what is allowed (an {@linkcode InputError}). */
export class ConfigError extends InputError {
  /** Creates a config error. */
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** An integer key from `min` to `max`. */
export const intKey = (
  value: number,
  help: string,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): ConfigKey<number> => ({ type: "int", help, min, max, default: value });

/** A finite number key from `min` (or above it, `exclusiveMin`) to `max`. */
export const numKey = (
  value: number,
  help: string,
  min: number,
  max: number = Infinity,
  exclusiveMin = false,
): ConfigKey<number> => ({ type: "number", help, min, max, exclusiveMin, default: value });

/** A key that takes one of `choices`. */
export const choiceKey = <const C extends readonly string[]>(
  value: NoInfer<C[number]>,
  help: string,
  choices: C,
): ConfigKey<C[number]> => ({ type: "choice", help, choices, default: value });

/** A free-text key. */
export const stringKey = (value: string, help: string): ConfigKey<string> => ({
  type: "string",
  help,
  default: value,
});

/** A `true`/`false` key. */
export const boolKey = (value: boolean, help: string): ConfigKey<boolean> => ({
  type: "bool",
  help,
  default: value,
});

/** What a key allows, as error messages say it: `an integer >= 1 and <= 9`, `one of a, b`. */
export function describeKey(spec: KeySpec): string {
  if (spec.type === "choice") return `one of ${spec.choices!.join(", ")}`;
  if (spec.type === "bool") return "true or false";
  if (spec.type === "string") return "a string";
  const kind = spec.type === "int" ? "an integer" : "a number";
  const lo = spec.min === undefined || spec.min === -Infinity
    ? ""
    : ` ${spec.exclusiveMin ? ">" : ">="} ${spec.min}`;
  const hi = spec.max === undefined || spec.max === Infinity || spec.max >= Number.MAX_SAFE_INTEGER
    ? ""
    : `${lo ? " and" : ""} <= ${spec.max}`;
  return `${kind}${lo}${hi}`;
}

/** A value as an error message shows it (JSON writes Infinity and NaN as null: name them). */
export function showValue(value: unknown): string {
  if (typeof value === "number" && !Number.isFinite(value)) {
    return `${value} (not a finite number)`;
  }
  return JSON.stringify(value);
}

/** Checks `value` against the spec of `key`; returns it, or throws a {@linkcode ConfigError}. */
export function checkKey(key: string, spec: KeySpec, value: unknown): unknown {
  const bad = () =>
    new ConfigError(`config key "${key}" must be ${describeKey(spec)}, got ${showValue(value)}`);
  switch (spec.type) {
    case "bool":
      if (typeof value !== "boolean") throw bad();
      return value;
    case "choice":
      if (typeof value !== "string" || !spec.choices!.includes(value)) throw bad();
      return value;
    case "string":
      if (typeof value !== "string") throw bad();
      return value;
    default: {
      if (typeof value !== "number" || !Number.isFinite(value)) throw bad();
      if (spec.type === "int" && !Number.isInteger(value)) throw bad();
      const tooLow = spec.exclusiveMin ? value <= spec.min! : value < spec.min!;
      if (tooLow || value > spec.max!) throw bad();
      return value;
    }
  }
}

/** The keys of `table` from `keys`, each absent (or undefined) one at its default. */
export function withDefaults<T>(table: KeyTable<T>, keys: Partial<T> = {}): T {
  return Object.fromEntries(
    Object.entries(table).map(([key, spec]) => [
      key,
      keys[key as keyof T] ?? (spec as ConfigKey<unknown>).default,
    ]),
  ) as T;
}
