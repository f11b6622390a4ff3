/**
 * The training run: draws each step's loop count and batch, steps the
 * optimiser, appends metrics as JSON lines, evaluates and checkpoints
 * periodically, resumes from a checkpoint, and stops cleanly on an abort
 * signal, or on a non-finite loss or update with the last finite weights
 * saved. One trainer at a time owns a run folder (its lock).
 *
 * The library never prints: progress reaches the caller through `onEvent`.
 */
import { LoopedLM } from "../models/looped.ts";
import { countParams } from "../models/params.ts";
import { sampleLoops, validateLoopSpec } from "../regularizers/loop_sampler.ts";
import { exactMatch } from "../eval/greedy.ts";
import { AdamW } from "./adamw.ts";
import { removeTempFiles } from "./atomic_file.ts";
import {
  hasCheckpoint,
  loadCheckpoint,
  recoverInterruptedSave,
  saveCheckpoint,
} from "./checkpoint.ts";
import { CheckpointError } from "./checkpoint_error.ts";
import { MANIFEST_FILE } from "./checkpoint_manifest.ts";
import { appendMetrics, METRICS_FILE, repairMetrics } from "./metrics_file.ts";
import { acquireRunLock, LOCK_FILE, type RunLock } from "./run_lock.ts";
import {
  ConfigError,
  DEFAULT_CONFIG,
  evalLoopsOf,
  resolveConfig,
  type TrainConfig,
} from "./config.ts";
import { heldOutProblems, loopSpecOf, modelConfigOf, taskOf, trainBatch } from "./data.ts";
import { learningRate } from "./schedule.ts";
import { penaltyFromOptions } from "../regularizers/penalty_options.ts";
import { jacobianPenalty } from "../regularizers/jacobian_penalty.ts";
import { modelMismatch, type OpenedWeights, openWeights } from "./weights.ts";
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
  | { kind: "checkpoint"; step: number; dir: string }
  | { kind: "note"; message: string };

