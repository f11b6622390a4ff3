/**
 * The pilot that picks the study's budget. A budget is fit for the study
 * when every arm leaves its loss plateau (the 50-step mean cross-entropy
 * below 0.1) in every seed before the penalty switches on, so that the
 * STARS arms are compared with random depth on a model that has learned,
 * not on one the penalty froze on the plateau.
 *
 * Only the penalty-free arms are trained, and only up to the penalty's
 * first step: until then a STARS arm is the random-depth arm with the same
 * placement, step for step (the penalty's weight is 0 and draws nothing).
 * Runs stop there with a checkpoint, so the chosen budget's pilot runs are
 * the first part of the study's. Random-depth arms go first because they
 * leave the plateau last; with `failFast` a candidate stops at its first
 * run that stays on the plateau.
 *
 * @module
 */
import { type Arm, PROFILE_SPECS, STUDY_ARMS } from "./arms.ts";
import { plateauExit } from "./plateau.ts";
import { resolveConfig, type TrainConfig } from "../train/config.ts";
import { readStepRecords, trainingSeconds } from "../train/metrics_log.ts";
import { train, type TrainEvent } from "../train/trainer.ts";

/** A budget to try. */
export interface PilotCandidate {
  /** Short name. */
  name: string;
  /** The keys every arm shares (the arms' own keys go on top). */
  base: Partial<TrainConfig>;
  /** What it changes from the study's budget, and why. */
  why: string;
}

// The study profile's budget, without its periodic held-out evaluations.
const STUDY_BASE: Partial<TrainConfig> = { ...PROFILE_SPECS.study.base, eval_every: 0 };

/** The candidates, from cheapest to dearest per run, all moving toward the paper's budget. */
export const PILOT_CANDIDATES: readonly PilotCandidate[] = [
  {
    name: "study",
    base: STUDY_BASE,
    why: "the full profile's budget: d_model 64, batch 64, lr 1e-3, 6 000 steps, 1 200 warm-up",
  },
  {
    name: "lr-3e-3",
    base: { ...STUDY_BASE, lr: 3e-3 },
    why: "three times the learning rate: plateaus are often left sooner with larger steps",
  },
  {
    name: "no-clip",
    base: { ...STUDY_BASE, grad_clip: 0 },
    why: "the reference's optimiser before the penalty (no gradient clipping; its other " +
      "differences, the lr floor and the penalty's settings, act only after the warm-up)",
  },
  {
    name: "paper-steps",
    base: { ...STUDY_BASE, steps: 10000, warmup_steps: 2000 },
    why: "the paper's 10 000 steps and 2 000 warm-up: the penalty starts 800 steps later",
  },
  {
    name: "wide",
    base: { ...STUDY_BASE, d_model: 128, d_ff: 256 },
    why: "twice the width (the paper's is 512): wider models usually leave plateaus sooner",
  },
  {
    name: "batch-256",
    base: { ...STUDY_BASE, batch_size: 256 },
    why: "four times the batch (the paper's is 512): four times the problems per step",
  },
];

/** One pilot run. */
export interface PilotRun {
  /** The arm. */
  arm: string;
  /** The seed. */
  seed: number;
  /** The first step with the penalty on (the run stops before it). */
  penaltyStep: number;
  /** First step where the 50-step mean cross-entropy fell below 0.1 (null: not by then). */
  plateauExit: number | null;
  /** Cross-entropy averaged over the last 50 steps run. */
  finalCe: number;
  /** Training wall time, in seconds. */
  seconds: number;
}

/** One candidate's outcome. */
export interface PilotOutcome {
  /** The candidate's name. */
  name: string;
  /** What it changes, and why. */
  why: string;
  /** The shared config. */
  base: Partial<TrainConfig>;
  /** The runs done. */
  runs: PilotRun[];
  /** Runs planned but not done (the candidate had already failed, or it was interrupted). */
  skipped: { arm: string; seed: number }[];
  /** Every planned run left the plateau before the penalty (null: incomplete without a failure). */
  fit: boolean | null;
}

/** Options of {@linkcode runPilot}. */
export interface PilotOptions {
  /** Folder for each run (`<candidate>/<arm>/seed-<n>`). */
  outDir: string;
  /** The candidates (default all of {@linkcode PILOT_CANDIDATES}). */
  candidates?: readonly PilotCandidate[];
  /** Seeds (default 1, 2, 3). */
  seeds?: readonly number[];
  /** Arms (default the study's penalty-free arms). */
  arms?: readonly Arm[];
  /** Stop a candidate at its first run that stays on the plateau (default true). */
  failFast?: boolean;
  /** Only read finished runs (train nothing); the rest count as skipped. */
  finishedOnly?: boolean;
  /** Stops the pilot (the current run checkpoints). */
  signal?: AbortSignal;
  /** Progress of each run. */
  onEvent?: (run: string, event: TrainEvent) => void;
}

/** The study's arms without the penalty, random depth first. */
export function pilotArms(): Arm[] {
  const free = STUDY_ARMS.filter((a) => !a.overrides.reg_weight);
  return [
    ...free.filter((a) => a.overrides.loop_sampler !== "fixed"),
    ...free.filter((a) => a.overrides.loop_sampler === "fixed"),
  ];
}

