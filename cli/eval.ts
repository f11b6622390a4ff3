/**
 * `deno task eval --checkpoint DIR [--checkpoint DIR2 ...] [--data FILE.jsonl]
 * [--loops 1,2,4,...,100] [--exit kl:1e-3,...] [--json|--csv] [--out DIR]`:
 * the depth sweep (exact match of greedy decoding at each loop count, with
 * a 95% Wilson interval), adaptive exit, and plots.
 */
import { useBackend } from "../backends/select.ts";
import { decodeMemoryPerRow } from "../eval/decode.ts";
import { type ExitRule, parseExitRule } from "../eval/exit.ts";
import { type Unfit, unfitReason } from "../eval/fit.ts";
import type { SweepReport } from "../eval/report.ts";
import { REPORT_CSV_HEADER, reportCsvRows, reportTable } from "../plots/report_text.ts";
import { DEFAULT_DEPTH_GRID, depthSweepByProblem, exitSweep } from "../eval/sweep.ts";
import { Progress, sweepWork } from "./progress.ts";
import { problemSteps, stepsTable, stepsTableMarkdown } from "../eval/steps.ts";
import type { ModelConfig } from "../models/config.ts";
import type { Problem } from "../tasks/arithmetic.ts";
import { accuracyChart } from "../plots/accuracy.ts";
import type { FileProblem, Task, TextProblem } from "../tasks/task.ts";
import type { TrainConfig } from "../train/config.ts";
import type { OpenedWeights } from "../train/weights.ts";
import { openCheckpointFlag, WEIGHTS_HELP } from "./weights_flag.ts";
import { heldOutProblems, taskOf } from "../train/data.ts";
import { formatBytes, memoryLimit } from "../models/memory.ts";
import {
  backendFlag,
  BLAS_HELP,
  blasFlag,
  ensureWritableDir,
  fileReason,
  intFlag,
  listFlag,
  parseFlags,
  UsageError,
} from "./usage.ts";

const HELP = `Evaluate checkpoints' exact-match accuracy at several loop counts.

Usage: deno task eval --checkpoint DIR [--checkpoint DIR2 ...] [--data FILE.jsonl]
                      [--loops 1,2,4,8] [--exit kl:1e-3,argmax:5] [--json|--csv] [--out DIR]

  --checkpoint DIR   folder written by deno task train (required; repeat it to
                     compare runs: one table, and one line each in the plot),
                     or a safetensors file of a model's parameters
${WEIGHTS_HELP}
  --data FILE        test problems as JSON lines: the paper's addition format
                     for arithmetic runs; GSM8K, MATH or {prompt, answer}
                     for math runs (default: the run's own held-out problems)
  --loops LIST       comma-separated loop counts, the same for every generated
                     token (default ${DEFAULT_DEPTH_GRID.join(",")})
  --limit N          evaluate only the first N problems
  --by_steps         also break accuracy down by number of reasoning steps x
                     loops (problems that report steps: the chain task, the
                     synthetic word problems); in the table and as by_steps
                     in the JSON
  --skip_unfit       skip problems that do not fit the checkpoint's model (more
                     operand digits than it was trained on, characters outside
                     its vocabulary, longer than its max_seq_len) and count them
                     in the report; without it such a problem is an error
  --batch_size N     problems decoded together (default 512)
  --backend NAME     auto|wasm|webgpu|cpu (default auto, or STARS_BACKEND)
${BLAS_HELP}
  --json             print JSON instead of a table (one checkpoint: its report;
                     several: {"runs": [...]})
  --csv              print CSV instead of a table
  --out DIR          also write results.json, results.csv and accuracy.svg there
  --exit LIST        adaptive-exit rules, comma-separated; each is criteria joined
                     by + (exit when any fires): kl:X (KL between successive
                     loops' next-token distributions < X), delta:X (relative
                     state change < X), entropy:X (entropy change < X),
                     argmax:M (argmax unchanged for M loops), max:N (at loop N).
                     Every loop up to --exit_max is computed for every token;
                     each token is read at the loop where its rule first fires
                     (the reported mean loops used). E.g. kl:1e-3,delta:0.03,argmax:5
  --exit_max N       the loop cap of the exit rules (default: the largest --loops)
  --decode           score every loop count by greedy decoding (the reference;
                     by default a run whose answers are exact-match targets is
                     scored from one teacher-forced pass per batch, which gives
                     the same counts; see eval/teacher_forced.ts)
  --uncached         decode without the key/value cache (slow reference)
  --help             this text

Accuracies come with 95% Wilson intervals; decoding batches shrink at high loop
counts so the per-loop key/value caches stay under 64M floats.`;

