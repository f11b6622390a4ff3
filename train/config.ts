/**
 * The training configuration: one flat object with snake_case keys (as in
 * the paper's code), its defaults, and its validation. Every key is declared
 * once, with its default, type, range and help line, by the module that
 * reads it (the model, each task, the loop samplers, the penalty; the run's
 * and the optimiser's own keys here); {@linkcode CONFIG_KEYS} puts those
 * tables together in sections, so the CLI's `--help`, `--key value`
 * overrides and JSON configs all come from one table.
 *
 * @module
 */
import { ARITHMETIC_KEYS, type ArithmeticKeys } from "../tasks/arithmetic_keys.ts";
import { CHAIN_KEYS, type ChainKeys } from "../tasks/chain_keys.ts";
import { MATH_KEYS, type MathKeys } from "../tasks/math/math_keys.ts";
import { MODEL_KEYS, type ModelConfig } from "../models/config.ts";
import { PENALTY_KEYS, type PenaltyOptions } from "../regularizers/penalty_options.ts";
import { LOOP_KEYS, type LoopKeys } from "../regularizers/samplers/entry.ts";
import {
  boolKey as bool,
  checkKey,
  choiceKey as choice,
  ConfigError,
  type ConfigKey,
  describeKey,
  intKey as int,
  type KeySpec,
  numKey as num,
  showValue,
  stringKey as str,
} from "../utils/config_keys.ts";
import { type BackendName, BACKENDS } from "../backends/names.ts";
import { LOOP_KINDS, type LoopSpec } from "../regularizers/loop_sampler.ts";
import { TASK_NAMES, taskEntry } from "../tasks/registry.ts";

/** The built-in tasks' names. */
export type TaskName = "addition" | "multiplication" | "gsm8k-synthetic" | "chain";
/** The registered tasks (tasks/registry.ts): the built-ins, then any registered since. */
export const TASKS: readonly TaskName[] = TASK_NAMES as readonly TaskName[];
export { CHAIN_OP_SETS } from "../tasks/chain_keys.ts";
export { TOKENIZERS } from "../tasks/math/math_keys.ts";
export { ConfigError, type ConfigKey, type KeySpec } from "../utils/config_keys.ts";

/**
 * Full training configuration (model, task, loop sampler, penalty,
 * optimiser, run). The keys of the model, the tasks, the loop samplers and
 * the penalty are declared where they are read (`MODEL_KEYS`, each task's
 * table, `LOOP_KEYS`, `PENALTY_KEYS`); the run's own are below.
 */
export interface TrainConfig
  extends
    Omit<ModelConfig, "vocab_size">,
    ArithmeticKeys,
    MathKeys,
    ChainKeys,
    LoopKeys,
    Required<PenaltyOptions> {
  /** Task: arithmetic, synthetic multi-step math word problems, or variable chains. */
  task: TaskName;
  /** Loop-count sampler. */
  loop_sampler: LoopSpec["kind"];
  /** Optimiser steps. */
  steps: number;
  /** Problems per step. */
  batch_size: number;
  /** Peak learning rate. */
  lr: number;
  /** Final learning rate as a fraction of `lr` (cosine schedule). */
  min_lr_ratio: number;
  /** Linear warm-up steps. */
  warmup_steps: number;
  /** AdamW decoupled weight decay. */
  weight_decay: number;
  /** AdamW beta1. */
  beta1: number;
  /** AdamW beta2. */
  beta2: number;
  /** Global gradient-norm clip (0 = off). */
  grad_clip: number;
  /** Seed for initialisation, data, loop counts and dropout. */
  seed: number;
  /** Held-out problems for the periodic and final evaluation. */
  eval_size: number;
  /** Evaluate every this many steps (0 = only at the end). */
  eval_every: number;
  /** Loops of the held-out evaluation (0 = `loops`, the fixed training depth). */
  eval_loops: number;
  /** Save a checkpoint every this many steps (0 = only at the end). */
  checkpoint_every: number;
  /** Compute backend. */
  backend: BackendName;
  /** Checkpoint folder or safetensors file whose parameters start the run ("" = fresh ones). */
  init: string;
  /** Dropout of attention: its branch output (the toolkit's) or its probabilities (the reference's). */
  attn_dropout: typeof ATTN_DROPOUTS[number];
  /** Dropout active in the penalty's loop map, fresh masks per power iteration (the reference's). */
  reg_dropout: boolean;
  /** The penalty's first step: `at_warmup` (step >= reg_warmup) or `after_warmup` (step > reg_warmup). */
  reg_start: typeof REG_STARTS[number];
  /** Weight decay of `matrices` (not biases, gains, positions) or of `all` parameters. */
  decay_scope: typeof DECAY_SCOPES[number];
}

