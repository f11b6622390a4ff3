/**
 * The fine-tuning experiment's pipeline: pretrain the base at fixed 4
 * loops, fine-tune a copy of it per arm and seed (its weights, a fresh
 * optimiser: config key `init`), and evaluate the base and every
 * fine-tuned model on one held-out test set (drawn by a fixed seed) at each
 * loop count of the grid, overall and by number of steps, and with the
 * adaptive exit rules. Every run resumes from its checkpoint; a finished
 * run's evaluation is kept in its folder (`result.json`) and only read
 * again, so arms can run as separate processes and a last call writes the
 * report.
 *
 * @module
 */
import type { DepthPoint, ExitPoint } from "../eval/sweep.ts";
import { evaluateLoops } from "../eval/evaluate.ts";
import { parseExitRule } from "../eval/exit.ts";
import type { StepsTable } from "../eval/steps.ts";
import { mixSeed } from "../utils/rng.ts";
import type { LoopedLM } from "../models/looped.ts";
import type { Task, TextProblem } from "../tasks/task.ts";
import { resolveConfig, type TrainConfig } from "../train/config.ts";
import { taskOf } from "../train/data.ts";
import { InputError } from "../train/errors.ts";
import { hasCheckpoint, readManifest } from "../train/checkpoint.ts";
import { lossCurve, readStepRecords, trainingSeconds } from "../train/metrics_log.ts";
import { train, type TrainEvent } from "../train/trainer.ts";
import {
  FINETUNE_BASE_DIR,
  FINETUNE_PROFILE_SPECS,
  type FinetuneArm,
  finetuneConfig,
  type FinetuneProfile,
  finetuneRunDir,
  pretrainConfig,
} from "./finetune_arms.ts";
import {
  type ArmComparison,
  type ArmMetrics,
  armMetrics,
  compareArms,
  type FinetuneRun,
} from "./finetune_metrics.ts";
import { sameConfig, type SweepEvent } from "./run.ts";
import { mixedComputation } from "./provenance.ts";

/** The id of the base model among the evaluated models. */
export const BASE_ID = "base";

/** The seed that draws the test set (the same problems for every model). */
export const FINETUNE_TEST_SEED = 16;

/** One evaluated model: the base, or one arm's fine-tuning run for one seed. */
export interface FinetuneModelResult {
  /** `base` or the arm's id. */
  arm: string;
  /** The training seed (the base's seed for the base). */
  seed: number;
  /** What the model is. */
  label: string;
  /** Its full training config (fine-tuning runs name the base in `init`). */
  config: TrainConfig;
  /** Accuracy and Wilson interval at each loop count of the grid. */
  sweep: DepthPoint[];
  /** Accuracy by number of steps x loop count. */
  bySteps: StepsTable;
  /** The adaptive exit rules' results. */
  exits: ExitPoint[];
  /** Training wall time over the logged steps (across resumes), seconds. */
  trainSeconds: number;
  /** Wall time of the evaluation, seconds. */
  evalSeconds: number;
  /** Training cross-entropy, windowed: `[step, ce]`. */
  lossCurve: [number, number][];
  /** What computed the run (commit, backend, kernels), when the caller said. */
  provenance?: Record<string, unknown>;
}

/** The experiment's result. */
export interface FinetuneResult {
  /** The profile run. */
  profile: FinetuneProfile;
  /** What was scaled from the paper, and why. */
  scaling: string;
  /** Test problems (the same for every model). */
  testProblems: number;
  /** Their seed. */
  testSeed: number;
  /** Evaluated models: the base (when evaluated), then each arm's seeds. */
  models: FinetuneModelResult[];
  /** Runs asked for but not finished (with `finishedOnly`). */
  missing: { arm: string; seed: number }[];
  /** The paper's metrics per arm over seeds (the base as one arm of one seed). */
  metrics: ArmMetrics[];
  /** STARS and random loops against SFT, and STARS against random loops. */
  comparisons: ArmComparison[];
}

/** Options of {@linkcode runFinetune}. */
export interface FinetuneOptions {
  /** The profile. */
  profile: FinetuneProfile;
  /** Folder of the base (`base/`) and the runs (`arms/<id>/seed-<n>`). */
  outDir: string;
  /** Models to train and evaluate: `base` and arm ids (default all). */
  arms?: string[];
  /** Fine-tuning seeds (default all of the profile's). */
  seeds?: number[];
  /** What computes the runs, stored with each new result. */
  provenance?: Record<string, unknown>;
  /** Progress: a run's training events, then its evaluation's. */
  onEvent?: (run: string, event: TrainEvent | FinetuneEvalEvent) => void;
  /** Stops training (each run checkpoints and the pipeline returns early). */
  signal?: AbortSignal;
  /** Train nothing: read the finished runs, list the rest as missing. */
  finishedOnly?: boolean;
}