/** The most loops an evaluation runs per token (as the config's `loops`). */
export const MAX_EVAL_LOOPS = 10000;

/** Parses a comma-separated list of loop counts (integers 0 to {@linkcode MAX_EVAL_LOOPS}). */
export function parseLoopList(text: string): number[] {
  if (text.split(",").every((s) => s.trim() === "")) {
    throw new UsageError("--loops: give at least one loop count, e.g. 1,2,4,8");
  }
  return listFlag("loops", text).map((s) => {
    const n = Number(s);
    if (!/^\d+$/.test(s) || !Number.isSafeInteger(n)) {
      throw new UsageError(
        `--loops: "${s}" is not a loop count (plain decimal integers >= 0, comma-separated)`,
      );
    }
    if (n > MAX_EVAL_LOOPS) {
      throw new UsageError(`--loops: ${s} is more than ${MAX_EVAL_LOOPS} loops per token`);
    }
    return n;
  });
}

/** A checkpoint to evaluate, with everything checked before any sweep. */
interface Run {
  dir: string;
  weights: OpenedWeights;
  step: number;
  config: TrainConfig;
  task: Task;
  set: TestSet;
}

/** Runs the eval command; returns the process exit code. */
export async function evalCommand(args: string[]): Promise<number> {
  const { values: dirs, rest } = takeRepeated(args, "checkpoint");
  const flags = parseFlags(rest, {
    strings: [
      "data",
      "loops",
      "limit",
      "batch_size",
      "backend",
      "blas",
      "out",
      "exit",
      "exit_max",
      "names",
      "config",
    ],
    booleans: ["help", "json", "csv", "uncached", "decode", "skip_unfit", "by_steps"],
  });
  if (flags.help) {
    console.log(HELP);
    return 0;
  }
  if (dirs.length === 0) {
    throw new UsageError("--checkpoint DIR is required (a folder written by deno task train)");
  }
  const opened = new Map<string, OpenedWeights>();
  for (const dir of dirs) {
    opened.set(
      dir,
      await openCheckpointFlag(
        dir,
        flags.names as string | undefined,
        flags.config as string | undefined,
      ),
    );
  }
  if (flags.json && flags.csv) throw new UsageError("--json and --csv: choose one");
  const loops = parseLoopList((flags.loops as string | undefined) ?? DEFAULT_DEPTH_GRID.join(","));
  const limit = intFlag("limit", flags.limit as string | undefined, Infinity);
  const batchSize = intFlag("batch_size", flags.batch_size as string | undefined, 512, 1, 2 ** 20);
  const rules = parseExitRules(flags.exit as string | undefined);
  const exitMax = intFlag(
    "exit_max",
    flags.exit_max as string | undefined,
    Math.max(1, ...loops),
    1,
    MAX_EVAL_LOOPS,
  );
  const out = flags.out as string | undefined;
  const backend = backendFlag(flags.backend as string | undefined);
  blasFlag(flags.blas as string | undefined);

  // Everything is checked before the first sweep: each run's task and test
  // problems, the memory of one decoded row, and the output folder.
  const active = await useBackend(backend);
  const runs: Run[] = [];
  for (const dir of dirs) {
    const manifest = opened.get(dir)!;
    const config = manifest.config;
    const task = runTask(config, dir);
    const set = await testProblems(flags, config, task, limit, {
      skipUnfit: flags.skip_unfit === true,
      checkpoint: dir,
    });
    checkDecodeMemory(manifest.model, config, task, active, [
      ["loops", Math.max(...loops), false],
      ...(rules.length ? [["exit_max", exitMax, true] as [string, number, boolean]] : []),
    ]);
    if (flags.by_steps) {
      const i = set.problems.findIndex((p) => problemSteps(p) === undefined);
      if (i >= 0) {
        throw new UsageError(
          `--by_steps: problem ${i + 1} of "${dir}"'s test set reports no number of steps ` +
            "(only generated problems do: the chain task, the synthetic word problems)",
        );
      }
    }
    runs.push({ dir, weights: manifest, step: manifest.step, config, task, set });
  }
  if (out) await ensureWritableDir("out", out);

  const reports: SweepReport[] = [];
  for (const { dir, weights, step, config, task, set } of runs) {
    const model = await weights.load();
    try {
      const problems = set.problems;
      const work = sweepWork({
        grid: loops,
        problems: problems.length,
        exitRules: rules.length,
        exitMax,
      });
      const progress = new Progress(dir, work);
      const swept = await depthSweepByProblem(model, task, problems, loops, {
        batchSize,
        cache: !flags.uncached,
        teacherForcing: !flags.decode && !flags.uncached,
        onProblem: (o) => progress.advance(o.depth + 1, `${o.depth} loops`),
        onDepth: (p) =>
          progress.row(
            `${p.depth} loops ${(p.accuracy * 100).toFixed(1)}% (${p.correct}/${p.total})`,
          ),
      });
      const points = swept.points;
      const exits = [];
      for (const rule of rules) {
        const e = await exitSweep(model, task, problems, rule.rule, exitMax, {
          batchSize,
          onProblem: () => progress.advance(exitMax + 1, `exit ${rule.text}`),
        });
        progress.row(
          `exit ${rule.text} ${(e.accuracy * 100).toFixed(1)}% at ${e.meanLoops.toFixed(2)} loops`,
        );
        exits.push(e);
      }
      progress.end();
      reports.push({
        checkpoint: dir,
        step,
        train_loops: config.loops,
        loop_sampler: config.loop_sampler,
        data: typeof flags.data === "string" ? flags.data : "held-out",
        problems: problems.length,
        ...(flags.skip_unfit ? { skipped_unfit: set.skipped.length } : {}),
        results: points.map(({ depth, accuracy, low, high, correct, total }) => ({
          loops: depth,
          accuracy,
          low,
          high,
          correct,
          total,
        })),
        exits,
        ...(flags.by_steps ? { by_steps: stepsTable(problems, swept) } : {}),
      });
    } finally {
      model.dispose();
    }
  }
  const json = JSON.stringify(reports.length === 1 ? reports[0] : { runs: reports });
  const csv = [REPORT_CSV_HEADER, ...reports.flatMap(reportCsvRows)].join("\n");
  if (flags.json) console.log(json);
  else if (flags.csv) console.log(csv);
  else {
    console.log(
      reports.map((r) =>
        r.by_steps
          ? `${reportTable(r)}\n\naccuracy by steps x loops:\n${stepsTableMarkdown(r.by_steps)}`
          : reportTable(r)
      ).join("\n\n"),
    );
  }
  if (out) {
    await Deno.writeTextFile(`${out}/results.json`, json + "\n");
    await Deno.writeTextFile(`${out}/results.csv`, csv + "\n");
    const chart = accuracyChart(reports.map((r) => ({
      name: r.checkpoint,
      trainLoops: r.loop_sampler === "fixed" || r.loop_sampler === undefined
        ? r.train_loops
        : undefined,
      points: r.results.map((x) => ({ ...x, depth: x.loops })),
      exits: r.exits,
    })));
    await Deno.writeTextFile(`${out}/accuracy.svg`, chart);
    console.error(`wrote ${out}/results.json, ${out}/results.csv, ${out}/accuracy.svg`);
  }
  return 0;
}

