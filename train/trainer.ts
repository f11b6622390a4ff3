/**
 * The training run: draws each step's loop count and batch, steps the
 * optimiser, appends metrics as JSON lines, evaluates and checkpoints
 * periodically, resumes from a checkpoint, and stops cleanly on an abort
 * signal or a non-finite loss with the last good checkpoint on disk.
 *
 * The library never prints: progress reaches the caller through `onEvent`.
 */
import { LoopedLM } from "../models/looped.ts";
import { countParams } from "../models/params.ts";
import { sampleLoops, validateLoopSpec } from "../regularizers/loop_sampler.ts";
import { exactMatch } from "../eval/greedy.ts";
import { AdamW } from "./adamw.ts";
import { hasCheckpoint, loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { ConfigError, resolveConfig, type TrainConfig } from "./config.ts";
import { heldOutProblems, loopSpecOf, modelConfigOf, taskOf, trainBatch } from "./data.ts";
import { learningRate } from "./schedule.ts";
import { penaltyFromOptions } from "../regularizers/penalty_options.ts";
import { NonFiniteLossError, type Penalty, type StepResult, trainStep } from "./step.ts";

/** Something that happened during training, for progress display. */
export type TrainEvent =
  | { kind: "start"; step: number; steps: number; params: number; resumed: boolean }
  | {
    kind: "step";
    step: number;
    steps: number;
    loops: number;
    lr: number;
    ms: number;
    metrics: StepResult;
  }
  | { kind: "eval"; step: number; loops: number; accuracy: number; correct: number; total: number }
  | { kind: "checkpoint"; step: number; dir: string };

/** Options of {@linkcode train}. */
export interface TrainOptions {
  /** Folder for `checkpoint.json`, weights and `metrics.jsonl`; none = keep nothing on disk. */
  outDir?: string;
  /** Continue from the checkpoint in `outDir` if there is one (default true). */
  resume?: boolean;
  /** Stop after the current step, checkpoint, and return. */
  signal?: AbortSignal;
  /** Receives progress events. */
  onEvent?: (event: TrainEvent) => void;
  /**
   * The penalty term of each step. Defaults to the configured one (`reg_*`
   * keys: weight `reg_weight` from step `reg_warmup` on); give one to
   * experiment with another.
   */
  penalty?: (config: TrainConfig, step: number) => Penalty | undefined;
}

/** How a run ended. */
export interface TrainResult {
  /** The trained model (the caller disposes it). */
  model: LoopedLM;
  /** The full configuration used. */
  config: TrainConfig;
  /** Steps completed. */
  step: number;
  /** `done`, or `interrupted` by the signal. */
  status: "done" | "interrupted";
  /** Final held-out exact match at the training depth (when done). */
  accuracy?: number;
  /** The last step's metrics. */
  last?: StepResult;
}

// Keys that may differ when resuming: they change the run's length or
// reporting, not its trajectory.
const RESUMABLE_KEYS = new Set(["steps", "eval_every", "eval_size", "checkpoint_every", "backend"]);

function checkResumable(saved: Record<string, unknown>, now: TrainConfig): void {
  const differing = Object.keys(now).filter((k) =>
    !RESUMABLE_KEYS.has(k) &&
    JSON.stringify(saved[k]) !== JSON.stringify(now[k as keyof TrainConfig])
  );
  if (differing.length) {
    throw new ConfigError(
      `cannot resume: the checkpoint was trained with different ${differing.join(", ")}` +
        " (use a new --out folder, or the same config)",
    );
  }
}

/**
 * Trains a looped model from a (partial) config. Resumes from `outDir`
 * when it holds a checkpoint, replaying the same data and loop counts.
 */
export async function train(
  partial: Partial<TrainConfig> | TrainConfig,
  options: TrainOptions = {},
): Promise<TrainResult> {
  const config = resolveConfig(partial as Record<string, unknown>);
  const task = taskOf(config);
  const heldOut = heldOutSet(config, task);
  const spec = loopSpecOf(config);
  validateLoopSpec(spec);
  const emit = options.onEvent ?? (() => {});
  const penalty = options.penalty ?? configuredPenalty(config);
  const dir = options.outDir;

  let model: LoopedLM, optimizer: AdamW, step = 0;
  const resumed = !!dir && (options.resume ?? true) && await hasCheckpoint(dir);
  if (resumed) {
    const ckpt = await loadCheckpoint(dir!);
    checkResumable(ckpt.manifest.config, config);
    ({ model, optimizer } = ckpt);
    step = ckpt.manifest.step;
    await truncateMetrics(dir!, step);
  } else {
    model = new LoopedLM(modelConfigOf(config, task), config.seed);
    optimizer = new AdamW(model.params);
    if (dir) {
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeTextFile(`${dir}/metrics.jsonl`, "");
    }
  }
  emit({ kind: "start", step, steps: config.steps, params: countParams(model.params), resumed });

  const save = async (at: number) => {
    if (!dir) return;
    await saveCheckpoint(dir, model, optimizer, at, config as unknown as Record<string, unknown>);
    emit({ kind: "checkpoint", step: at, dir });
  };
  const evaluate = async (at: number) => {
    const r = await exactMatch(model, task, heldOut, config.loops);
    emit({ kind: "eval", step: at, loops: config.loops, ...r });
    if (dir) {
      await appendMetrics(dir, { step: at, eval_accuracy: r.accuracy, eval_loops: config.loops });
    }
    return r.accuracy;
  };

  let last: StepResult | undefined;
  while (step < config.steps) {
    if (options.signal?.aborted) {
      await save(step);
      return { model, config, step, status: "interrupted", last };
    }
    const draw = sampleLoops(spec, config.seed, step);
    const lr = learningRate(step, config);
    const t0 = performance.now();
    try {
      last = await trainStep(model, optimizer, trainBatch(config, step, task), draw, step, {
        ...config,
        lr,
        penalty: penalty?.(config, step),
      });
    } catch (e) {
      // The update was not applied: the weights are still the last good ones.
      if (e instanceof NonFiniteLossError) await save(step);
      throw e;
    }
    step += 1;
    const ms = performance.now() - t0;
    if (dir) await appendMetrics(dir, { step, loops: draw.total, lr, ms: Math.round(ms), ...last });
    emit({ kind: "step", step, steps: config.steps, loops: draw.total, lr, ms, metrics: last });
    if (config.eval_every > 0 && step % config.eval_every === 0 && step < config.steps) {
      await evaluate(step);
    }
    if (config.checkpoint_every > 0 && step % config.checkpoint_every === 0) await save(step);
  }
  const accuracy = await evaluate(step);
  await save(step);
  return { model, config, step, status: "done", accuracy, last };
}

// Drawn before any work, so an eval_size the test split cannot fill is a
// config error, not a crash after the run has started.
function heldOutSet(config: TrainConfig, task: ReturnType<typeof taskOf>) {
  try {
    return heldOutProblems(config, task);
  } catch (e) {
    throw new ConfigError(
      `config key "eval_size" (${config.eval_size}) asks for more held-out problems than ` +
        `the ${task.name} test split provides (${(e as Error).message})`,
    );
  }
}

/** The penalty the `reg_*` keys describe, if `reg_weight` > 0. */
export function configuredPenalty(
  c: TrainConfig,
): ((config: TrainConfig, step: number) => Penalty) | undefined {
  if (c.reg_weight === 0) return undefined;
  const compute = penaltyFromOptions(c);
  return (_, step) => ({ weight: step >= c.reg_warmup ? c.reg_weight : 0, compute });
}

async function appendMetrics(dir: string, record: Record<string, unknown>): Promise<void> {
  await Deno.writeTextFile(`${dir}/metrics.jsonl`, JSON.stringify(record) + "\n", { append: true });
}

// On resume, drop metrics logged after the checkpoint (they will be redone).
async function truncateMetrics(dir: string, step: number): Promise<void> {
  let text = "";
  try {
    text = await Deno.readTextFile(`${dir}/metrics.jsonl`);
  } catch {
    return;
  }
  const kept = text.split("\n").filter((line) => line && JSON.parse(line).step <= step);
  await Deno.writeTextFile(`${dir}/metrics.jsonl`, kept.map((l) => l + "\n").join(""));
}