/** Options of {@linkcode train}. */
export interface TrainOptions {
  /**
   * Folder for the checkpoint, `metrics.jsonl` and the lock that keeps a
   * second trainer out; none = keep nothing on disk.
   */
  outDir?: string;
  /** Continue from the checkpoint in `outDir` if there is one (default true). */
  resume?: boolean;
  /**
   * Resume with fresh AdamW moments (zeros, update count 0) instead of the
   * saved ones: a different trajectory from the uninterrupted run, so only
   * on request, e.g. for a checkpoint saved without optimiser state.
   */
  resetOptimizer?: boolean;
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

// Keys that may differ when resuming: they change the run's reporting, not
// its trajectory. (`steps` is not one: it sets the learning-rate schedule.)
const RESUMABLE_KEYS = new Set([
  "eval_every",
  "eval_size",
  "eval_loops",
  "checkpoint_every",
  "backend",
]);

function checkResumable(
  dir: string,
  step: number,
  saved: Record<string, unknown>,
  now: TrainConfig,
): void {
  // A key the checkpoint lacks was added to the toolkit since it was saved: its
  // default keeps the old behaviour, so the run compares as having had it.
  const then = (k: string) => k in saved ? saved[k] : DEFAULT_CONFIG[k as keyof TrainConfig];
  const differing = Object.keys(now).filter((k) =>
    !RESUMABLE_KEYS.has(k) &&
    JSON.stringify(then(k)) !== JSON.stringify(now[k as keyof TrainConfig])
  );
  if (!differing.length) return;
  if (typeof saved.steps === "number" && step >= saved.steps) {
    throw new ConfigError(
      `the run in "${dir}" is finished (${step} of ${saved.steps} steps) and was trained with ` +
        `different ${differing.join(", ")}; nothing was changed (use a new --out folder to ` +
        "train with this config)",
    );
  }
  const why = differing.includes("steps")
    ? " (steps sets the learning-rate schedule: resuming with other steps would follow neither run)"
    : "";
  throw new ConfigError(
    `cannot resume "${dir}": the checkpoint was trained with different ${differing.join(", ")}` +
      `${why}; use a new --out folder, or the same config`,
  );
}

// The saved config must itself be a valid one before anything compares to it.
function savedConfig(dir: string, saved: Record<string, unknown>): void {
  try {
    resolveConfig(saved);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    throw new CheckpointError(`${dir}/${MANIFEST_FILE}`, `field "config": ${e.message}`);
  }
}

/**
 * Trains a looped model from a (partial) config. With `outDir`, holds the
 * folder's lock for the whole run, finishes or clears what an interrupted
 * run left there, and resumes from its checkpoint, replaying the same data
 * and loop counts.
 */
export async function train(
  partial: Partial<TrainConfig> | TrainConfig,
  options: TrainOptions = {},
): Promise<TrainResult> {
  const config = resolveConfig(partial as Record<string, unknown>);
  const lock = options.outDir ? await acquireRunLock(options.outDir) : null;
  try {
    return await run(config, options, lock);
  } finally {
    await lock?.release();
  }
}

async function run(
  config: TrainConfig,
  options: TrainOptions,
  lock: RunLock | null,
): Promise<TrainResult> {
  const task = taskOf(config);
  const heldOut = heldOutSet(config, task);
  const spec = loopSpecOf(config);
  validateLoopSpec(spec);
  const emit = options.onEvent ?? (() => {});
  const note = (message: string) => emit({ kind: "note", message });
  const penalty = options.penalty ?? configuredPenalty(config);
  const dir = options.outDir;

  if (dir) {
    if (lock?.tookOverFrom != null) {
      note(`took over ${dir}/${LOCK_FILE} from process ${lock.tookOverFrom}, no longer running`);
    }
    const recovered = await recoverInterruptedSave(dir);
    if (recovered) note(recovered);
    const removed = await removeTempFiles(dir);
    if (removed.length) {
      note(`removed ${removed.length} temporary file(s) an interrupted run left in ${dir}`);
    }
  }

  let model: LoopedLM, optimizer: AdamW, step = 0;
  let extra: Record<string, unknown> = {};
  const resumed = !!dir && (options.resume ?? true) && await hasCheckpoint(dir);
  if (resumed) {
    const ckpt = await loadCheckpoint(dir!, { optimizer: !options.resetOptimizer });
    try {
      savedConfig(dir!, ckpt.manifest.config);
      checkResumable(dir!, ckpt.manifest.step, ckpt.manifest.config, config);
      if (ckpt.optimizerState === "absent") {
        throw new CheckpointError(
          `${dir}/${MANIFEST_FILE}`,
          "has no optimizer state (saved without optimizer.safetensors): resuming with zero " +
            "AdamW moments would not continue the saved trajectory; pass --reset_optimizer " +
            "to resume with fresh moments anyway",
        );
      }
    } catch (e) {
      ckpt.model.dispose();
      ckpt.optimizer.dispose();
      throw e;
    }
    ({ model, optimizer } = ckpt);
    step = ckpt.manifest.step;
    if (options.resetOptimizer) note(`resuming at step ${step} with fresh AdamW moments`);
    if (step < config.steps) {
      const repair = await repairMetrics(dir!, step);
      if (repair.tornLastLine) {
        note(`${dir}/${METRICS_FILE}: dropped a last line cut short (an append interrupted)`);
      }
      if (repair.unreadable) {
        note(`${dir}/${METRICS_FILE}: dropped ${repair.unreadable} line(s) that were not records`);
      }
    }
    extra = ckpt.manifest.extra ?? {};
  } else if (config.init) {
    // A new run from given weights: fresh optimizer and schedule, the source recorded.
    const from = await initWeights(config, task);
    const loaded = await from.load();
    model = new LoopedLM(modelConfigOf(config, task), config.seed, loaded.params);
    optimizer = new AdamW(model.params);
    extra = {
      init: { source: from.source, kind: from.kind, naming: from.naming, step: from.step },
    };
    note(`starting from the ${from.kind} ${from.source} (step ${from.step}, ${from.naming} names)`);
    if (dir) await Deno.writeTextFile(`${dir}/${METRICS_FILE}`, "");
  } else {
    model = new LoopedLM(modelConfigOf(config, task), config.seed);
    optimizer = new AdamW(model.params);
    if (dir) await Deno.writeTextFile(`${dir}/${METRICS_FILE}`, "");
  }
  emit({ kind: "start", step, steps: config.steps, params: countParams(model.params), resumed });

  const save = async (at: number) => {
    if (!dir) return;
    await saveCheckpoint(
      dir,
      model,
      optimizer,
      at,
      config as unknown as Record<string, unknown>,
      extra,
    );
    emit({ kind: "checkpoint", step: at, dir });
  };
  const evaluate = async (at: number, log = true) => {
    const loops = evalLoopsOf(config);
    const r = await exactMatch(model, task, heldOut, loops);
    emit({ kind: "eval", step: at, loops, ...r });
    if (dir && log) {
      await appendMetrics(dir, { step: at, eval_accuracy: r.accuracy, eval_loops: loops });
    }
    return r.accuracy;
  };

  // A finished run is reported again, not redone: nothing on disk changes.
  if (resumed && step >= config.steps) {
    return { model, config, step, status: "done", accuracy: await evaluate(step, false) };
  }

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
      // The update was not applied: the weights are still the last finite ones.
      if (e instanceof NonFiniteLossError) {
        await save(step);
        if (dir) e.checkpoint = { dir, step };
      }
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

/**
 * The weights `config.init` names (a checkpoint folder or a safetensors
 * file, either naming), checked to fit the run's model: an input error
 * naming the key and both values otherwise. The CLI calls it before any work.
 */
export async function initWeights(
  config: TrainConfig,
  task: ReturnType<typeof taskOf> = taskOf(config),
): Promise<OpenedWeights> {
  const from = await openWeights(config.init, { config });
  const differing = modelMismatch(modelConfigOf(config, task), from.model);
  if (differing.length) {
    throw new ConfigError(
      `config key "init": the weights in "${config.init}" do not fit this run's model: ` +
        differing.join(", "),
    );
  }
  return from;
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
  const compute = c.reg_dropout
    ? jacobianPenalty({
      iters: c.reg_iters,
      mode: c.reg_mode,
      eps: c.reg_eps,
      dropout: true,
      dropoutAt: c.attn_dropout,
    })
    : penaltyFromOptions(c);
  const on = c.reg_start === "after_warmup"
    ? (step: number) => step > c.reg_warmup
    : (step: number) => step >= c.reg_warmup;
  return (_, step) => ({ weight: on(step) ? c.reg_weight : 0, compute });
}
