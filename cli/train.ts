/**
 * `deno task train [--config file.json] [--key value ...] [--out DIR]`:
 * trains a looped model and prints progress and the held-out accuracy.
 */
import { useBackend } from "../backends/select.ts";
import { productPathLine } from "../backends/native/blas.ts";
import { validateLoopSpec } from "../regularizers/loop_sampler.ts";
import { jsonTextProblem, stripBom } from "../tasks/json_text.ts";
import type { Task } from "../tasks/task.ts";
import {
  CONFIG_SCHEMA,
  ConfigError,
  DEFAULT_CONFIG,
  evalLoopsOf,
  parseValue,
  PRESETS,
  resolveConfig,
  type TrainConfig,
} from "../train/config.ts";
import { heldOutProblems, loopSpecOf, modelConfigOf, taskOf } from "../train/data.ts";
import { memoryLimit, overLimit } from "../models/memory.ts";
import { trainingMemory } from "../train/memory.ts";
import { NonFiniteLossError } from "../train/step.ts";
import { initWeights, train, type TrainEvent } from "../train/trainer.ts";
import {
  blasFlag,
  checkBackendEnv,
  configHelp,
  ensureWritableDir,
  fileReason,
  parseFlags,
  UsageError,
} from "./usage.ts";
import { stopOnSignals } from "./stop_signals.ts";

const HELP = `Train a looped language model on arithmetic or math word problems.

Usage: deno task train [--config FILE.json] [--out DIR] [--KEY VALUE ...]

  --config FILE      JSON object of config keys (flags override it)
  --out DIR          where checkpoints and metrics.jsonl go
                     (default runs/train-<time>); an existing checkpoint
                     there is resumed unless --no-resume
  --blas on|off      native matrix products (OpenBLAS through FFI) where found
                     (default on; or STARS_BLAS; STARS_THREADS sets its threads)
  --no-resume        start afresh even if DIR holds a checkpoint
  --preset NAME      start from a named set of keys (config file and flags
                     override it): reference = the STARS reference
                     implementation's choices (attn_dropout probs,
                     reg_dropout true, reg_mode vjp, reg_start after_warmup,
                     decay_scope all, grad_clip 0, min_lr_ratio 0)
  --init PATH        start a new run from the parameters of a checkpoint
                     folder or a safetensors file (toolkit or reference
                     names), with a fresh optimizer and schedule; recorded
                     in checkpoint.json (config "init", extra.init)
  --reset_optimizer  resume with fresh AdamW moments instead of the saved
                     ones (needed for a checkpoint saved without them; the
                     run then leaves the uninterrupted trajectory)
  --help             this text

A checkpoint is model.safetensors, optimizer.safetensors and checkpoint.json
in DIR; one trainer at a time may use DIR (DIR/train.lock). Ctrl-C or SIGTERM
saves a checkpoint and stops; the same command resumes it.

Config keys (each also a flag):
${configHelp(DEFAULT_CONFIG as unknown as Record<string, unknown>)}

The backend can also be chosen with the STARS_BACKEND variable.

Exit codes: 0 trained (or already finished); 2 bad input: a flag, a config, a
corrupt or mismatched checkpoint, or DIR in use; 3 a step went non-finite (the
last finite weights are saved and the message names the step); 130 stopped by
Ctrl-C, 143 by SIGTERM (a checkpoint is saved either way).`;

/**
 * Reads and checks a JSON config file: one object of known keys, each
 * once (a repeated key is an error, not "the last one wins"), a leading
 * byte-order mark dropped.
 */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = stripBom(await Deno.readTextFile(path));
  } catch (e) {
    throw new UsageError(`--config: cannot read "${path}" (${fileReason(e)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`--config: "${path}" is not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(`--config: "${path}" must hold one JSON object`);
  }
  const problem = jsonTextProblem(text);
  if (problem) throw new ConfigError(`--config: "${path}": ${problem}`);
  return value as Record<string, unknown>;
}

/**
 * Everything about a resolved config that would otherwise fail only once
 * training has started: the loop sampler's spec, the task (a `data` file
 * that is missing, empty or malformed), the held-out set, and the memory a
 * step needs on `backend` (a {@linkcode ConfigError} naming the key to lower).
 */
export function checkTrainConfig(config: TrainConfig, backend: string): Task {
  try {
    validateLoopSpec(loopSpecOf(config));
  } catch (e) {
    throw new ConfigError(`config: ${(e as Error).message}`);
  }
  let task: Task;
  try {
    task = taskOf(config);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound || e instanceof Deno.errors.IsADirectory ||
        e instanceof Deno.errors.PermissionDenied
      ? `cannot read "${config.data}" (${fileReason(e)})`
      : (e as Error).message;
    throw new ConfigError(`config key "data": ${why}`);
  }
  try {
    heldOutProblems(config, task);
  } catch (e) {
    throw new ConfigError(
      `config key "eval_size" (${config.eval_size}) asks for more held-out problems than ` +
        `the ${task.name} test split provides (${(e as Error).message})`,
    );
  }
  const problem = overLimit(
    trainingMemory(config, modelConfigOf(config, task)),
    memoryLimit(backend),
    backend,
  );
  if (problem) throw new ConfigError(`config: a training step ${problem}`);
  return task;
}

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
  return m ? `${m}m${String(s).padStart(2, "0")}s` : `${s}s`;
}

