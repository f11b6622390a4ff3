/**
 * Command-line plumbing shared by the subcommands: the usage error (exit
 * code 2), flag parsing on `@std/cli`, and help text from the config schema.
 */
import { parseArgs } from "@std/cli";
import { type BackendName, parseBackend } from "../backends/select.ts";
import { nativeBlasStatus, setNativeBlas } from "../backends/native/blas.ts";
import { wasmThreadsFromEnv } from "../backends/wasm/threads.ts";
import { webgpuMatMulFromEnv } from "../backends/webgpu/matmul.ts";
import { CONFIG_GROUPS, CONFIG_SCHEMA, type KeySpec } from "../train/config.ts";
import { InputError } from "../train/errors.ts";

/** A bad flag or value: printed without a stack trace, exit code 2. */
export class UsageError extends InputError {
  /** Creates a usage error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Whether an error is the user's input (exit 2) rather than a failure: the
 * single place that decides. Every input error is an {@linkcode InputError}
 * (a {@linkcode UsageError}, a `ConfigError`, ...); the commands turn the
 * library's own range errors into those where they check their input.
 */
export function isInputError(e: unknown): e is Error {
  return e instanceof InputError;
}

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

function allowed(spec: KeySpec): string {
  if (spec.type === "choice") return spec.choices!.join("|");
  if (spec.type === "bool") return "true|false";
  return `${spec.type}${range(spec)}`;
}

// A number key's bounds as `>= 1`, `> 0`, `0..0.99` (none when unbounded).
function range({ min, max, exclusiveMin }: KeySpec): string {
  const lo = min === undefined || min === -Infinity ? undefined : min;
  const hi = max === undefined || max === Infinity || max === Number.MAX_SAFE_INTEGER
    ? undefined
    : max;
  if (lo !== undefined && hi !== undefined) {
    return exclusiveMin ? ` in (${lo}, ${hi}]` : ` in ${lo}..${hi}`;
  }
  if (lo !== undefined) return exclusiveMin ? ` > ${lo}` : ` >= ${lo}`;
  if (hi !== undefined) return ` <= ${hi}`;
  return "";
}

/** One help line per config key, with its default, under its section's name. */
export function configHelp(defaults: Record<string, unknown>): string {
  const entries = Object.entries(CONFIG_SCHEMA as Record<string, KeySpec>);
  return CONFIG_GROUPS.map((group) =>
    [
      `  ${group} (keys may nest under "${group}" in a config file):`,
      ...entries.filter(([, spec]) => spec.group === group).map(([key, spec]) =>
        `  --${key.padEnd(16)} ${spec.help} (${allowed(spec)}; default ${
          JSON.stringify(defaults[key])
        })`
      ),
    ].join("\n")
  ).join("\n");
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
 * The backend a `--backend` flag (or `STARS_BACKEND`) names, with the
 * backend's environment variables (`STARS_WASM_THREADS`,
 * `STARS_WEBGPU_MATMUL`) checked too, so a bad one stops before any work.
 */
export function backendFlag(text: string | undefined): BackendName {
  const fromEnv = text === undefined ? Deno.env.get("STARS_BACKEND") : undefined;
  let backend: BackendName;
  try {
    backend = parseBackend(text ?? fromEnv ?? "auto");
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    throw new UsageError(`${text === undefined ? "STARS_BACKEND" : "--backend"}: ${e.message}`);
  }
  checkBackendEnv();
  return backend;
}

/**
 * Applies a `--blas on|off` flag (native matrix products on the wasm
 * backend where a BLAS is found, or the wasm kernels only); without the
 * flag `STARS_BLAS` decides. Checks `STARS_BLAS`, `STARS_THREADS` and
 * `STARS_BLAS_LIB` before any work.
 */
export function blasFlag(text: string | undefined): void {
  if (text !== undefined && text !== "on" && text !== "off") {
    throw new UsageError(`--blas: must be on or off, got "${text}"`);
  }
  if (text !== undefined) setNativeBlas(text === "off" ? "off" : "auto");
  nativeBlasStatus(); // a bad STARS_BLAS, STARS_THREADS or STARS_BLAS_LIB is an InputError
}

/** The `--blas` flag's help line. */
export const BLAS_HELP =
  "  --blas on|off      native matrix products (OpenBLAS through FFI) where found\n" +
  "                     (default on; or STARS_BLAS; STARS_THREADS sets its threads)";

/** Checks `STARS_WASM_THREADS` and `STARS_WEBGPU_MATMUL`; a bad value is a {@linkcode UsageError}. */
export function checkBackendEnv(): void {
  // Each throws an InputError naming the variable.
  wasmThreadsFromEnv();
  webgpuMatMulFromEnv();
}

/**
 * Makes sure `dir` is a folder this process can write: creates it (and its
 * parents) and writes and removes a probe file, so that an `--out` that is a
 * file, read-only or on a full disk stops before any work. A folder created
 * here is removed again when the probe fails.
 */
export async function ensureWritableDir(flag: string, dir: string): Promise<void> {
  let existed = true;
  try {
    const info = await Deno.stat(dir);
    if (!info.isDirectory) {
      throw new UsageError(`--${flag}: "${dir}" exists and is not a folder`);
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new UsageError(`--${flag}: cannot use "${dir}" (${reason(e)})`);
    }
    existed = false;
  }
  const created: string[] = [];
  if (!existed) {
    // Remember which folders are new, to remove them if the probe fails.
    for (let d = dir; d && d !== "." && d !== "/"; d = parentOf(d)) {
      try {
        await Deno.stat(d);
        break;
      } catch {
        created.push(d);
      }
    }
    try {
      await Deno.mkdir(dir, { recursive: true });
    } catch (e) {
      throw new UsageError(`--${flag}: cannot create the folder "${dir}" (${reason(e)})`);
    }
  }
  const probe = `${dir}/.stars-write-probe-${Deno.pid}`;
  try {
    await Deno.writeTextFile(probe, "probe\n");
    await Deno.remove(probe);
  } catch (e) {
    await Deno.remove(probe).catch(() => {});
    for (const d of created) await Deno.remove(d).catch(() => {});
    throw new UsageError(`--${flag}: cannot write in "${dir}" (${reason(e)})`);
  }
}

function parentOf(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const at = trimmed.lastIndexOf("/");
  return at <= 0 ? (at === 0 ? "/" : "") : trimmed.slice(0, at);
}

/** Why a file operation failed, in words (no stack, no syscall detail). */
export function fileReason(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file or folder";
  if (e instanceof Deno.errors.IsADirectory) return "it is a folder, not a file";
  return reason(e);
}

function reason(e: unknown): string {
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.AlreadyExists) return "a file is in the way";
  if (e instanceof Deno.errors.NotADirectory) return "a part of the path is a file";
  if (e instanceof Deno.errors.NotFound) return "no such file or folder";
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/:? \w+ '.*'$/, "").replace(/ \(os error \d+\)/, "");
}
