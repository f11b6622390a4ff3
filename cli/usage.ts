/**
 * Command-line plumbing shared by the subcommands: the usage error (exit
 * code 2), flag parsing on `@std/cli`, and help text from the config schema.
 */
import { parseArgs } from "@std/cli";
import { CONFIG_SCHEMA, ConfigError, type KeySpec } from "../train/config.ts";

/** A bad flag or value: printed without a stack trace, exit code 2. */
export class UsageError extends Error {
  /** Creates a usage error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Whether an error is the user's input (exit 2) rather than a failure. */
export function isInputError(e: unknown): e is Error {
  return e instanceof UsageError || e instanceof ConfigError ||
    (e instanceof RangeError &&
      /^(loops|backend|config|wasm_threads|webgpu_matmul)/.test(e.message));
}

/** The flags of a subcommand: value flags and boolean switches. */
export interface FlagSet {
  /** Flags that take a value. */
  strings: string[];
  /** Switches. */
  booleans: string[];
  /** Switches that are on unless `--no-NAME` turns them off. */
  negatable?: string[];
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

/**
 * Parses `args` against a flag set; an unknown flag is a {@linkcode UsageError}
 * listing what is allowed. Hyphens in flag names are read as underscores.
 */
export function parseFlags(args: string[], flags: FlagSet): Record<string, unknown> {
  const parsed = parseArgs(joinNegativeValues(args.map(normaliseFlag), flags.strings), {
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
    const v = parsed[key];
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
  return spec.type;
}

/** One help line per config key, with its default. */
export function configHelp(defaults: Record<string, unknown>): string {
  return Object.entries(CONFIG_SCHEMA)
    .map(([key, spec]) =>
      `  --${key.padEnd(16)} ${spec.help} (${allowed(spec)}; default ${
        JSON.stringify(defaults[key])
      })`
    )
    .join("\n");
}
