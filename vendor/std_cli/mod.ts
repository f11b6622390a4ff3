/**
 * A local stand-in for `jsr:@std/cli`: only {@linkcode parseArgs}, with the
 * same name, options and results as the standard library's minimist-style
 * parser, for machines that cannot reach JSR (see this folder's README).
 *
 * Behaviour kept from `@std/cli`: `--key value`, `--key=value`, `-k value`,
 * `-abc` (three booleans), `-n5`, `--flag` booleans, `--no-flag` for
 * negatable keys, `--` ending option parsing, keys kept exactly as written
 * (`--d-model` gives `"d-model"`, no camelCase), dotted keys nested
 * (`--a.b 1` gives `{ a: { b: 1 } }`), numeric-looking values of keys not
 * declared as strings turned into numbers, aliases, defaults, collectable
 * keys, `stopEarly` and the `unknown` callback.
 *
 * @example
 * ```ts
 * import { parseArgs } from "@std/cli";
 * const args = parseArgs(["--steps", "100", "--d-model=512", "-v", "data.txt"], {
 *   boolean: ["v"],
 * });
 * // { _: ["data.txt"], steps: 100, "d-model": 512, v: true }
 * ```
 *
 * @module
 */

/**
 * The result of {@linkcode parseArgs}: the parsed flags, plus `_` (the
 * positional arguments) and, when the `"--"` option is set, `"--"` (the
 * arguments after a `--`).
 */
export type Args<
  // deno-lint-ignore no-explicit-any
  TArgs extends Record<string, unknown> = Record<string, any>,
  TDoubleDash extends boolean | undefined = undefined,
> =
  & TArgs
  & {
    /** Arguments that are not flags or flag values (numbers where numeric). */
    _: Array<string | number>;
  }
  & (true extends TDoubleDash ? {
      /** The arguments after `--`, unparsed (with the `"--"` option). */
      "--": Array<string>;
    }
    : Record<never, never>);

/**
 * The flag values {@linkcode parseArgs} returns when `string`, `boolean` or
 * `collect` names keys: declared strings are `string | undefined`
 * (`string[]` if collected; `| false` if negatable), declared booleans are
 * `boolean` (`boolean[]` if collected), other collected keys are arrays and
 * every other key is `unknown`. With none of those options, every key is
 * `any`, as in `@std/cli`.
 */
export type TypedArgs<
  TBooleans extends string,
  TStrings extends string,
  TCollect extends string,
  TNegatable extends string,
> = TypedValues<
  KnownKeys<TBooleans>,
  KnownKeys<TStrings>,
  KnownKeys<TCollect>,
  KnownKeys<TNegatable>
>;

/**
 * The literal key names in `T`, or `never` when `T` is the wide `string`
 * (options built in a variable without `as const`), `"_"` excluded.
 */
export type KnownKeys<T extends string> = string extends T ? never
  : Exclude<T, "_">;

/** {@linkcode TypedArgs} once the key names are known literals. */
export type TypedValues<
  TBooleans extends string,
  TStrings extends string,
  TCollect extends string,
  TNegatable extends string,
> = [TBooleans | TStrings | TCollect] extends [never]
  // deno-lint-ignore no-explicit-any
  ? Record<string, any>
  :
    & Record<string, unknown>
    & {
      [K in Exclude<TStrings, TCollect>]?:
        | string
        | (K extends TNegatable ? false : never);
    }
    & {
      [K in Extract<TStrings, TCollect>]:
        | Array<string>
        | (K extends TNegatable ? false : never);
    }
    & { [K in Exclude<TBooleans, TStrings | TCollect>]: boolean }
    & {
      [K in Exclude<Extract<TBooleans, TCollect>, TStrings>]:
        | Array<boolean>
        | (K extends TNegatable ? false : never);
    }
    & {
      [K in Exclude<TCollect, TStrings | TBooleans>]:
        | Array<unknown>
        | (K extends TNegatable ? false : never);
    };

/** The options of {@linkcode parseArgs}; all are optional. */
export interface ParseOptions<
  TBooleans extends string = string,
  TStrings extends string = string,
  TCollect extends string = string,
  TNegatable extends string = string,
  TDoubleDash extends boolean | undefined = boolean | undefined,
> {
  /**
   * When `true`, the arguments after `--` go to the result's `"--"` instead
   * of `_`.
   *
   * @default {false}
   */
  "--"?: TDoubleDash;
  /**
   * Alternative names: `{ help: "h" }` or `{ help: ["h", "?"] }`. A value set
   * under any name is set under all of them.
   */
  alias?: Record<string, string | readonly string[]>;
  /**
   * Keys that are always booleans (`false` when absent). `true` treats every
   * `--flag` without `=` as a boolean.
   */
  boolean?: boolean | TBooleans | readonly TBooleans[];
  /** Values for keys that do not appear in the arguments. */
  default?: Record<string, unknown>;
  /** When `true`, everything after the first positional argument goes to `_`. */
  stopEarly?: boolean;
  /** Keys whose values are always strings (never turned into numbers). */
  string?: TStrings | readonly TStrings[];
  /**
   * Keys that may repeat; their values are collected into an array (`[]`
   * when absent). A repeated non-collectable key keeps its last value.
   */
  collect?: TCollect | readonly TCollect[];
  /** Keys that `--no-key` sets to `false`. */
  negatable?: TNegatable | readonly TNegatable[];
  /**
   * Called with each flag not declared in `string`, `boolean` or `alias`
   * (`arg`, `key` and `value`) and each positional argument (`arg` only);
   * returning `false` drops it from the result.
   */
  unknown?: (arg: string, key?: string, value?: unknown) => unknown;
}