/** Runs the pilot; each finished run is saved and read back on a rerun. */
export async function runPilot(o: PilotOptions): Promise<PilotOutcome[]> {
  const outcomes: PilotOutcome[] = [];
  for (const candidate of o.candidates ?? PILOT_CANDIDATES) {
    const outcome: PilotOutcome = {
      name: candidate.name,
      why: candidate.why,
      base: candidate.base,
      runs: [],
      skipped: [],
      fit: null,
    };
    const planned = (o.arms ?? pilotArms()).flatMap((arm) =>
      (o.seeds ?? [1, 2, 3]).map((seed) => ({ arm, seed }))
    );
    for (const { arm, seed } of planned) {
      const failed = outcome.runs.some((r) => !leftInTime(r));
      if ((failed && (o.failFast ?? true)) || o.signal?.aborted) {
        outcome.skipped.push({ arm: arm.id, seed });
        continue;
      }
      const dir = `${o.outDir}/${candidate.name}/${arm.id}/seed-${seed}`;
      const run = await savedRun(dir) ??
        (o.finishedOnly ? null : await pilotRun(candidate, arm, seed, dir, o));
      if (run) outcome.runs.push(run);
      else outcome.skipped.push({ arm: arm.id, seed });
    }
    const anyFailed = outcome.runs.some((r) => !leftInTime(r));
    outcome.fit = anyFailed ? false : outcome.skipped.length ? null : true;
    outcomes.push(outcome);
  }
  return outcomes;
}

/** Whether a run left the plateau before the penalty's first step. */
export function leftInTime(r: PilotRun): boolean {
  return r.plateauExit !== null && r.plateauExit < r.penaltyStep;
}

/**
 * The cheapest fit candidate (the list is ordered by cost), or null when
 * none is.
 */
export function chosenCandidate(outcomes: readonly PilotOutcome[]): PilotOutcome | null {
  return outcomes.find((c) => c.fit === true) ?? null;
}

async function savedRun(dir: string): Promise<PilotRun | null> {
  try {
    return JSON.parse(await Deno.readTextFile(`${dir}/pilot-run.json`));
  } catch {
    return null;
  }
}

async function pilotRun(
  candidate: PilotCandidate,
  arm: Arm,
  seed: number,
  dir: string,
  o: PilotOptions,
): Promise<PilotRun | null> {
  const config = resolveConfig({
    ...candidate.base,
    reg_warmup: candidate.base.warmup_steps,
    ...arm.overrides,
    seed,
  });
  // The trainer's step counter counts steps done: the penalty's first step
  // (index reg_warmup) is step reg_warmup + 1, so stop after reg_warmup.
  const stopAfter = config.reg_warmup;
  const local = new AbortController();
  const signal = o.signal ? AbortSignal.any([o.signal, local.signal]) : local.signal;
  const name = `${candidate.name} ${arm.id} seed ${seed}`;
  const trained = await train(config, {
    outDir: dir,
    signal,
    onEvent: (e) => {
      o.onEvent?.(name, e);
      if (e.kind === "step" && e.step >= stopAfter) local.abort();
    },
  });
  trained.model.dispose();
  if (trained.step < stopAfter) return null; // interrupted by the caller
  const records = (await readStepRecords(dir)).filter((r) => r.step <= stopAfter);
  const tail = records.slice(-50);
  const run: PilotRun = {
    arm: arm.id,
    seed,
    penaltyStep: stopAfter + 1,
    plateauExit: plateauExit(records),
    finalCe: tail.reduce((s, r) => s + (r.ce ?? r.loss), 0) / tail.length,
    seconds: trainingSeconds(records),
  };
  await Deno.writeTextFile(`${dir}/pilot-run.json`, JSON.stringify(run));
  return run;
}

/** The pilot as Markdown: each candidate's runs and verdict, and the choice. */
export function pilotMarkdown(outcomes: readonly PilotOutcome[], command: string): string {
  const chosen = chosenCandidate(outcomes);
  const lines = [
    "# Pilot: which budget lets every arm leave the loss plateau before the penalty?",
    "",
    `Made by \`${command}\`. Each run trains one penalty-free arm of the study up to the ` +
    "penalty's first step (a STARS arm is the random-depth arm with its placement until then) " +
    "and records the first step at which the 50-step mean training cross-entropy fell below " +
    "0.1. A candidate is fit when every run did so before the penalty's first step. Random-depth " +
    "arms run first; a candidate stops at its first run still on the plateau.",
    "",
  ];
  for (const c of outcomes) {
    lines.push(
      `## ${c.name}: ${c.fit === true ? "fit" : c.fit === false ? "not fit" : "incomplete"}`,
      "",
      `${c.why}.`,
      "",
      "| arm | seed | penalty from step | plateau exit | CE at the end | minutes |",
      "| --- | ---: | ---: | ---: | ---: | ---: |",
      ...c.runs.map((r) =>
        `| ${r.arm} | ${r.seed} | ${r.penaltyStep} | ${r.plateauExit ?? "not by then"} | ${
          r.finalCe.toFixed(3)
        } | ${(r.seconds / 60).toFixed(1)} |`
      ),
      "",
    );
    if (c.skipped.length) {
      lines.push(`Not run: ${c.skipped.map((s) => `${s.arm} seed ${s.seed}`).join(", ")}.`, "");
    }
  }
  lines.push(
    "## Choice",
    "",
    chosen
      ? `The cheapest fit candidate is **${chosen.name}**.`
      : "No candidate tried is fit: every one had a run still on its plateau when the " +
        "penalty would switch on (or was not completed).",
    "",
  );
  return lines.join("\n");
}
