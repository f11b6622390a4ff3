/**
 * The reproduction pipeline: train each arm (resuming from its checkpoint),
 * sweep its accuracy over loop depth on the paper's test split, record the
 * latent dynamics (rho(J) and the relative latent step at each depth), and
 * return one plain result object for the report.
 *
 * @module
 */
import { type DepthPoint, depthSweep } from "../eval/sweep.ts";
import { modelDynamics } from "../eval/dynamics.ts";
import type { Problem } from "../tasks/arithmetic.ts";
import { resolveConfig, type TrainConfig } from "../train/config.ts";
import { taskOf } from "../train/data.ts";
import { train, type TrainEvent } from "../train/trainer.ts";
import { lossCurve, readStepRecords, trainingSeconds } from "../train/metrics_log.ts";
import { plateauExit } from "./plateau.ts";
import { InputError } from "../train/errors.ts";
import { mixedComputation } from "./provenance.ts";
import {
  type Arm,
  armConfig,
  type Profile,
  PROFILE_SPECS,
  profileArms,
  profileSeeds,
  runDir,
} from "./arms.ts";

/** Dynamics at the final state after `depth` loops. */
export interface DepthDynamics {
  /** Loops applied. */
  depth: number;
  /** Estimate of rho(df/dh) at h_depth (largest over the sampled problems). */
  rho: number | null;
  /** Mean ||h_depth - h_{depth-1}|| / ||h_depth|| over answer positions. */
  relStep: number | null;
}

/** Everything measured for one arm. */
export interface ArmResult {
  /** The arm's id (A-D, or a study arm such as `S-sd`). */
  id: string;
  /** The run's seed. */
  seed: number;
  /** What the arm is. */
  label: string;
  /** The arm's full training config. */
  config: TrainConfig;
  /** Training depth to mark on plots (fixed arms), or the sampler's mean. */
  trainLoops?: number;
  /** Held-out exact match at the end of training (at `loops`). */
  trainAccuracy: number;
  /** Accuracy and Wilson interval per depth on the test split. */
  sweep: DepthPoint[];
  /** rho(J) and relative step per depth. */
  dynamics: DepthDynamics[];
  /** The best depth and its accuracy. */
  peak: { depth: number; accuracy: number };
  /** Training wall time summed over the logged steps (across resumes), in seconds. */
  trainSeconds: number;
  /** Wall time of the depth sweep and the dynamics, in seconds. */
  sweepSeconds: number;
  /** Training cross-entropy, averaged over windows of steps: `[step, ce]`. */
  lossCurve: [number, number][];
  /** First step where the 50-step mean cross-entropy fell below 0.1 (null: never). */
  plateauExit?: number | null;
  /** What computed the run (commit, backend, kernels), when the caller said. */
  provenance?: Record<string, unknown>;
}

/** Whether the paper's claim held here. */
export interface ReproCheck {
  /** Arm D's accuracy at the deepest depth over its own peak. */
  dKeepsPeakAtDeepest: number | null;
  /** Arm A's accuracy at depth 32 over its own peak. */
  aAtDepth32: number | null;
  /** D keeps >= 95% of its peak at depth 100 and A is below 50% of its peak by 32. */
  held: boolean | null;
}

/** The whole reproduction's result. */
export interface ReproResult {
  /** Profile run. */
  profile: Profile;
  /** What was scaled from the paper and why. */
  scaling: string;
  /** Test problems used. */
  testProblems: number;
  /** One result per arm, in order. */
  arms: ArmResult[];
  /** Runs asked for but not finished (with `finishedOnly`), in order. */
  missing?: { id: string; seed: number }[];
  /** The paper's check. */
  check: ReproCheck;
}

