/**
 * The looped decoder's configuration: one plain object with snake_case keys,
 * as in the paper's code, so it round-trips through JSON configs and
 * checkpoints unchanged.
 *
 * @module
 */

import {
  checkKey,
  choiceKey,
  ConfigError,
  describeKey,
  intKey,
  type KeySpec,
  type KeyTable,
  numKey,
} from "../utils/config_keys.ts";

/** Where the norms sit around each residual branch F (docs/design.md, section 1). */
export const NORM_PLACEMENTS = [
  "pre_norm",
  "post_norm",
  "sandwich_branch",
  "sandwich_dual",
] as const;
/** One of {@linkcode NORM_PLACEMENTS}. */
export type NormPlacement = typeof NORM_PLACEMENTS[number];

/** The normalisation layers available. */
export const NORM_TYPES = ["layernorm", "rmsnorm"] as const;
/** One of {@linkcode NORM_TYPES}. */
export type NormType = typeof NORM_TYPES[number];

/** How the embedded input re-enters each loop. */
export const INJECTIONS = ["none", "add", "linear"] as const;
/** One of {@linkcode INJECTIONS}: `linear` is Huginn's `Linear([h; e])`. */
export type Injection = typeof INJECTIONS[number];

/** What the loop starts from. */
export const INIT_STATES = ["embedding", "zeros", "random"] as const;
/** One of {@linkcode INIT_STATES}. */
export type InitState = typeof INIT_STATES[number];

/** Configuration of a {@linkcode LoopedLM}. */
export interface ModelConfig {
  /** Number of token ids. */
  vocab_size: number;
  /** Longest sequence (number of learned positions). */
  max_seq_len: number;
  /** Width of the latent state. */
  d_model: number;
  /** Attention heads; must divide `d_model`. */
  n_heads: number;
  /** Hidden width of the MLP. */
  d_ff: number;
  /** Transformer layers in the shared, looped block (k). */
  n_layers: number;
  /** Layers applied once before the loop. */
  prelude_layers: number;
  /** Layers applied once after the loop. */
  coda_layers: number;
  /** Dropout rate on the embedding and on every residual branch. */
  dropout: number;
  /** Norm placement around each residual branch. */
  norm_placement: NormPlacement;
  /** LayerNorm or RMSNorm. */
  norm_type: NormType;
  /** How the input re-enters each loop. */
  injection: Injection;
  /** The loop's initial state. */
  init_state: InitState;
  /** Standard deviation of the normal weight initialisation. */
  init_std: number;
}

/**
 * The model's run-config keys (all of {@linkcode ModelConfig} but
 * `vocab_size`, which the task sets), each with its default, range and
 * help, declared once. The defaults are the toolkit's small model
 * ({@linkcode PAPER_MODEL} is the paper's).
 */
export const MODEL_KEYS: KeyTable<Omit<ModelConfig, "vocab_size">> = {
  d_model: intKey(32, "width of the latent state", 1, 16384),
  n_heads: intKey(4, "attention heads (must divide d_model)", 1, 1024),
  d_ff: intKey(64, "MLP hidden width", 1, 65536),
  n_layers: intKey(1, "transformer layers in the looped block", 1, 256),
  prelude_layers: intKey(0, "layers before the loop", 0, 256),
  coda_layers: intKey(0, "layers after the loop", 0, 256),
  dropout: numKey(0, "dropout rate", 0, 0.99),
  norm_placement: choiceKey("sandwich_dual", "norm placement", NORM_PLACEMENTS),
  norm_type: choiceKey("layernorm", "norm type", NORM_TYPES),
  injection: choiceKey("none", "input injection into each loop", INJECTIONS),
  init_state: choiceKey("embedding", "initial loop state", INIT_STATES),
  init_std: numKey(0.08, "std of the normal weight init", 0, Infinity, true),
  max_seq_len: intKey(
    0,
    "positions of the model (0 = what the task needs; more lets a fine-tuning on longer problems keep its shape)",
    0,
    1 << 20,
  ),
};

// A saved model config: the model keys and the task's vocabulary size.
const SAVED_MODEL_KEYS: Record<string, KeySpec> = {
  vocab_size: intKey(1, "the task's vocabulary size", 1, 1 << 24),
  ...MODEL_KEYS,
};

/**
 * What is wrong with a saved model config (a checkpoint's, a safetensors
 * file's metadata), as the key and its problem: an unknown or missing key,
 * a value outside its key's range, heads that do not divide `d_model`.
 * Undefined when it is a whole, valid {@linkcode ModelConfig}.
 *
 * @example
 * ```ts
 * import { modelConfigProblem, PAPER_MODEL } from "@stars/toolkit/models";
 * if (modelConfigProblem({ ...PAPER_MODEL })) throw new Error("the paper's model is valid");
 * const bad = modelConfigProblem({ ...PAPER_MODEL, n_heads: 7 });
 * if (bad?.key !== "n_heads") throw new Error(JSON.stringify(bad));
 * ```
 */
export function modelConfigProblem(
  value: Record<string, unknown>,
): { key: string; problem: string } | undefined {
  const unknown = Object.keys(value).find((k) => !(k in SAVED_MODEL_KEYS));
  if (unknown) return { key: unknown, problem: "is not a model config key" };
  for (const [key, spec] of Object.entries(SAVED_MODEL_KEYS)) {
    if (!(key in value)) return { key, problem: "is missing" };
    try {
      checkKey(key, spec, value[key]);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      return { key, problem: `must be ${describeKey(spec)}, got ${JSON.stringify(value[key])}` };
    }
  }
  const { d_model, n_heads } = value as { d_model: number; n_heads: number };
  if (d_model % n_heads !== 0) {
    return { key: "n_heads", problem: `must divide d_model (${d_model}), got ${n_heads}` };
  }
  return undefined;
}

/** The paper's reference model for addition (docs/design.md, section 1). */
export const PAPER_MODEL: ModelConfig = {
  vocab_size: 15,
  max_seq_len: 16,
  d_model: 512,
  n_heads: 8,
  d_ff: 1024,
  n_layers: 1,
  prelude_layers: 0,
  coda_layers: 0,
  dropout: 0.1,
  norm_placement: "sandwich_dual",
  norm_type: "layernorm",
  injection: "none",
  init_state: "embedding",
  init_std: 0.02,
};
