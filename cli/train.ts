/**
 * `deno task train [--config file.json] [--key value ...] [--out DIR]`:
 * trains a looped model and prints progress and the held-out accuracy.
 */
import { useBackend } from "../backends/select.ts";
import { productPathLine } from "../backends/native/blas.ts";
import { checkTrainConfig } from "../train/check_config.ts";
import {
  CONFIG_SCHEMA,
  DEFAULT_CONFIG,
  evalLoopsOf,
  parseValue,
  PRESETS,
  resolveConfig,
} from "../train/config.ts";
import { readConfigFile } from "../train/config_file.ts";
import { NonFiniteLossError } from "../train/step.ts";
import { initWeights, train } from "../train/trainer.ts";
import { BLAS_HELP, blasFlag, checkBackendEnv } from "./backend_flags.ts";
import { configHelp } from "./config_help.ts";
import { parseFlags } from "./flags.ts";
import { ensureWritableDir } from "./out_dir.ts";
import { stopOnSignals } from "./stop_signals.ts";
import { trainProgress } from "./train_progress.ts";
import { UsageError } from "./usage_error.ts";

const HELP = `Train a looped language model on arithmetic or math word problems.

Usage: deno task train [--config FILE.json] [--out DIR] [--KEY VALUE ...]

  --config FILE      JSON object of config keys (flags override it)
  --out DIR          where checkpoints and metrics.jsonl go
                     (default runs/train-<time>); an existing checkpoint
                     there is resumed unless --no-resume
${BLAS_HELP}
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
      onEvent: trainProgress(),
    });
    result.model.dispose();
    if (result.status === "interrupted") {
      console.log(
        `interrupted at step ${result.step}; checkpoint saved in ${outDir} (run again with --out ${outDir} to resume)`,
      );
      return stop.exitCode();
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