/** A progress printer: a line every few seconds, each eval and checkpoint. */
function progress(): (e: TrainEvent) => void {
  let lastPrint = 0, firstStep = 0, t0 = 0;
  return (e) => {
    if (e.kind === "start") {
      firstStep = e.step;
      t0 = performance.now();
      console.log(
        `${
          e.resumed ? "resuming at" : "starting"
        } step ${e.step}/${e.steps}, ${e.params} parameters`,
      );
    } else if (e.kind === "step") {
      const now = performance.now();
      if (now - lastPrint < 2000 && e.step !== e.steps) return;
      lastPrint = now;
      const rate = (now - t0) / 1000 / (e.step - firstStep);
      const m = e.metrics;
      const extra = Object.entries(m)
        .filter(([k]) => !["loss", "ce", "accuracy", "grad_norm"].includes(k))
        .map(([k, v]) => ` ${k} ${v.toFixed(4)}`).join("");
      console.log(
        `step ${e.step}/${e.steps}  loss ${m.loss.toFixed(4)}  acc ${
          (m.accuracy * 100).toFixed(1)
        }%` +
          `  loops ${e.loops}  lr ${e.lr.toExponential(2)}${extra}  ${e.ms.toFixed(0)}ms/step` +
          `  eta ${formatEta(rate * (e.steps - e.step))}`,
      );
    } else if (e.kind === "note") {
      console.log(`note: ${e.message}`);
    } else if (e.kind === "eval") {
      console.log(
        `eval step ${e.step}: exact match ${
          (e.accuracy * 100).toFixed(2)
        }% (${e.correct}/${e.total}) at ${e.loops} loops`,
      );
    }
  };
}

/** Runs the train command; returns the process exit code. */
export async function trainCommand(args: string[]): Promise<number> {
  const keys = Object.keys(CONFIG_SCHEMA);
  const flags = parseFlags(args, {
    strings: ["config", "out", "blas", "preset", ...keys],
    booleans: ["help", "resume", "reset_optimizer"],
    negatable: ["resume"],
    allowEmpty: ["data"],
  });
  if (flags.help) {
    console.log(HELP);
    return 0;
  }
  const fromFile = typeof flags.config === "string" ? await readConfigFile(flags.config) : {};
  const fromFlags: Record<string, unknown> = {};
  for (const key of keys) {
    if (typeof flags[key] === "string") fromFlags[key] = parseValue(key, flags[key] as string);
  }
  const envBackend = Deno.env.get("STARS_BACKEND");
  const presetName = flags.preset as string | undefined;
  if (presetName !== undefined && !(presetName in PRESETS)) {
    throw new UsageError(
      `--preset must be one of ${Object.keys(PRESETS).join(", ")}, got "${presetName}"`,
    );
  }
  const preset = presetName ? PRESETS[presetName] as Record<string, unknown> : {};
  const config = resolveConfig(
    envBackend ? { backend: envBackend } : {},
    preset,
    fromFile,
    fromFlags,
  );
  const outDir = (flags.out as string | undefined) ??
    `runs/train-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}`;
  checkBackendEnv();
  blasFlag(flags.blas as string | undefined);
  const backend = await useBackend(config.backend);
  checkTrainConfig(config, backend);
  if (config.init) await initWeights(config); // checked before any work
  await ensureWritableDir("out", outDir);
  console.log(
    `backend ${backend}${backend === "wasm" ? `, ${productPathLine()}` : ""}, output ${outDir}`,
  );

  using stop = stopOnSignals();
  try {
    const result = await train(config, {
      outDir,
      resume: flags.resume !== false,
      resetOptimizer: flags.reset_optimizer === true,
      signal: stop.signal,
      onEvent: progress(),
    });
    result.model.dispose();
    if (result.status === "interrupted") {
      console.log(
        `interrupted at step ${result.step}; checkpoint saved in ${outDir} (run again with --out ${outDir} to resume)`,
      );
      return stop.stoppedBy() === "SIGTERM" ? 143 : 130;
    }
    console.log(
      `done: ${result.step} steps, held-out exact match ${(result.accuracy! * 100).toFixed(2)}% ` +
        `at ${evalLoopsOf(config)} loops; checkpoint in ${outDir}`,
    );
    return 0;
  } catch (e) {
    if (!(e instanceof NonFiniteLossError)) throw e;
    const kept = e.checkpoint
      ? `the checkpoint of step ${e.checkpoint.step} in ${e.checkpoint.dir} holds the last finite weights`
      : "nothing was saved";
    console.error(
      `error: training stopped: ${e.message}; ${kept}. Resuming would meet the same step: ` +
        "lower --lr or --grad_clip in a new --out folder.",
    );
    return 3;
  }
}