/** Where attention's dropout goes (`attn_dropout`). */
export const ATTN_DROPOUTS = ["output", "probs"] as const;
/** When the penalty starts (`reg_start`). */
export const REG_STARTS = ["at_warmup", "after_warmup"] as const;
/** Which parameters AdamW decays (`decay_scope`). */
export const DECAY_SCOPES = ["matrices", "all"] as const;

/** The loop count of the held-out evaluation: `eval_loops`, or `loops` when it is 0. */
export function evalLoopsOf(c: Pick<TrainConfig, "eval_loops" | "loops">): number {
  return c.eval_loops || c.loops;
}

/**
 * The sections of a config: `--help` lists the keys by section, and a
 * config file may nest keys under their section's name
 * (`{"model": {"d_model": 64}}` is `{"d_model": 64}`).
 */
export const CONFIG_GROUPS = [
  "problems",
  "model",
  "sampler",
  "penalty",
  "optimizer",
  "run",
] as const;
/** One of {@linkcode CONFIG_GROUPS}. */
export type ConfigGroup = typeof CONFIG_GROUPS[number];

// The keys of one section, tagged with it.
const inGroup = <T extends Record<string, KeySpec>>(group: ConfigGroup, keys: T): T =>
  Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, { ...v, group }])) as T;

/**
 * Every key of {@linkcode TrainConfig} (model, data, loop sampler, penalty,
 * optimiser, run) with its default, its type and range, and its `--help`
 * line, in one table: {@linkcode DEFAULT_CONFIG} and
 * {@linkcode CONFIG_SCHEMA} are read from it, and its type makes a key
 * missing from it, or a default of the wrong type, a compile error.
 */
export const CONFIG_KEYS: { readonly [K in keyof TrainConfig]: ConfigKey<TrainConfig[K]> } = {
  ...inGroup("problems", {
    task: choice("addition", "task", TASKS),
    ...ARITHMETIC_KEYS,
    ...MATH_KEYS,
    ...CHAIN_KEYS,
  }),
  ...inGroup("model", MODEL_KEYS),
  ...inGroup("sampler", {
    loop_sampler: choice("fixed", "loop-count sampler", LOOP_KINDS),
    ...LOOP_KEYS,
  }),
  ...inGroup("penalty", PENALTY_KEYS),
  ...inGroup("optimizer", {
    steps: int(3000, "optimiser steps", 1, 1e9),
    batch_size: int(64, "problems per step", 1, 2 ** 20),
    lr: num(3e-3, "peak learning rate", 0, Infinity, true),
    min_lr_ratio: num(0.1, "final lr as a fraction of lr", 0, 1),
    warmup_steps: int(100, "linear warm-up steps", 0, 1e9),
    weight_decay: num(0.01, "AdamW decoupled weight decay", 0),
    beta1: num(0.9, "AdamW beta1", 0, 0.999999),
    beta2: num(0.999, "AdamW beta2", 0, 0.999999),
    grad_clip: num(1, "global gradient-norm clip (0 = off)", 0),
  }),
  ...inGroup("run", {
    seed: int(1, "random seed", 0, 2 ** 32 - 1),
    eval_size: int(500, "held-out problems to evaluate", 1, 2 ** 20),
    eval_every: int(250, "evaluate every N steps (0 = at the end only)", 0),
    eval_loops: int(0, "loops of the held-out evaluation (0 = loops)", 0, 10000),
    checkpoint_every: int(250, "checkpoint every N steps (0 = at the end only)", 0),
    backend: choice("auto", "compute backend", BACKENDS),
    init: str("", 'checkpoint folder or safetensors file to start from ("" = fresh weights)'),
  }),
  ...inGroup("model", {
    attn_dropout: choice(
      "output",
      "attention dropout on the branch output or the probabilities",
      ATTN_DROPOUTS,
    ),
  }),
  ...inGroup("penalty", {
    reg_dropout: bool(false, "dropout in the penalty's loop map (fresh masks per iteration)"),
    reg_start: choice(
      "at_warmup",
      "penalty from step reg_warmup (at) or the step after it",
      REG_STARTS,
    ),
  }),
  ...inGroup("optimizer", {
    decay_scope: choice(
      "matrices",
      "weight decay of matrices only, or of all parameters",
      DECAY_SCOPES,
    ),
  }),
};