/** Progress of one model's evaluation (a depth sweep, then the exit rules). */
export type FinetuneEvalEvent =
  | SweepEvent
  | { kind: "exit"; point: ExitPoint };

/** The base's folder in `outDir`: what every fine-tuning run's `init` names. */
export function baseDir(outDir: string): string {
  return `${outDir}/${FINETUNE_BASE_DIR}`;
}

/** One arm's full config for one seed, starting from the base in `outDir`. */
export function armRunConfig(
  profile: FinetuneProfile,
  arm: FinetuneArm,
  seed: number,
  outDir: string,
): TrainConfig {
  return resolveConfig({ ...finetuneConfig(profile, arm, seed), init: baseDir(outDir) });
}

/** The held-out test set: the fine-tuning task's test split, distinct problems, a fixed seed. */
export function finetuneTestSet(profile: FinetuneProfile): {
  task: Task;
  problems: TextProblem[];
} {
  const spec = FINETUNE_PROFILE_SPECS[profile];
  const config = resolveConfig(finetuneConfig(profile, spec.arms[0], spec.seeds[0]));
  const task = taskOf(config);
  const problems = task.sample("test", mixSeed(FINETUNE_TEST_SEED, 0), spec.testSize, true);
  return { task, problems };
}

/** Runs (or resumes) the base and the arms and evaluates them. */
export async function runFinetune(o: FinetuneOptions): Promise<FinetuneResult> {
  const spec = FINETUNE_PROFILE_SPECS[o.profile];
  const wanted = (id: string) => !o.arms || o.arms.includes(id);
  const seeds = spec.seeds.filter((s) => !o.seeds || o.seeds.includes(s));
  const { task, problems } = finetuneTestSet(o.profile);
  const models: FinetuneModelResult[] = [];
  const missing: { arm: string; seed: number }[] = [];
  const done = (): FinetuneResult => summary(o.profile, problems.length, models, missing);

  const base = resolveConfig(pretrainConfig(o.profile));
  const baseRun = { arm: BASE_ID, seed: base.seed, label: "base: pretrained at fixed 4 loops" };
  const arms = spec.arms.filter((a) => wanted(a.id));
  if (
    !o.finishedOnly && arms.length && !wanted(BASE_ID) && !await finished(baseDir(o.outDir), base)
  ) {
    throw new InputError(
      `${baseDir(o.outDir)}: the base is not trained yet; run --arms ${BASE_ID} first ` +
        "(or leave out --arms), then the arms",
    );
  }
  if (!o.finishedOnly && o.provenance) {
    const dirs = [
      ...(wanted(BASE_ID) ? [baseDir(o.outDir)] : []),
      ...arms.flatMap((arm) => seeds.map((seed) => `${o.outDir}/${finetuneRunDir(arm.id, seed)}`)),
    ];
    await checkSameComputation(dirs, o.provenance);
  }
  if (wanted(BASE_ID)) {
    const r = await modelResult(baseRun, base, baseDir(o.outDir), o, task, problems);
    if (r === "interrupted") return done();
    if (r === "missing") missing.push({ arm: BASE_ID, seed: base.seed });
    else models.push(r);
  }
  for (const arm of arms) {
    for (const seed of seeds) {
      const config = armRunConfig(o.profile, arm, seed, o.outDir);
      const dir = `${o.outDir}/${finetuneRunDir(arm.id, seed)}`;
      const r = await modelResult(
        { arm: arm.id, seed, label: arm.label },
        config,
        dir,
        o,
        task,
        problems,
      );
      if (r === "interrupted") return done();
      if (r === "missing") missing.push({ arm: arm.id, seed });
      else models.push(r);
    }
  }
  return done();
}

// The models of one study are computed alike: a finished one computed on
// another path or numerics revision than this process's is an error before
// anything trains.
async function checkSameComputation(dirs: string[], here: Record<string, unknown>) {
  for (const dir of dirs) {
    let saved: FinetuneModelResult;
    try {
      saved = JSON.parse(await Deno.readTextFile(`${dir}/result.json`));
    } catch {
      continue;
    }
    const problem = mixedComputation(saved.provenance, here);
    if (problem) throw new InputError(`${dir} ${problem}`);
  }
}

// Whether a checkpoint folder holds a run of `config` trained to its end.
async function finished(dir: string, config: TrainConfig): Promise<boolean> {
  if (!await hasCheckpoint(dir)) return false;
  const m = await readManifest(dir);
  return m.step >= config.steps && sameConfig(m.config, config);
}

type Who = { arm: string; seed: number; label: string };

