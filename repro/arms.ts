/**
 * The reproduction's arms and profiles. Every arm shares one base config
 * (model size, data, step budget, seed, optimiser); each differs from it
 * only in the keys that define the arm:
 *
 * | arm | loops | norm placement | penalty |
 * | --- | --- | --- | --- |
 * | A | fixed 4 | pre_norm | none |
 * | B | fixed 4 | sandwich_dual | none |
 * | C | log-normal | sandwich_dual | none |
 * | D (STARS) | log-normal | sandwich_dual | lambda 0.1, K 1 |
 *
 * @module
 */
import type { TrainConfig } from "../train/config.ts";

/** The reproduction's profiles: `micro` for tests, `quick` to check, `full` for results. */
export const PROFILES = ["micro", "quick", "full"] as const;
/** One of {@linkcode PROFILES}. */
export type Profile = typeof PROFILES[number];

/** One arm: its letter, a description and the keys that define it. */
export interface Arm {
  /** A, B, C or D. */
  id: string;
  /** What the arm is. */
  label: string;
  /** A legend-sized name. */
  short: string;
  /** The keys in which this arm differs from the base config. */
  overrides: Partial<TrainConfig>;
}

/** The four arms of the paper's comparison. */
export const ARMS: readonly Arm[] = [
  {
    id: "A",
    label: "fixed 4 loops, pre_norm",
    short: "fixed 4, pre_norm",
    overrides: { loop_sampler: "fixed", loops: 4, norm_placement: "pre_norm", reg_weight: 0 },
  },
  {
    id: "B",
    label: "fixed 4 loops, sandwich_dual",
    short: "fixed 4, sandwich_dual",
    overrides: { loop_sampler: "fixed", loops: 4, norm_placement: "sandwich_dual", reg_weight: 0 },
  },
  {
    id: "C",
    label: "log-normal loops, sandwich_dual",
    short: "log-normal, sandwich_dual",
    overrides: { loop_sampler: "lognormal", norm_placement: "sandwich_dual", reg_weight: 0 },
  },
  {
    id: "D",
    label: "STARS: log-normal loops, sandwich_dual, Jacobian penalty",
    short: "STARS (C + penalty)",
    overrides: {
      loop_sampler: "lognormal",
      norm_placement: "sandwich_dual",
      reg_weight: 0.1,
      reg_iters: 1,
      reg_mode: "jvp",
    },
  },
];

/** What a profile fixes besides the arms' configs. */
export interface ProfileSpec {
  /** The base training config shared by every arm. */
  base: Partial<TrainConfig>;
  /** Test problems taken from the test file (all of them when undefined). */
  testLimit?: number;
  /** Loop counts of the depth sweep. */
  grid: number[];
  /** Problems whose latent dynamics are recorded. */
  dynamicsSamples: number;
  /** What was scaled down from the paper, and why (written into the results). */
  scaling: string;
}

// The paper: d_model 512, 8 heads, d_ff 1024, batch 512, lr 1e-4, 10 000
// steps with 2 000 warm-up, log-normal mu 2, sigma 0.7, clip [1, 100].
const SMALL_MODEL: Partial<TrainConfig> = {
  digits: 4,
  d_model: 32,
  n_heads: 4,
  d_ff: 64,
  dropout: 0,
  init_std: 0.08,
  lr: 3e-3,
  batch_size: 64,
  loop_mu: 2,
  loop_sigma: 0.7,
  loop_min: 1,
  loop_max: 100,
  seed: 1,
  eval_size: 200,
};

const GRID = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 100];

/** The profiles. */
export const PROFILE_SPECS: Record<Profile, ProfileSpec> = {
  micro: {
    base: {
      ...SMALL_MODEL,
      d_model: 16,
      n_heads: 2,
      d_ff: 32,
      batch_size: 8,
      steps: 3,
      warmup_steps: 1,
      loop_max: 6,
      eval_size: 5,
      eval_every: 0,
      checkpoint_every: 0,
    },
    testLimit: 16,
    grid: [1, 2, 4, 8],
    dynamicsSamples: 4,
    scaling: "micro: a plumbing check only (a few steps per arm).",
  },
  quick: {
    base: { ...SMALL_MODEL, steps: 600, warmup_steps: 60, eval_every: 0, checkpoint_every: 100 },
    testLimit: 1000,
    grid: GRID,
    dynamicsSamples: 32,
    scaling: "quick: 600 steps per arm and 1 000 test problems, to check that it all works.",
  },
  full: {
    base: {
      ...SMALL_MODEL,
      d_model: 64,
      d_ff: 128,
      init_std: 0.02,
      lr: 1e-3,
      steps: 6000,
      warmup_steps: 1200,
      eval_every: 1000,
      checkpoint_every: 250,
    },
    grid: GRID,
    dynamicsSamples: 64,
    scaling: "full: d_model 64 (paper 512), 4 heads (8), d_ff 128 (1 024), batch 64 (512), " +
      "6 000 steps (10 000) with 1 200 warm-up (2 000: the same 20%, after which the " +
      "penalty switches on), lr 1e-3 (1e-4), no dropout (0.1); the init (std 0.02), the " +
      "sampler (mu 2, sigma 0.7, clip [1, 100]), the penalty (lambda 0.1, K 1) and the test " +
      "split (all 5 076 problems) are the paper's. Scaled so that the four arms train and " +
      "sweep in about 35 minutes on a 2-core CPU (two processes of two arms). Width 64 " +
      "rather than 32 because in trial runs a 32-wide sandwich_dual model stayed on its loss " +
      "plateau for 4 000 steps with or without random depth, while a 64-wide one left it " +
      "within about 1 000 steps (the same for every arm).",
  },
};

/**
 * The full config of one arm in one profile: the base, then the arm's keys.
 * As in the paper, the penalty switches on when the learning-rate warm-up ends.
 */
export function armConfig(profile: Profile, arm: Arm): Partial<TrainConfig> {
  const base = PROFILE_SPECS[profile].base;
  return { ...base, reg_warmup: base.warmup_steps, ...arm.overrides };
}
