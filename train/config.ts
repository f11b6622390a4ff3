/**
 * The training configuration: one flat object with snake_case keys (as in
 * the paper's code), its defaults, and its validation. Every key has a type,
 * a range and a help line, so the CLI's `--help`, `--key value` overrides
 * and JSON configs all come from this one table.
 */
import { CHAIN_ORDERS, type ChainOrder } from "../tasks/chain.ts";
import {
  INIT_STATES,
  INJECTIONS,
  type ModelConfig,
  NORM_PLACEMENTS,
  NORM_TYPES,
} from "../models/config.ts";
import { REG_KINDS, type RegKind } from "../regularizers/penalty_options.ts";
import { POWER_MODES } from "../regularizers/power_penalty.ts";
import { PROBES } from "../regularizers/probes.ts";
import { InputError } from "./errors.ts";
import { type BackendName, BACKENDS } from "../backends/names.ts";
import { LOOP_KINDS, type LoopSpec } from "../regularizers/loop_sampler.ts";
import { TASK_NAMES } from "../tasks/registry.ts";

/** The built-in tasks' names. */
export type TaskName = "addition" | "multiplication" | "gsm8k-synthetic" | "chain";
/** The registered tasks (tasks/registry.ts): the built-ins, then any registered since. */
export const TASKS: readonly TaskName[] = TASK_NAMES as readonly TaskName[];
/** Tokenizers of the math task selectable by `tokenizer`. */
export const TOKENIZERS = ["char", "bpe"] as const;