// A model's result: read back when saved with the same config and test set,
// else trained (resumed) and evaluated, then saved.
async function modelResult(
  who: Who,
  config: TrainConfig,
  dir: string,
  o: FinetuneOptions,
  task: Task,
  problems: readonly TextProblem[],
): Promise<FinetuneModelResult | "missing" | "interrupted"> {
  const saved = await savedResult(`${dir}/result.json`, config, o.profile, problems.length);
  if (saved) return saved;
  if (o.finishedOnly) return "missing";
  const name = who.arm === BASE_ID ? BASE_ID : `${who.arm} seed ${who.seed}`;
  const trained = await train(config, {
    outDir: dir,
    signal: o.signal,
    onEvent: (e) => o.onEvent?.(name, e),
  });
  try {
    if (trained.status !== "done") return "interrupted";
    const t0 = performance.now();
    const evaluated = await evaluateModel(
      trained.model,
      task,
      problems,
      o.profile,
      (e) => o.onEvent?.(name, e),
    );
    const steps = await readStepRecords(dir);
    const result: FinetuneModelResult = {
      ...who,
      config,
      ...evaluated,
      trainSeconds: trainingSeconds(steps),
      evalSeconds: (performance.now() - t0) / 1000,
      lossCurve: lossCurve(steps, Math.max(1, Math.round(config.steps / 200))),
      provenance: o.provenance,
    };
    await Deno.writeTextFile(`${dir}/result.json`, JSON.stringify(result));
    return result;
  } finally {
    trained.model.dispose();
  }
}

// An arm starts from the base of its own output folder: a saved arm whose
// folder has moved (e.g. committed under docs/results/) still matches.
function relocated(saved: unknown, config: TrainConfig): unknown {
  const init = (saved as { init?: unknown })?.init;
  const fromBase = (path: unknown) =>
    typeof path === "string" && path.replace(/\/+$/, "").endsWith(`/${FINETUNE_BASE_DIR}`);
  return fromBase(init) && fromBase(config.init)
    ? { ...saved as object, init: config.init }
    : saved;
}

async function savedResult(
  path: string,
  config: TrainConfig,
  profile: FinetuneProfile,
  testProblems: number,
): Promise<FinetuneModelResult | null> {
  let saved: FinetuneModelResult;
  try {
    saved = JSON.parse(await Deno.readTextFile(path));
  } catch {
    return null;
  }
  const grid = FINETUNE_PROFILE_SPECS[profile].grid;
  const same = sameConfig(relocated(saved.config, config), config) &&
    saved.sweep?.[0]?.total === testProblems &&
    saved.sweep.map((p) => p.depth).join() === grid.join();
  return same ? saved : null;
}

/**
 * One model on the test set: accuracy at each loop count of the profile's
 * grid (and by number of steps), then each adaptive exit rule.
 */
export async function evaluateModel(
  model: LoopedLM,
  task: Task,
  problems: readonly TextProblem[],
  profile: FinetuneProfile,
  onEvent?: (e: FinetuneEvalEvent) => void,
): Promise<{ sweep: DepthPoint[]; bySteps: StepsTable; exits: ExitPoint[] }> {
  const spec = FINETUNE_PROFILE_SPECS[profile];
  const work = [...spec.grid, ...spec.exitRules.map(() => spec.exitMax)];
  onEvent?.({ kind: "sweep-start", grid: work, problems: problems.length });
  const evaluation = await evaluateLoops(model, task, problems, {
    grid: spec.grid,
    exitRules: spec.exitRules.map(parseExitRule),
    exitMax: spec.exitMax,
    bySteps: true,
    onDepth: (point) => onEvent?.({ kind: "sweep", point }),
    onExit: (point) => onEvent?.({ kind: "exit", point }),
    onProblem: (p) => onEvent?.({ kind: "problem", depth: p.loops }),
  });
  return { sweep: evaluation.points, bySteps: evaluation.bySteps!, exits: evaluation.exits };
}

/** A model's curve and exits as the metrics read them. */
export function asRun(m: FinetuneModelResult): FinetuneRun {
  return {
    arm: m.arm,
    seed: m.seed,
    curve: m.sweep.map((p) => ({ loops: p.depth, accuracy: p.accuracy })),
    exits: m.exits,
  };
}

// The comparisons the paper makes (and random loops against both).
const COMPARED: [string, string][] = [["STARS", "SFT"], ["RAND", "SFT"], ["STARS", "RAND"]];

function summary(
  profile: FinetuneProfile,
  testProblems: number,
  models: FinetuneModelResult[],
  missing: { arm: string; seed: number }[],
): FinetuneResult {
  const metrics = models.length ? armMetrics(models.map(asRun)) : [];
  const comparisons = COMPARED.flatMap(([a, b]) => {
    const x = metrics.find((m) => m.arm === a), y = metrics.find((m) => m.arm === b);
    return x && y ? [compareArms(x, y)] : [];
  });
  return {
    profile,
    scaling: FINETUNE_PROFILE_SPECS[profile].scaling,
    testProblems,
    testSeed: FINETUNE_TEST_SEED,
    models,
    missing,
    metrics,
    comparisons,
  };
}