/** Options of {@linkcode runRepro}. */
export interface ReproOptions {
  /** Profile to run. */
  profile: Profile;
  /** Folder for each arm's checkpoint (`arms/<id>`) and results. */
  outDir: string;
  /** The paper's test problems (the sweep uses the profile's share of them). */
  testProblems: Problem[];
  /** Arms to run (default all of the profile's). */
  arms?: string[];
  /** Seeds to run (default all of the profile's). */
  seeds?: number[];
  /** What computes the runs (commit, backend, kernels), stored with each new result. */
  provenance?: Record<string, unknown>;
  /** Progress: an arm's training events, then sweep and dynamics stages. */
  onEvent?: (arm: string, event: TrainEvent | SweepEvent) => void;
  /** Stops training (each arm checkpoints and the run returns early). */
  signal?: AbortSignal;
  /** Only read finished runs (train nothing); the rest are listed as missing. */
  finishedOnly?: boolean;
}

/**
 * Progress of a run's depth sweep: `start` with its loop grid and problems,
 * one `problem` per problem decoded at `depth` loops, a `sweep` per finished
 * loop count.
 */
export type SweepEvent =
  | { kind: "sweep-start"; grid: readonly number[]; problems: number }
  | { kind: "problem"; depth: number }
  | { kind: "sweep"; point: DepthPoint };

/** Runs (or resumes) the arms and measures them. */
export async function runRepro(o: ReproOptions): Promise<ReproResult> {
  const spec = PROFILE_SPECS[o.profile];
  const chosen = profileArms(o.profile).filter((a) => !o.arms || o.arms.includes(a.id));
  const seeds = profileSeeds(o.profile).filter((s) => !o.seeds || o.seeds.includes(s));
  const problems = o.testProblems.slice(0, spec.testLimit);
  if (!o.finishedOnly && o.provenance) await checkSamePath(o, chosen, seeds);
  const arms: ArmResult[] = [];
  const missing: { id: string; seed: number }[] = [];
  runs: for (const arm of chosen) {
    for (const seed of seeds) {
      const dir = `${o.outDir}/${runDir(o.profile, arm.id, seed)}`;
      const saved = `${dir}/result.json`;
      const done = await reusable(saved, arm, seed, o, problems.length);
      if (!done && o.finishedOnly) {
        missing.push({ id: arm.id, seed });
        continue;
      }
      const result = done ?? await runArm(arm, seed, dir, o, problems);
      if (!result) break runs; // interrupted
      arms.push(result);
      if (!done) await Deno.writeTextFile(saved, JSON.stringify(result));
    }
  }
  return {
    profile: o.profile,
    scaling: spec.scaling,
    testProblems: problems.length,
    arms,
    ...(o.finishedOnly ? { missing } : {}),
    check: paperCheck(arms),
  };
}

// Runs of one study are computed on one path and numerics revision: a
// finished run on another than this process's is an error before anything
// trains.
async function checkSamePath(o: ReproOptions, arms: readonly Arm[], seeds: readonly number[]) {
  for (const arm of arms) {
    for (const seed of seeds) {
      let saved: ArmResult;
      try {
        saved = JSON.parse(
          await Deno.readTextFile(`${o.outDir}/${runDir(o.profile, arm.id, seed)}/result.json`),
        );
      } catch {
        continue;
      }
      const problem = mixedComputation(saved.provenance, o.provenance);
      if (problem) throw new InputError(`${o.outDir}: ${arm.id} seed ${seed} ${problem}`);
    }
  }
}

// An arm measured before, with the same config and test set, is not redone
// (so a final run that writes the report after arms ran in separate
// processes only reads their results).
async function reusable(
  path: string,
  arm: Arm,
  seed: number,
  o: ReproOptions,
  testProblems: number,
): Promise<ArmResult | null> {
  let saved: ArmResult & { testProblems?: number };
  try {
    saved = JSON.parse(await Deno.readTextFile(path));
  } catch {
    return null;
  }
  const config = resolveConfig(armConfig(o.profile, arm, seed));
  const same = sameConfig(saved.config, config) &&
    saved.sweep?.[0]?.total === testProblems &&
    saved.sweep.map((p) => p.depth).join() === PROFILE_SPECS[o.profile].grid.join();
  return same ? { ...saved, seed: saved.seed ?? config.seed } : null;
}

