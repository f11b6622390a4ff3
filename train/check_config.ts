/**
 * A resolved config checked for what would otherwise fail only once
 * training has started.
 *
 * @module
 */
import { memoryLimit, overLimit } from "../models/memory.ts";
import { validateLoopSpec } from "../regularizers/loop_sampler.ts";
import type { Task } from "../tasks/task.ts";
import { fileReason } from "../utils/file_reason.ts";
import { ConfigError, type TrainConfig } from "./config.ts";
import { heldOutProblems, loopSpecOf, modelConfigOf, taskOf } from "./data.ts";
import { trainingMemory } from "./memory.ts";

/**
 * Checks the loop sampler's spec, the task (a `data` file that is missing,
 * empty or malformed), the held-out set, and the memory a step needs on
 * `backend`; each problem is a {@linkcode ConfigError} naming the key to
 * change. Returns the run's task.
 *
 * @example
 * ```ts
 * import { checkTrainConfig, resolveConfig } from "@stars/toolkit/train";
 * const task = checkTrainConfig(resolveConfig({ task: "addition" }), "cpu");
 * if (task.name !== "addition-4") throw new Error(task.name);
 * ```
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
