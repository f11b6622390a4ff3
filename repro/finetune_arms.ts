/**
 * The fine-tuning experiment's profiles, as data: the paper's second result
 * (Ouro-1.4B, pretrained at a fixed 4 loops, fine-tuned on math three ways
 * and evaluated at each loop count) at a scale a 2-core CPU runs, on the
 * chain task (tasks/chain.ts).
 *
 * A base model is pretrained at fixed 4 loops on chains of 1-2 steps. Each
 * arm fine-tunes a copy of it (its weights, a fresh optimiser) for the same
 * number of steps on chains of 1-4 steps (harder data than the base saw, as
 * math is for Ouro):
 *
 * | arm | loops | penalty |
 * | --- | --- | --- |
 * | SFT | fixed 4 | none |
 * | RAND | Ouro's sampler: log-normal mu 1.7, sigma 0.4, clipped to [1, 16] | none |
 * | STARS | as RAND | lambda 0.1, K 1 |
 *
 * The base and every arm are evaluated at 1-16, 32 and 64 loops on the
 * held-out test split (chains of 1-6 steps, structures disjoint from
 * training), overall and by number of steps, and with the adaptive exit
 * rules. The model and task keys are shared by the base and the arms, so a
 * fine-tuned model has the base's exact shape (vocabulary, `max_seq_len`).
 *
 * @module
 */
import { chainSeqLen } from "../tasks/chain.ts";
import type { TrainConfig } from "../train/config.ts";

/** The fine-tuning profiles: `finetune-micro` for tests, `finetune` for the results. */
export const FINETUNE_PROFILES = ["finetune-micro", "finetune"] as const;
/** One of {@linkcode FINETUNE_PROFILES}. */
export type FinetuneProfile = typeof FINETUNE_PROFILES[number];

/** One fine-tuning arm: its id, a description and the keys that define it. */
export interface FinetuneArm {
  /** `SFT`, `RAND` or `STARS`. */
  id: string;
  /** What the arm is. */
  label: string;
  /** A legend-sized name. */
  short: string;
  /** The keys in which this arm differs from the shared fine-tuning config. */
  overrides: Partial<TrainConfig>;
}

/** The Ouro sampler of the paper's fine-tuning: log-normal mu 1.7, sigma 0.4, clipped to [1, 16]. */
export const OURO_SAMPLER: Partial<TrainConfig> = {
  loop_sampler: "lognormal",
  loop_mu: 1.7,
  loop_sigma: 0.4,
  loop_min: 1,
  loop_max: 16,
};

/** The base model's training depth (Ouro's 4 loops). */
export const BASE_LOOPS = 4;

/** The three arms of the paper's fine-tuning comparison. */
export const FINETUNE_ARMS: readonly FinetuneArm[] = [
  {
    id: "SFT",
    label: "standard SFT at the base's fixed 4 loops",
    short: "SFT (fixed 4)",
    overrides: { loop_sampler: "fixed", loops: BASE_LOOPS, reg_weight: 0 },
  },
  {
    id: "RAND",
    label: "SFT with random loop counts (Ouro's log-normal sampler, mu 1.7, sigma 0.4, [1, 16])",
    short: "random loops",
    overrides: { ...OURO_SAMPLER, loops: BASE_LOOPS, reg_weight: 0 },
  },
  {
    id: "STARS",
    label: "STARS: random loop counts plus the Jacobian penalty (lambda 0.1, K 1)",
    short: "STARS",
    overrides: {
      ...OURO_SAMPLER,
      loops: BASE_LOOPS,
      reg_weight: 0.1,
      reg_iters: 1,
      reg_mode: "jvp",
    },
  },
];

/** The paper's evaluation grid: every loop count 1 to 16, then 32 and 64. */
export const FINETUNE_GRID: readonly number[] = [
  ...Array.from({ length: 16 }, (_, i) => i + 1),
  32,
  64,
];

/** What a fine-tuning profile fixes. */
export interface FinetuneProfileSpec {
  /** Model and task keys shared by the base and every arm (they fix the model's shape). */
  shared: Partial<TrainConfig>;
  /** The base's pretraining keys (it trains at fixed {@linkcode BASE_LOOPS} loops, no penalty). */
  pretrain: Partial<TrainConfig>;
  /** Seed of the base (one base for every arm and seed). */
  baseSeed: number;
  /** Fine-tuning keys shared by the arms (before each arm's overrides). */
  finetune: Partial<TrainConfig>;
  /** The arms (default {@linkcode FINETUNE_ARMS}). */
  arms: readonly FinetuneArm[];
  /** Fine-tuning seeds (data order, loop draws, penalty vectors); one run per arm and seed. */
  seeds: readonly number[];
  /** Loop counts of the depth sweep. */
  grid: readonly number[];
  /** Test problems (distinct, from the test split). */
  testSize: number;
  /** Adaptive exit rules, as `deno task eval --exit` writes them. */
  exitRules: readonly string[];
  /** The exit rules' cap (loops computed per token). */
  exitMax: number;
  /** What was scaled down from the paper, and why (written into the results). */
  scaling: string;
}

// The longest rows: a training chain of the fine-tuning's 4 steps asked about
// every variable, or a test chain of 6 steps asked once.
const SEQ_LEN = Math.max(chainSeqLen(4, 0, 0), chainSeqLen(6, 0, 1));