/**
 * Whether a saved config is `config`: compared after filling in today's
 * defaults, so a key added to the toolkit since (with a default that keeps
 * the old behaviour) does not make finished runs look different.
 */
export function sameConfig(saved: unknown, config: TrainConfig): boolean {
  try {
    const then = resolveConfig(saved as Record<string, unknown>);
    return Object.keys(config).every((k) =>
      JSON.stringify(then[k as keyof TrainConfig]) ===
        JSON.stringify(config[k as keyof TrainConfig])
    );
  } catch {
    return false; // a key or value the toolkit no longer takes
  }
}

async function runArm(
  arm: Arm,
  seed: number,
  dir: string,
  o: ReproOptions,
  problems: Problem[],
): Promise<ArmResult | null> {
  const spec = PROFILE_SPECS[o.profile];
  const config = resolveConfig(armConfig(o.profile, arm, seed));
  const trained = await train(config, {
    outDir: dir,
    signal: o.signal,
    onEvent: (e) => o.onEvent?.(runName(arm.id, seed, o.profile), e),
  });
  const model = trained.model;
  try {
    if (trained.status !== "done") return null;
    const task = taskOf(config);
    const t0 = performance.now();
    const name = runName(arm.id, seed, o.profile);
    o.onEvent?.(name, { kind: "sweep-start", grid: spec.grid, problems: problems.length });
    const sweep = await depthSweep(model, task, problems, spec.grid, {
      onDepth: (point) => o.onEvent?.(name, { kind: "sweep", point }),
      onProblem: (p) => o.onEvent?.(name, { kind: "problem", depth: p.depth }),
    });
    const deepest = Math.max(...spec.grid);
    const dyn = await modelDynamics(model, task, problems.slice(0, spec.dynamicsSamples), deepest, {
      rhoEvery: 1,
    });
    const dynamics = spec.grid.map((depth) => ({
      depth,
      rho: dyn.points[depth].rho,
      relStep: dyn.points[depth].relStep,
    }));
    const sweepSeconds = (performance.now() - t0) / 1000;
    const peak = sweep.reduce((best, p) => p.accuracy > best.accuracy ? p : best, sweep[0]);
    const steps = await readStepRecords(dir);
    return {
      id: arm.id,
      seed,
      label: arm.label,
      config,
      trainLoops: config.loop_sampler === "fixed" ? config.loops : undefined,
      trainAccuracy: trained.accuracy ?? 0,
      sweep,
      dynamics,
      peak: { depth: peak.depth, accuracy: peak.accuracy },
      trainSeconds: trainingSeconds(steps),
      sweepSeconds,
      lossCurve: lossCurve(steps, Math.max(1, Math.round(config.steps / 200))),
      plateauExit: plateauExit(steps),
      provenance: o.provenance,
    };
  } finally {
    model.dispose();
  }
}

// Progress names: the arm, and the seed where the profile has several.
function runName(id: string, seed: number, profile: Profile): string {
  return PROFILE_SPECS[profile].seeds ? `${id} seed ${seed}` : id;
}

/** The paper's check, on whichever of arms A and D were run. */
export function paperCheck(arms: readonly ArmResult[]): ReproCheck {
  const ratio = (id: string, depth: (a: ArmResult) => number) => {
    const a = arms.find((x) => x.id === id);
    if (!a || a.peak.accuracy === 0) return null;
    const at = a.sweep.find((p) => p.depth === depth(a));
    return at ? at.accuracy / a.peak.accuracy : null;
  };
  const d = ratio("D", (a) => Math.max(...a.sweep.map((p) => p.depth)));
  const a = ratio("A", () => 32);
  return {
    dKeepsPeakAtDeepest: d,
    aAtDepth32: a,
    held: d === null || a === null ? null : d >= 0.95 && a < 0.5,
  };
}
