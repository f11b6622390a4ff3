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

/**
 * The reproduction's profiles: `micro` for tests, `quick` to check, `full`
 * for the four-arm results; `study` is the seeded grid of the paper's
 * Sections 4.1-4.2 plus STARS ({@linkcode STUDY_ARMS}), `study-micro` its
 * plumbing check.
 */
export const PROFILES = ["micro", "quick", "full", "study", "study-micro"] as const;
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

const PLACEMENT_SHORT = {
  pre_norm: "pre",
  post_norm: "post",
  sandwich_branch: "sb",
  sandwich_dual: "sd",
} as const;
type Placement = keyof typeof PLACEMENT_SHORT;
const PLACEMENTS = Object.keys(PLACEMENT_SHORT) as Placement[];

const fixedArm = (placement: Placement): Arm => ({
  id: `F-${PLACEMENT_SHORT[placement]}`,
  label: `fixed 4 loops, ${placement}`,
  short: `fixed 4, ${placement}`,
  overrides: { loop_sampler: "fixed", loops: 4, norm_placement: placement, reg_weight: 0 },
});
const randomArm = (placement: Placement): Arm => ({
  id: `R-${PLACEMENT_SHORT[placement]}`,
  label: `log-normal loops, ${placement}`,
  short: `log-normal, ${placement}`,
  overrides: { loop_sampler: "lognormal", norm_placement: placement, reg_weight: 0 },
});
const starsArm = (placement: Placement): Arm => ({
  id: `S-${PLACEMENT_SHORT[placement]}`,
  label: `STARS: log-normal loops, ${placement}, Jacobian penalty`,
  short: `STARS, ${placement}`,
  overrides: {
    loop_sampler: "lognormal",
    norm_placement: placement,
    reg_weight: 0.1,
    reg_iters: 1,
    reg_mode: "jvp",
  },
});

/**
 * The seeded study's arms: the paper's Section 4.1 grid (each norm placement
 * at fixed 4 loops, `F-*`), Section 4.2 (log-normal depth with each
 * placement, `R-*`), and STARS (log-normal depth plus the penalty, lambda
 * 0.1, K 1) with sandwich_dual and pre_norm (`S-*`).
 */
export const STUDY_ARMS: readonly Arm[] = [
  ...PLACEMENTS.map(fixedArm),
  ...PLACEMENTS.map(randomArm),
  starsArm("sandwich_dual"),
  starsArm("pre_norm"),
];

/** What a profile fixes besides the arms' configs. */
export interface ProfileSpec {
  /** The arms (default {@linkcode ARMS}). */
  arms?: readonly Arm[];
  /**
   * Seeds each arm is trained with; each run lives in `arms/<id>/seed-<n>`.
   * Undefined: one run per arm with the base's seed, in `arms/<id>`.
   */
  seeds?: readonly number[];
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

const MICRO_BASE: Partial<TrainConfig> = {
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
};

// The largest budget whose 10 arms x 3 seeds train and sweep on a 2-core CPU
// in a working session; repro/pilot.ts records whether it meets the study's
// criterion (every arm off its loss plateau before the penalty switches on).
const FULL_BASE: Partial<TrainConfig> = {
  ...SMALL_MODEL,
  d_model: 64,
  d_ff: 128,
  init_std: 0.02,
  lr: 1e-3,
  steps: 6000,
  warmup_steps: 1200,
  eval_every: 1000,
  checkpoint_every: 250,
};

/** The profiles. */
export const PROFILE_SPECS: Record<Profile, ProfileSpec> = {
  micro: {
    base: MICRO_BASE,
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
    base: FULL_BASE,
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
  study: {
    base: FULL_BASE,
    arms: STUDY_ARMS,
    seeds: [1, 2, 3],
    grid: GRID,
    dynamicsSamples: 64,
    scaling: "study: the full profile's budget for every arm and seed (d_model 64, 4 heads, " +
      "d_ff 128, batch 64, lr 1e-3, 6 000 steps with 1 200 warm-up, after which the penalty " +
      "switches on; no dropout; the toolkit's optimiser defaults: gradient clip 1, lr floor " +
      "0.1 of the peak, weight decay 0.01 on matrices only, JVP power iteration), seeds 1, 2 " +
      "and 3, all 5 076 test problems. The paper's: d_model 512, 8 heads, d_ff 1 024, batch " +
      "512, lr 1e-4, 10 000 steps with 2 000 warm-up, dropout 0.1. See pilot.md for the " +
      "budgets tried and why this one was run.",
  },
  "study-micro": {
    base: MICRO_BASE,
    arms: STUDY_ARMS,
    seeds: [1, 2],
    testLimit: 16,
    grid: [1, 2, 4, 8],
    dynamicsSamples: 4,
    scaling: "study-micro: a plumbing check only (a few steps per arm and seed).",
  },
};

/** The arms of a profile. */
export function profileArms(profile: Profile): readonly Arm[] {
  return PROFILE_SPECS[profile].arms ?? ARMS;
}

/**
 * The full config of one arm in one profile: the base, then the arm's keys.
 * As in the paper, the penalty switches on when the learning-rate warm-up ends.
 */
export function armConfig(profile: Profile, arm: Arm, seed?: number): Partial<TrainConfig> {
  const base = PROFILE_SPECS[profile].base;
  return { ...base, reg_warmup: base.warmup_steps, ...arm.overrides, ...(seed ? { seed } : {}) };
}

/** The folder of one run of an arm, relative to the output folder. */
export function runDir(profile: Profile, armId: string, seed: number): string {
  return PROFILE_SPECS[profile].seeds ? `arms/${armId}/seed-${seed}` : `arms/${armId}`;
}

/** The seeds of a profile (its base seed when it has no seed list). */
export function profileSeeds(profile: Profile): readonly number[] {
  const spec = PROFILE_SPECS[profile];
  return spec.seeds ?? [spec.base.seed ?? 1];
}
