/**
 * `deno task eval --checkpoint DIR [--checkpoint DIR2 ...] [--data FILE.jsonl]
 * [--loops 1,2,4,...,100] [--exit kl:1e-3,...] [--json|--csv] [--out DIR]`:
 * the depth sweep (exact match of greedy decoding at each loop count, with
 * a 95% Wilson interval), adaptive exit, and plots.
 */
import { parseBackend, useBackend } from "../core/backend.ts";
import { type ExitRule, parseExitRule } from "../eval/exit.ts";
import { REPORT_CSV_HEADER, reportCsvRows, reportTable, type SweepReport } from "../eval/report.ts";
import { DEFAULT_DEPTH_GRID, depthSweep, exitSweep } from "../eval/sweep.ts";
import { accuracyChart } from "../plots/accuracy.ts";
import type { Task } from "../tasks/task.ts";
import type { TrainConfig } from "../train/config.ts";
import { hasCheckpoint, loadCheckpoint } from "../train/checkpoint.ts";
import { resolveConfig } from "../train/config.ts";
import { heldOutProblems, taskOf } from "../train/data.ts";
import type { TextProblem } from "../tasks/task.ts";
import { loadArithmeticJsonl } from "../tasks/paper_data.ts";
import { isMathTask } from "../tasks/math/math_task.ts";
import { parseFlags, UsageError } from "./usage.ts";

const HELP = `Evaluate checkpoints' exact-match accuracy at several loop counts.

Usage: deno task eval --checkpoint DIR [--checkpoint DIR2 ...] [--data FILE.jsonl]
                      [--loops 1,2,4,8] [--exit kl:1e-3,argmax:5] [--json|--csv] [--out DIR]

  --checkpoint DIR   folder written by deno task train (required; repeat it to
                     compare runs: one table, and one line each in the plot)
  --data FILE        test problems as JSON lines: the paper's addition format
                     for arithmetic runs; GSM8K, MATH or {prompt, answer}
                     for math runs (default: the run's own held-out problems)
  --loops LIST       comma-separated loop counts, the same for every generated
                     token (default ${DEFAULT_DEPTH_GRID.join(",")})
  --limit N          evaluate only the first N problems
  --batch_size N     problems decoded together (default 512)
  --backend NAME     auto|wasm|webgpu|cpu (default auto, or STARS_BACKEND)
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
  --uncached         decode without the key/value cache (slow reference)
  --help             this text

Accuracies come with 95% Wilson intervals; decoding batches shrink at high loop
counts so the per-loop key/value caches stay under 64M floats.`;

/** Parses a comma-separated list of loop counts (integers >= 0). */
export function parseLoopList(text: string): number[] {
  const items = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (items.length === 0) {
    throw new UsageError("--loops: give at least one loop count, e.g. 1,2,4,8");
  }
  return items.map((s) => {
    const n = Number(s);
    if (!/^\d+$/.test(s) || !Number.isSafeInteger(n)) {
      throw new UsageError(`--loops: "${s}" is not a loop count (integers >= 0, comma-separated)`);
    }
    return n;
  });
}

function positiveInt(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1) {
    throw new UsageError(`--${flag}: must be an integer >= 1, got "${text}"`);
  }
  return n;
}

/** Runs the eval command; returns the process exit code. */
export async function evalCommand(args: string[]): Promise<number> {
  const { values: dirs, rest } = takeRepeated(args, "checkpoint");
  const flags = parseFlags(rest, {
    strings: ["data", "loops", "limit", "batch_size", "backend", "out", "exit", "exit_max"],
    booleans: ["help", "json", "csv", "uncached"],
  });
  if (flags.help) {
    console.log(HELP);
    return 0;
  }
  if (dirs.length === 0) {
    throw new UsageError("--checkpoint DIR is required (a folder written by deno task train)");
  }
  for (const dir of dirs) {
    if (!(await hasCheckpoint(dir))) {
      throw new UsageError(`--checkpoint: no checkpoint in "${dir}"`);
    }
  }
  if (flags.json && flags.csv) throw new UsageError("--json and --csv: choose one");
  const loops = parseLoopList((flags.loops as string | undefined) ?? DEFAULT_DEPTH_GRID.join(","));
  const limit = positiveInt("limit", flags.limit as string | undefined, Infinity);
  const batchSize = positiveInt("batch_size", flags.batch_size as string | undefined, 512);
  const rules = parseExitRules(flags.exit as string | undefined);
  const exitMax = positiveInt(
    "exit_max",
    flags.exit_max as string | undefined,
    Math.max(1, ...loops),
  );
  const out = flags.out as string | undefined;
  const backend = parseBackend(
    (flags.backend as string | undefined) ?? Deno.env.get("STARS_BACKEND") ?? "auto",
  );

  await useBackend(backend);
  const progress = Deno.stderr.isTerminal()
    ? (text: string) => Deno.stderr.writeSync(new TextEncoder().encode(`\r\x1b[K${text}`))
    : () => {};
  const reports: SweepReport[] = [];
  for (const dir of dirs) {
    const { model, optimizer, manifest } = await loadCheckpoint(dir);
    optimizer.dispose();
    try {
      const config = resolveConfig(manifest.config);
      const task = taskOf(config);
      const problems = await testProblems(flags, config, task, limit);
      if (problems.length === 0) throw new UsageError(`--data: no problems in "${flags.data}"`);
      const points = await depthSweep(model, task, problems, loops, {
        batchSize,
        cache: !flags.uncached,
        onDepth: (p) => progress(`${dir}: ${p.depth} loops ${(p.accuracy * 100).toFixed(1)}%`),
      });
      const exits = [];
      for (const rule of rules) {
        progress(`${dir}: exit ${rule.text}`);
        exits.push(await exitSweep(model, task, problems, rule.rule, exitMax, { batchSize }));
      }
      progress("");
      reports.push({
        checkpoint: dir,
        step: manifest.step,
        train_loops: config.loops,
        loop_sampler: config.loop_sampler,
        data: typeof flags.data === "string" ? flags.data : "held-out",
        problems: problems.length,
        results: points.map(({ depth, accuracy, low, high, correct, total }) => ({
          loops: depth,
          accuracy,
          low,
          high,
          correct,
          total,
        })),
        exits,
      });
    } finally {
      model.dispose();
    }
  }
  const json = JSON.stringify(reports.length === 1 ? reports[0] : { runs: reports });
  const csv = [REPORT_CSV_HEADER, ...reports.flatMap(reportCsvRows)].join("\n");
  if (flags.json) console.log(json);
  else if (flags.csv) console.log(csv);
  else console.log(reports.map(reportTable).join("\n\n"));
  if (out) {
    await Deno.mkdir(out, { recursive: true });
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

/** The test problems of a run: `--data` (or the run's held-out set), the first `limit`. */
export async function testProblems(
  flags: Record<string, unknown>,
  config: TrainConfig,
  task: Task,
  limit: number,
): Promise<TextProblem[]> {
  let problems: TextProblem[];
  if (typeof flags.data === "string") {
    try {
      problems = isMathTask(task)
        ? await task.load(flags.data)
        : await loadArithmeticJsonl(flags.data);
    } catch (e) {
      throw new UsageError(`--data: ${(e as Error).message}`);
    }
  } else {
    problems = heldOutProblems(config, task);
  }
  problems = problems.slice(0, limit);
  return problems;
}