/**
 * Pulls every `--name VALUE` / `--name=VALUE` out of `args` (a flag that may
 * repeat), returning the values and the remaining arguments.
 */
export function takeRepeated(args: string[], name: string): { values: string[]; rest: string[] } {
  const values: string[] = [], rest: string[] = [];
  const long = [`--${name}`, `--${name.replaceAll("_", "-")}`];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const eq = long.find((l) => a.startsWith(l + "="));
    if (eq) values.push(a.slice(eq.length + 1));
    else if (long.includes(a)) {
      const v = args[i + 1];
      if (v === undefined || v.startsWith("--")) {
        throw new UsageError(`flag --${name} needs a value`);
      }
      values.push(v);
      i++;
    } else rest.push(a);
  }
  return { values, rest };
}

/** Parses `--exit`: comma-separated rules, each criteria joined by `+`. */
export function parseExitRules(text: string | undefined): { text: string; rule: ExitRule }[] {
  if (text === undefined) return [];
  const items = text.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) throw new UsageError(`--exit: empty rule in "${text}"`);
  return items.map((item) => {
    try {
      return { text: item, rule: parseExitRule(item) };
    } catch (e) {
      throw new UsageError(`--${(e as Error).message}`);
    }
  });
}

/** The task a checkpoint's config names (a `data` file that is gone is an input error). */
export function runTask(config: TrainConfig, dir: string): Task {
  try {
    return taskOf(config);
  } catch (e) {
    throw new UsageError(
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
 * The test problems of a run: `--data` (or the run's held-out set), the
 * first `limit`. Every problem from a file must fit the run's model (see
 * {@linkcode unfitReason}): one that does not is an error naming the file,
 * its line and the limit, or with `skipUnfit` is skipped and counted. A
 * file with no problems is an error too.
 */
export async function testProblems(
  flags: Record<string, unknown>,
  config: TrainConfig,
  task: Task,
  limit: number,
  options: TestProblemOptions = {},
): Promise<TestSet> {
  if (typeof flags.data !== "string") {
    return { problems: heldOutProblems(config, task).slice(0, limit), skipped: [] };
  }
  const flag = options.flag ?? "data";
  const file = flags.data;
  const entries = (await readTestFile(flag, file, task)).slice(0, limit);
  if (entries.length === 0) throw new UsageError(`--${flag}: no problems in "${file}"`);
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
    throw new UsageError(
      `--${flag}: ${file}:${first.line}: does not fit the model${run}: ${first.reason}${more}; ` +
        "it would be scored wrong whatever the model answers (--skip_unfit skips such " +
        "problems and counts them in the report)",
    );
  }
  if (problems.length === 0) {
    throw new UsageError(`--${flag}: none of the ${entries.length} problems of "${file}" fit`);
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
  if (entries.length === 0) throw new UsageError(`--${flag}: no problems in "${file}"`);
  for (const { name, config } of runs) {
    const task = taskOf(config);
    for (const e of entries) {
      const reason = e.reason ?? unfitReason(task, e.problem!);
      if (reason !== undefined) {
        throw new UsageError(
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
    throw new UsageError(
      `--${flag}: task ${task.name} reads no test file: its runs are evaluated on its own ` +
        "generated test split (structures disjoint from training): leave out --data",
    );
  }
  try {
    return task.parseTestFile(await readText(file), file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.IsADirectory) {
      throw new UsageError(`--${flag}: cannot read "${file}" (${fileReason(e)})`);
    }
    throw new UsageError(`--${flag}: ${(e as Error).message}`);
  }
}

/**
 * Stops when a single decoded row at the given loop counts (its key/value
 * caches and one loop's activations) cannot fit the backend's memory,
 * naming the flag to lower.
 */
function checkDecodeMemory(
  model: ModelConfig,
  config: TrainConfig,
  task: Task,
  backend: string,
  checks: [string, number, boolean][],
): void {
  const limit = memoryLimit(backend);
  for (const [flag, loops, everyLoop] of checks) {
    const bytes = decodeMemoryPerRow(model, loops, task.seqLen, everyLoop);
    if (bytes > limit) {
      throw new UsageError(
        `--${flag}: decoding one problem at ${loops} loops needs about ${
          formatBytes(bytes)
        } (key/value caches of every loop, d_model ${config.d_model}), more than the ${backend} ` +
          `backend's ${formatBytes(limit)}; lower --${flag}`,
      );
    }
  }
}