/** The schema of every key of {@linkcode TrainConfig}, each with its section. */
export const CONFIG_SCHEMA: Record<keyof TrainConfig, KeySpec & { group: ConfigGroup }> =
  CONFIG_KEYS as Record<keyof TrainConfig, KeySpec & { group: ConfigGroup }>; // (inGroup sets every group)

/**
 * The built-in default: 4-digit addition with 4 fixed loops, which leaves
 * its loss plateau near step 1100 and reaches 100% held-out exact match by
 * step 1600 (of 3000, about 6 minutes on a 2-core CPU). The larger
 * initialisation (0.08 rather than the paper's 0.02 at d_model 512) matters
 * at this width: with 0.02 the same model was still on its plateau after
 * 2000 steps. So does the schedule: with `steps` 2000 the cosine decay
 * lowers the learning rate before the plateau is left, and the run ends there.
 */
export const DEFAULT_CONFIG: TrainConfig = Object.fromEntries(
  Object.entries(CONFIG_KEYS).map(([key, spec]) => [key, spec.default]),
) as unknown as TrainConfig;

/**
 * Named sets of keys a run can start from (`--preset NAME`; a config file
 * and flags override them). `reference`: every choice where the STARS
 * reference implementation (`train_addition/train.py`) differs from the
 * toolkit's defaults, set as the reference has it.
 */
export const PRESETS: Record<string, Partial<TrainConfig>> = {
  reference: {
    attn_dropout: "probs",
    reg_dropout: true,
    reg_mode: "vjp",
    reg_start: "after_warmup",
    decay_scope: "all",
    grad_clip: 0,
    min_lr_ratio: 0,
  },
};

/**
 * A config layer with its sections (`{"model": {"d_model": 64}}`) spread
 * into flat keys. A section that is not an object, a key under the wrong
 * section, and a key given both ways are {@linkcode ConfigError}s.
 */
export function flattenGroups(layer: Record<string, unknown>): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  const nested = new Set<string>();
  for (const [key, value] of Object.entries(layer)) {
    if (!(CONFIG_GROUPS as readonly string[]).includes(key)) continue;
    const members = Object.entries(CONFIG_SCHEMA as Record<string, KeySpec>)
      .filter(([, spec]) => spec.group === key).map(([k]) => k);
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new ConfigError(
        `config section "${key}" must be an object of its keys (${members.join(", ")}), ` +
          `got ${showValue(value)}`,
      );
    }
    for (const [inner, v] of Object.entries(value)) {
      if (!members.includes(inner)) {
        throw new ConfigError(
          `config key "${key}.${inner}" is not a key of section ${key}; its keys: ` +
            members.join(", "),
        );
      }
      flat[inner] = v;
      nested.add(inner);
    }
  }
  for (const [key, value] of Object.entries(layer)) {
    if ((CONFIG_GROUPS as readonly string[]).includes(key)) continue;
    if (nested.has(key)) {
      throw new ConfigError(
        `config key "${key}" is given both flat and in its section; give it once`,
      );
    }
    flat[key] = value;
  }
  return flat;
}