const SHARED: Partial<TrainConfig> = {
  task: "chain",
  chain_steps_min: 1,
  chain_test_steps_max: 6,
  // Definitions in chain order, no distractors, a question about every
  // variable with the answers hidden: the one design of the pilots whose
  // base left chance, first on one-step chains, then on two
  // (docs/results/finetune/pilot.md, sessions 8 and 9).
  chain_order: "ordered",
  chain_distractors: 0,
  chain_questions: 0,
  chain_hide_answers: true,
  // The positions of the longest rows of every split, so that the base has
  // the arms' shape.
  max_seq_len: SEQ_LEN,
  d_model: 64,
  n_heads: 4,
  d_ff: 128,
  n_layers: 1,
  dropout: 0,
  norm_placement: "sandwich_dual",
  // The toolkit's default at this width (with 0.02 its addition model
  // stays on its plateau far longer); lr 3e-3 below, also the default.
  init_std: 0.08,
  batch_size: 64,
  eval_size: 500,
};

const MICRO_SHARED: Partial<TrainConfig> = {
  ...SHARED,
  chain_test_steps_max: 3,
  chain_distractors: 1,
  max_seq_len: chainSeqLen(3, 1, 0),
  d_model: 16,
  n_heads: 2,
  d_ff: 32,
  batch_size: 8,
  eval_size: 8,
};

const MICRO_RUN: Partial<TrainConfig> = {
  steps: 3,
  warmup_steps: 1,
  eval_every: 0,
  checkpoint_every: 0,
};

/** The profiles. */
export const FINETUNE_PROFILE_SPECS: Record<FinetuneProfile, FinetuneProfileSpec> = {
  "finetune-micro": {
    shared: MICRO_SHARED,
    pretrain: { ...MICRO_RUN, chain_steps_max: 2, lr: 3e-3 },
    baseSeed: 1,
    finetune: { ...MICRO_RUN, chain_steps_max: 3, lr: 1e-3, reg_warmup: 0 },
    arms: FINETUNE_ARMS,
    seeds: [1, 2],
    grid: [1, 2, 4, 8],
    testSize: 8,
    exitRules: ["kl:1e-3", "argmax:2"],
    exitMax: 4,
    scaling: "finetune-micro: a plumbing check only (a few steps for the base and each arm).",
  },
  finetune: {
    shared: SHARED,
    pretrain: {
      chain_steps_max: 2,
      steps: 6000,
      warmup_steps: 100,
      lr: 3e-3,
      eval_every: 1000,
      checkpoint_every: 250,
    },
    baseSeed: 1,
    finetune: {
      chain_steps_max: 4,
      steps: 2000,
      warmup_steps: 100,
      lr: 1e-3,
      reg_warmup: 0,
      eval_every: 500,
      checkpoint_every: 250,
    },
    arms: FINETUNE_ARMS,
    seeds: [1, 2, 3],
    grid: FINETUNE_GRID,
    testSize: 1000,
    exitRules: ["kl:1e-3", "argmax:5"],
    exitMax: 16,
    scaling: "finetune: the paper's Ouro-1.4B (pretrained on text at 4 loops, fine-tuned on " +
      "NuminaMath, evaluated on GSM8K) becomes a 64-wide looped model (4 heads, d_ff 128, one " +
      "looped layer, sandwich_dual, init std 0.08) pretrained at fixed 4 loops for 6 000 steps " +
      "of batch 64 (lr 3e-3) on chains of 1-2 steps (definitions in order, no distractors, " +
      "every variable asked with the answers hidden), fine-tuned for 2 000 steps (lr 1e-3, " +
      "100 warm-up steps, a fresh optimiser) on chains of 1-4 steps asked the same way, and " +
      "evaluated on 1 000 held-out chains of 1-6 steps (one question each, the last link). " +
      "The paper's sampler (log-normal mu 1.7, sigma 0.4, [1, 16]), penalty (lambda 0.1, K 1; " +
      "on from the first fine-tuning step, the base having left its loss plateau) and loop " +
      "grid (1-16, 32, 64) are kept; 3 fine-tuning seeds from one base.",
  },
};

/** The base's full pretraining config: shared keys, pretraining keys, fixed 4 loops. */
export function pretrainConfig(profile: FinetuneProfile): Partial<TrainConfig> {
  const spec = FINETUNE_PROFILE_SPECS[profile];
  return {
    ...spec.shared,
    ...spec.pretrain,
    loop_sampler: "fixed",
    loops: BASE_LOOPS,
    reg_weight: 0,
    seed: spec.baseSeed,
  };
}

/**
 * One arm's full fine-tuning config for one seed: shared keys, fine-tuning
 * keys, the arm's keys, the seed. (The run starts from the base's weights
 * with a fresh optimiser; the pipeline passes the base's folder.)
 */
export function finetuneConfig(
  profile: FinetuneProfile,
  arm: FinetuneArm,
  seed: number,
): Partial<TrainConfig> {
  const spec = FINETUNE_PROFILE_SPECS[profile];
  return { ...spec.shared, ...spec.finetune, ...arm.overrides, seed };
}

/** The base's folder, relative to the output folder. */
export const FINETUNE_BASE_DIR = "base";

/** The folder of one fine-tuning run, relative to the output folder. */
export function finetuneRunDir(armId: string, seed: number): string {
  return `arms/${armId}/seed-${seed}`;
}