type Nested = Record<string, unknown>;

/** A flag: `-k...` or `--key`, `--no-key`, `--key=value`. */
const FLAG = /^-(?<long>-(?<negated>no-)?)?(?<key>.+?)(?:=(?<value>.+?))?$/s;
const NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?$/i;
const HEX = /^0x[0-9a-f]+$/i;
/** A short-flag tail that std reads as the flag's value (note: unanchored). */
const SHORT_NUMBER_TAIL = /-?\d+(\.\d*)?(e-?\d+)?$/;

function looksNumeric(text: string): boolean {
  return HEX.test(text) || NUMBER.test(text);
}

function isBooleanText(text: string): boolean {
  return text === "true" || text === "false";
}

function toList<T extends string>(
  value: T | readonly T[] | boolean | undefined,
): T[] {
  if (value === undefined || typeof value === "boolean") return [];
  return (Array.isArray(value) ? value : [value as T]).filter(Boolean);
}

function defineOwn(object: Nested, key: string, value: unknown): void {
  Object.defineProperty(object, key, {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

function getOwn(object: Nested, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** Sets `path` (a dotted key, split) in `root`; appends if `append`. */
function setPath(
  root: Nested,
  path: string[],
  value: unknown,
  append = false,
): void {
  // As @std/cli: a path through `__proto__` or `constructor` is dropped.
  if (path.some((part) => part === "__proto__" || part === "constructor")) return;
  let object = root;
  for (const part of path.slice(0, -1)) {
    const inner = getOwn(object, part);
    if (typeof inner === "object" && inner !== null) {
      object = inner as Nested;
    } else {
      const created: Nested = {};
      defineOwn(object, part, created);
      object = created;
    }
  }
  const last = path[path.length - 1];
  if (append) {
    const current = getOwn(object, last);
    if (Array.isArray(current)) {
      current.push(value);
      return;
    }
    value = current ? [current, value] : [value];
  }
  defineOwn(object, last, value);
}

function hasPath(root: Nested, path: string[]): boolean {
  let object = root;
  for (const part of path.slice(0, -1)) {
    const inner = getOwn(object, part);
    if (!inner || typeof inner !== "object") return false;
    object = inner as Nested;
  }
  return path.length > 0 && path[path.length - 1] !== "" &&
    Object.hasOwn(object, path[path.length - 1]);
}

/**
 * Parses command-line arguments into an object of flags, the way
 * `jsr:@std/cli`'s `parseArgs` does (minimist semantics).
 *
 * A flag's value is the text after `=`, or else the next argument unless the
 * key is a boolean or that argument starts with `-`; a flag with no value is
 * `true` (`""` for string keys). `true`/`false` after a boolean flag are
 * read as its value. Values of keys not declared in `string` that look like
 * numbers (`12`, `-3.5`, `1e-4`, `0x1f`) become numbers, as do numeric
 * positional arguments. Declared booleans default to `false`.
 *
 * @example
 * ```ts
 * import { parseArgs } from "@std/cli";
 * parseArgs(["--foo", "--bar=baz", "./quux.txt"]);
 * // { _: ["./quux.txt"], foo: true, bar: "baz" }
 * parseArgs(["--no-color", "--lr", "3e-4", "--", "-x"], {
 *   negatable: ["color"],
 *   boolean: ["color"],
 *   "--": true,
 * });
 * // { _: [], color: false, lr: 0.0003, "--": ["-x"] }
 * ```
 */
export function parseArgs<
  TBooleans extends string = never,
  TStrings extends string = never,
  TCollect extends string = never,
  TNegatable extends string = never,
  TDoubleDash extends boolean | undefined = undefined,
>(
  args: string[],
  options: ParseOptions<
    TBooleans,
    TStrings,
    TCollect,
    TNegatable,
    TDoubleDash
  > = {},
): Args<TypedArgs<TBooleans, TStrings, TCollect, TNegatable>, TDoubleDash> {
  const aliases = new Map<string, Set<string>>();
  for (const [key, names] of Object.entries(options.alias ?? {})) {
    const list: string[] = typeof names === "string" ? [names] : [...names];
    aliases.set(key, new Set(list));
    for (const name of list) {
      aliases.set(name, new Set([key, ...list.filter((n) => n !== name)]));
    }
  }
  const withAliases = (keys: string[]): Set<string> => {
    const set = new Set<string>();
    for (const key of keys) {
      set.add(key);
      aliases.get(key)?.forEach((name) => set.add(name));
    }
    return set;
  };
  const allBooleans = options.boolean === true;
  const booleans = withAliases(toList(options.boolean));
  const strings = withAliases(toList(options.string));
  const collects = withAliases(toList(options.collect));
  const negatables = withAliases(toList(options.negatable));
  const unknown = options.unknown;

  const result: Nested & { _: Array<string | number> } = { _: [] };

  const aliasIsBoolean = (key: string): boolean => {
    for (const name of aliases.get(key) ?? []) {
      if (booleans.has(name)) return true;
    }
    return false;
  };
  /** May `key` take the next argument as its value? */
  const takesValue = (key: string): boolean => !booleans.has(key) && !aliasIsBoolean(key);

  const set = (
    key: string,
    raw: string | boolean,
    arg: string,
    mayCollect = true,
  ): void => {
    const declared = booleans.has(key) || strings.has(key) ||
      aliases.has(key) ||
      (allBooleans && /^--[^=]+$/.test(arg));
    if (!declared && unknown?.(arg, key, raw) === false) return;
    const value = typeof raw === "string" && !strings.has(key) && looksNumeric(raw)
      ? Number(raw)
      : raw;
    const append = mayCollect && collects.has(key);
    setPath(result, key.split("."), value, append);
    aliases.get(key)?.forEach((name) => setPath(result, name.split("."), value, append));
  };

  const end = args.indexOf("--");
  const flagArgs = end === -1 ? args : args.slice(0, end);
  const rest = end === -1 ? [] : args.slice(end + 1);

  for (let i = 0; i < flagArgs.length; i++) {
    const arg = flagArgs[i];
    const match = FLAG.exec(arg)?.groups;
    if (!match) {
      if (unknown?.(arg) !== false) {
        result._.push(
          !strings.has("_") && looksNumeric(arg) ? Number(arg) : arg,
        );
      }
      if (options.stopEarly) {
        result._.push(...flagArgs.slice(i + 1));
        break;
      }
      continue;
    }
    const next = flagArgs[i + 1];

    if (match.long !== undefined) {
      let key = match.key;
      if (match.value) {
        set(
          key,
          booleans.has(key) ? match.value !== "false" : match.value,
          arg,
        );
        continue;
      }
      if (match.negated) {
        if (negatables.has(key)) {
          set(key, false, arg, false);
          continue;
        }
        key = `no-${key}`;
      }
      if (!allBooleans && next && !next.startsWith("-") && takesValue(key)) {
        set(key, next, arg);
        i++;
      } else if (next && isBooleanText(next)) {
        set(key, next !== "false", arg);
        i++;
      } else {
        set(key, strings.has(key) ? "" : true, arg);
      }
      continue;
    }

    // Short flags: "-abc" sets a, b and c; "-n5", "-n=5" and "-n-" give n a value.
    const letters = arg.slice(1, -1);
    let valueTaken = false;
    for (let j = 0; j < letters.length; j++) {
      const letter = letters[j];
      const tail = arg.slice(j + 2);
      if (tail === "-") {
        set(letter, tail, arg);
        continue;
      }
      const alpha = /[A-Za-z]/.test(letter);
      if (alpha && tail.includes("=")) {
        set(letter, tail.slice(tail.indexOf("=") + 1), arg);
        valueTaken = true;
        break;
      }
      if (alpha && SHORT_NUMBER_TAIL.test(tail)) {
        set(letter, tail, arg);
        valueTaken = true;
        break;
      }
      if (j + 1 < letters.length && /\W/.test(letters[j + 1])) {
        set(letter, tail, arg);
        valueTaken = true;
        break;
      }
      set(letter, strings.has(letter) ? "" : true, arg);
    }
    const key = arg.slice(-1);
    if (valueTaken || key === "-") continue;
    if (next && !/^(-|--)[^-]/.test(next) && takesValue(key)) {
      set(key, next, arg);
      i++;
    } else if (next && isBooleanText(next)) {
      set(key, next !== "false", arg);
      i++;
    } else {
      set(key, strings.has(key) ? "" : true, arg);
    }
  }

  for (const [key, value] of Object.entries(options.default ?? {})) {
    const path = key.split(".");
    if (hasPath(result, path)) continue;
    setPath(result, path, value);
    aliases.get(key)?.forEach((name) => setPath(result, name.split("."), value));
  }
  for (const key of booleans) {
    const path = key.split(".");
    if (!hasPath(result, path)) {
      setPath(result, path, collects.has(key) ? [] : false);
    }
  }
  for (const key of strings) {
    const path = key.split(".");
    if (!hasPath(result, path) && collects.has(key)) setPath(result, path, []);
  }

  if (options["--"]) {
    defineOwn(result, "--", [...rest]);
  } else {
    result._.push(...rest);
  }
  return result as Args<
    TypedArgs<TBooleans, TStrings, TCollect, TNegatable>,
    TDoubleDash
  >;
}