/** Full training configuration (model, data, loop sampler, optimiser, run). */
export interface TrainConfig extends Omit<ModelConfig, "vocab_size"> {
  /** Task: arithmetic, synthetic multi-step math word problems, or variable chains. */
  task: TaskName;
  /** Digits per operand. */
  digits: number;
  /** Whether the answer is written least-significant digit first. */
  reverse: boolean;
  /** Fewest reasoning steps of a word problem (gsm8k-synthetic). */
  steps_min: number;
  /** Most reasoning steps of a word problem (gsm8k-synthetic). */
  steps_max: number;
  /** Math JSON-lines file to train on instead of the generator ("" = none; gsm8k-synthetic). */
  data: string;
  /** Tokenizer of the math task: characters, or GPT-2 BPE (50 258 ids). */
  tokenizer: "char" | "bpe";
  /** Fewest steps (dependency-chain length) of a chain problem (chain). */
  chain_steps_min: number;
  /** Most steps of a chain problem in training (chain). */
  chain_steps_max: number;
  /** Most steps of a test chain problem (0 = chain_steps_max; chain). */
  chain_test_steps_max: number;
  /** Distractor definitions per chain problem (chain). */
  chain_distractors: number;
  /** Definition order of a chain problem: `shuffled` or `ordered` (the chain in its order). */
  chain_order: ChainOrder;
  /** Operations of a chain step: `+-` (add or subtract a digit) or `+-*` (also multiply by 3, 7 or 9). */
  chain_ops: typeof CHAIN_OP_SETS[number];
  /** Questions per training chain problem: the last link, then others (0 = every variable; chain). */
  chain_questions: number;
  /** Read training answers back as PAD, so no chain question sees another's answer (chain). */
  chain_hide_answers: boolean;
  /** Loop-count sampler. */
  loop_sampler: LoopSpec["kind"];
  /** Fixed loop count; also the "training depth" reported by evaluation. */
  loops: number;
  /** Log-normal mu. */
  loop_mu: number;
  /** Log-normal sigma (also Huginn's s). */
  loop_sigma: number;
  /** Smallest loop count drawn. */
  loop_min: number;
  /** Largest loop count drawn. */
  loop_max: number;
  /** Poisson rate. */
  loop_lambda: number;
  /** Huginn's mean recurrence r. */
  loop_mean: number;
  /** Huginn's backpropagated loops k. */
  loop_backprop: number;
  /** Penalty weight lambda: loss = (1 - lambda) CE + lambda R (0 = off). */
  reg_weight: number;
  /** The penalty: STARS's spectral power iteration, or Hutchinson's ||J||_F^2 / D. */
  reg_kind: RegKind;
  /** Power-iteration steps K of the Jacobian penalty. */
  reg_iters: number;
  /** Jacobian products J v (jvp) or J^T v (vjp). */
  reg_mode: typeof POWER_MODES[number];
  /** Steps before the penalty switches on. */
  reg_warmup: number;
  /** Probe vectors of the Hutchinson penalty. */
  reg_samples: number;
  /** Probe distribution of the Hutchinson penalty. */
  reg_probe: typeof PROBES[number];
  /** Central finite-difference step of the Jacobian products (in state norm). */
  reg_eps: number;
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

/** The operation sets `chain_ops` takes (every one a bijection mod 10). */
export const CHAIN_OP_SETS = ["+-", "+-*"] as const;

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

/** How one config key is typed, bounded and described. */
export interface KeySpec {
  /** The key's section. */
  group?: ConfigGroup;
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

const int = (
  value: number,
  help: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): ConfigKey<number> => ({ type: "int", help, min, max, default: value });
const num = (
  value: number,
  help: string,
  min: number,
  max = Infinity,
  exclusiveMin = false,
): ConfigKey<number> => ({ type: "number", help, min, max, exclusiveMin, default: value });
const choice = <const C extends readonly string[]>(
  value: NoInfer<C[number]>,
  help: string,
  choices: C,
): ConfigKey<C[number]> => ({ type: "choice", help, choices, default: value });
const str = (value: string, help: string): ConfigKey<string> => ({
  type: "string",
  help,
  default: value,
});
const bool = (value: boolean, help: string): ConfigKey<boolean> => ({
  type: "bool",
  help,
  default: value,
});
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
    digits: int(4, "digits per operand", 1, 9),
    reverse: bool(true, "write the answer least-significant digit first"),
    steps_min: int(2, "fewest reasoning steps of a word problem", 1, 30),
    steps_max: int(4, "most reasoning steps of a word problem", 1, 30),
    data: str("", 'math JSON-lines file to train on ("" = the generator)'),
    tokenizer: choice("char", "math tokenizer (bpe: 50 258 ids, a big embedding)", TOKENIZERS),
    chain_steps_min: int(1, "fewest steps of a chain problem", 1, 25),
    chain_steps_max: int(4, "most steps of a chain problem in training", 1, 25),
    chain_test_steps_max: int(0, "most steps of a test chain problem (0 = chain_steps_max)", 0, 25),
    chain_distractors: int(2, "distractor definitions per chain problem", 0, 24),
    chain_order: choice(
      "shuffled",
      "definition order of a chain problem (ordered: each after what it reads)",
      CHAIN_ORDERS,
    ),
    chain_ops: choice("+-", "operations of a chain step, mod 10 (*: by 3, 7 or 9)", CHAIN_OP_SETS),
    chain_questions: int(
      1,
      "questions per training chain problem: the last link, then other variables (0 = all)",
      0,
      26,
    ),
    chain_hide_answers: bool(
      false,
      "read training chain answers back as PAD (no question sees another's answer)",
    ),
  }),
  ...inGroup("model", {
    d_model: int(32, "width of the latent state", 1, 16384),
    n_heads: int(4, "attention heads (must divide d_model)", 1, 1024),
    d_ff: int(64, "MLP hidden width", 1, 65536),
    n_layers: int(1, "transformer layers in the looped block", 1, 256),
    prelude_layers: int(0, "layers before the loop", 0, 256),
    coda_layers: int(0, "layers after the loop", 0, 256),
    dropout: num(0, "dropout rate", 0, 0.99),
    norm_placement: choice("sandwich_dual", "norm placement", NORM_PLACEMENTS),
    norm_type: choice("layernorm", "norm type", NORM_TYPES),
    injection: choice("none", "input injection into each loop", INJECTIONS),
    init_state: choice("embedding", "initial loop state", INIT_STATES),
    init_std: num(0.08, "std of the normal weight init", 0, Infinity, true),
    max_seq_len: int(
      0,
      "positions of the model (0 = what the task needs; more lets a fine-tuning on longer problems keep its shape)",
      0,
      1 << 20,
    ),
  }),
  ...inGroup("sampler", {
    loop_sampler: choice("fixed", "loop-count sampler", LOOP_KINDS),
    loops: int(4, "fixed loop count (the training depth)", 1, 10000),
    loop_mu: num(2, "log-normal mu", -Infinity),
    loop_sigma: num(0.7, "log-normal sigma (Huginn's s)", 0, Infinity, true),
    loop_min: int(1, "smallest loop count drawn", 1, 10000),
    loop_max: int(100, "largest loop count drawn", 1, 10000),
    loop_lambda: num(5, "Poisson rate", 0, Infinity, true),
    loop_mean: num(32, "Huginn's mean recurrence r", 0, Infinity, true),
    loop_backprop: int(8, "Huginn's backpropagated loops k", 1, 10000),
  }),
  ...inGroup("penalty", {
    reg_weight: num(0, "penalty weight lambda (0 = off)", 0, 1),
    reg_kind: choice("spectral", "penalty", REG_KINDS as readonly RegKind[]),
    reg_iters: int(1, "power-iteration steps K", 1, 1000),
    reg_mode: choice("jvp", "Jacobian products J v or J^T v", POWER_MODES),
    reg_warmup: int(0, "steps before the penalty starts", 0, 1e9),
    reg_samples: int(1, "Hutchinson probe vectors", 1, 1000),
    reg_probe: choice("gaussian", "Hutchinson probe distribution", PROBES),
    reg_eps: num(0.1, "finite-difference step of J v (0.1 to 0.3 is accurate)", 0, 10, true),
  }),
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