/** Checks one value against its key's spec; returns the value or throws. */
export function checkValue(key: string, value: unknown): unknown {
  const spec = (CONFIG_SCHEMA as Record<string, KeySpec>)[key];
  if (!spec) {
    throw new ConfigError(
      `unknown config key "${key}"; allowed keys: ${Object.keys(CONFIG_SCHEMA).join(", ")}`,
    );
  }
  return checkKey(key, spec, value);
}

/** Parses a command-line string into the type the key expects. */
export function parseValue(key: string, text: string): unknown {
  const spec = (CONFIG_SCHEMA as Record<string, KeySpec>)[key];
  if (!spec) return checkValue(key, text); // throws "unknown key"
  if (spec.type === "bool") {
    if (text === "true" || text === "false") return text === "true";
    return text;
  }
  if (spec.type === "choice" || spec.type === "string") return text;
  // Only plain decimals: Number() would also take "0x3", " 3 ", "" and "Infinity".
  const bad = (why: string) =>
    new ConfigError(`config key "${key}" must be ${describeKey(spec)}, got "${text}" (${why})`);
  if (!DECIMAL.test(text)) {
    throw bad(
      /^[+-]?(Infinity|NaN)$/i.test(text.trim())
        ? "not a finite number"
        : "not a decimal number, e.g. 3, 0.5 or 1e-3",
    );
  }
  const n = Number(text);
  if (!Number.isFinite(n)) throw bad("too large: it overflows to Infinity");
  return n;
}

// A decimal number literal, as JSON writes one (a leading + or dot allowed).
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Merges partial overrides into the defaults and validates the whole: every
 * key known, every value of the right type and range, and the cross-key
 * rules (heads divide d_model, loop_min <= loop_max, ...).
 */
export function resolveConfig(...layers: Record<string, unknown>[]): TrainConfig {
  const merged: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const layer of layers) {
    for (const [key, value] of Object.entries(flattenGroups(layer))) {
      merged[key] = checkValue(key, value);
    }
  }
  const c = merged as unknown as TrainConfig;
  if (c.d_model % c.n_heads !== 0) {
    throw new ConfigError(
      `config key "n_heads" must divide d_model (${c.d_model}), got ${c.n_heads}`,
    );
  }
  if (c.loop_min > c.loop_max) {
    throw new ConfigError(
      `config key "loop_min" must be <= loop_max (${c.loop_max}), got ${c.loop_min}`,
    );
  }
  const task = taskEntry(c.task);
  task.check?.(c);
  if (c.data !== "" && !(task.keys && "data" in task.keys)) {
    throw new ConfigError(
      `config key "data" needs task ${tasksReading("data").join(" or ")} (a math file), ` +
        `got task ${c.task}`,
    );
  }
  if (c.init_state !== "embedding" && c.injection === "none") {
    throw new ConfigError(
      `config key "injection" must be add or linear when init_state is ${c.init_state}` +
        " (otherwise the loop never sees the input)",
    );
  }
  if (c.reg_dropout && c.reg_kind !== "spectral") {
    throw new ConfigError(
      `config key "reg_dropout" applies to reg_kind spectral, got reg_kind ${c.reg_kind}`,
    );
  }
  return c;
}

// The registered tasks that declare `key`.
function tasksReading(key: string): string[] {
  return TASK_NAMES.filter((name) => key in (taskEntry(name).keys ?? {}));
}
