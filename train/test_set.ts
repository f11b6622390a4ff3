/**
 * The problems a run is evaluated on: its own held-out set, or a test file
 * read as the run's task formats it, each problem checked to fit the run's
 * model. Errors name the flag the file came from (`--data` by default), the
 * file, its line and what does not fit.
 *
 * @module
 */
import { type Unfit, unfitReason } from "../eval/fit.ts";
import type { Problem } from "../tasks/arithmetic.ts";
import type { FileProblem, Task, TextProblem } from "../tasks/task.ts";
import type { TrainConfig } from "./config.ts";
import { heldOutProblems, taskOf } from "./data.ts";
import { InputError } from "./errors.ts";

// Why a file cannot be read, in words.
function fileReason(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file or folder";
  if (e instanceof Deno.errors.IsADirectory) return "it is a folder, not a file";
  return e instanceof Error ? e.message : String(e);
}

/** The task a checkpoint's config names (a `data` file that is gone is an input error). */
export function runTask(config: TrainConfig, dir: string): Task {
  try {
    return taskOf(config);
  } catch (e) {
    throw new InputError(
      `--checkpoint: the task of "${dir}" cannot be rebuilt (${(e as Error).message})`,
    );
  }
}

/** The problems to evaluate, and those skipped because they do not fit the model. */
export interface TestSet {
  /** Problems that fit, in file order. */
  problems: TextProblem[];
  /** Problems skipped (only with `skipUnfit`), with their lines and reasons. */
  skipped: Unfit[];
}

/** Options of {@linkcode testProblems}. */
export interface TestProblemOptions {
  /** Skip problems that do not fit, counting them, instead of stopping (default false). */
  skipUnfit?: boolean;
  /** The checkpoint, named in errors. */
  checkpoint?: string;
  /** The flag that named the file (default `data`). */
  flag?: string;
}

/**
 * The test problems of a run: the file `data` (or, without one, the run's
 * held-out set), the first `limit`. Every problem from a file must fit the run's model (see
 * {@linkcode unfitReason}): one that does not is an error naming the file,
 * its line and the limit, or with `skipUnfit` is skipped and counted. A
 * file with no problems is an error too.
 */
export async function testProblems(
  data: string | undefined,
  config: TrainConfig,
  task: Task,
  limit: number,
  options: TestProblemOptions = {},
): Promise<TestSet> {
  if (data === undefined) {
    return { problems: heldOutProblems(config, task).slice(0, limit), skipped: [] };
  }
  const flag = options.flag ?? "data";
  const file = data;
  const entries = (await readTestFile(flag, file, task)).slice(0, limit);
  if (entries.length === 0) throw new InputError(`--${flag}: no problems in "${file}"`);
  const problems: TextProblem[] = [], unfit: Unfit[] = [];
  for (const e of entries) {
    const reason = e.reason ?? unfitReason(task, e.problem!);
    if (reason === undefined) problems.push(e.problem!);
    else unfit.push({ line: e.line, reason });
  }
  if (unfit.length && !options.skipUnfit) {
    const first = unfit[0];
    const more = unfit.length > 1 ? ` (and ${unfit.length - 1} more of ${entries.length})` : "";
    const run = options.checkpoint ? ` of checkpoint "${options.checkpoint}"` : "";
    throw new InputError(
      `--${flag}: ${file}:${first.line}: does not fit the model${run}: ${first.reason}${more}; ` +
        "it would be scored wrong whatever the model answers (--skip_unfit skips such " +
        "problems and counts them in the report)",
    );
  }
  if (problems.length === 0) {
    throw new InputError(`--${flag}: none of the ${entries.length} problems of "${file}" fit`);
  }
  return { problems, skipped: unfit };
}

/**
 * The problems of an arithmetic test file (the paper's format) for several
 * runs at once (`repro`'s arms): each must fit every run's model, or the
 * error names the file, the line, the run and the limit. Formatted as the
 * first run's config says (answer reversed or not).
 */
export async function arithmeticTestFile(
  flag: string,
  file: string,
  runs: { name: string; config: TrainConfig }[],
): Promise<Problem[]> {
  const entries = await readTestFile(flag, file, taskOf(runs[0].config));
  if (entries.length === 0) throw new InputError(`--${flag}: no problems in "${file}"`);
  for (const { name, config } of runs) {
    const task = taskOf(config);
    for (const e of entries) {
      const reason = e.reason ?? unfitReason(task, e.problem!);
      if (reason !== undefined) {
        throw new InputError(
          `--${flag}: ${file}:${e.line}: does not fit the model of ${name}: ${reason}; ` +
            "it would be scored wrong whatever the model answers",
        );
      }
    }
  }
  return entries.map((e) => e.problem as Problem);
}

// A path, or the URL of a file packaged with the toolkit: file: from a
// checkout, https: when the module is loaded from a registry.
async function readText(file: string): Promise<string> {
  if (/^https?:\/\//.test(file)) {
    const response = await fetch(file);
    if (!response.ok) {
      await response.body?.cancel();
      throw new Deno.errors.NotFound(`HTTP ${response.status}`);
    }
    return await response.text();
  }
  return await Deno.readTextFile(file.startsWith("file:") ? new URL(file) : file);
}

// Reads a test file as the run's task formats it, each problem with its line.
async function readTestFile(flag: string, file: string, task: Task): Promise<FileProblem[]> {
  if (!task.parseTestFile) {
    throw new InputError(
      `--${flag}: task ${task.name} reads no test file: its runs are evaluated on its own ` +
        "generated test split (structures disjoint from training): leave out --data",
    );
  }
  try {
    return task.parseTestFile(await readText(file), file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.IsADirectory) {
      throw new InputError(`--${flag}: cannot read "${file}" (${fileReason(e)})`);
    }
    throw new InputError(`--${flag}: ${(e as Error).message}`);
  }
}