/** The schema of every key of {@linkcode TrainConfig}. */
export const CONFIG_SCHEMA: Record<keyof TrainConfig, KeySpec> = CONFIG_KEYS;

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

/** A config error: names the key and what is allowed (an {@linkcode InputError}). */
export class ConfigError extends InputError {
  /** Creates a config error. */
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

function describe(spec: KeySpec): string {
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

// JSON.stringify writes Infinity and NaN as null: name them.
function showValue(value: unknown): string {
  if (typeof value === "number" && !Number.isFinite(value)) {
    return `${value} (not a finite number)`;
  }
  return JSON.stringify(value);
}

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
  const bad = () =>
    new ConfigError(`config key "${key}" must be ${describe(spec)}, got ${showValue(value)}`);
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
    new ConfigError(`config key "${key}" must be ${describe(spec)}, got "${text}" (${why})`);
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
  if (c.steps_min > c.steps_max) {
    throw new ConfigError(
      `config key "steps_min" must be <= steps_max (${c.steps_max}), got ${c.steps_min}`,
    );
  }
  if (c.task === "chain") checkChain(c);
  if (c.data !== "" && c.task !== "gsm8k-synthetic") {
    throw new ConfigError(
      `config key "data" needs task gsm8k-synthetic (a math file), got task ${c.task}`,
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

// The chain task's keys, checked only when it is the task (other tasks ignore them).
function checkChain(c: TrainConfig): void {
  if (c.chain_steps_min > c.chain_steps_max) {
    throw new ConfigError(
      `config key "chain_steps_min" must be <= chain_steps_max (${c.chain_steps_max}), got ` +
        `${c.chain_steps_min}`,
    );
  }
  if (c.chain_test_steps_max !== 0 && c.chain_test_steps_max < c.chain_steps_min) {
    throw new ConfigError(
      `config key "chain_test_steps_max" must be 0 or >= chain_steps_min (${c.chain_steps_min}), ` +
        `got ${c.chain_test_steps_max}`,
    );
  }
  const steps = Math.max(c.chain_steps_max, c.chain_test_steps_max);
  if (steps + 1 + c.chain_distractors > 26) {
    throw new ConfigError(
      `config key "chain_distractors": ${steps} steps + 1 + ${c.chain_distractors} distractors ` +
        "need more than the 26 variable names (a-z); lower chain_distractors or the steps",
    );
  }
}
