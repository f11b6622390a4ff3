/**
 * `deno task eval --checkpoint DIR [--checkpoint DIR2 ...] [--data FILE.jsonl]
 * [--loops 1,2,4,...,100] [--exit kl:1e-3,...] [--json|--csv] [--out DIR]`:
 * the depth sweep (exact match of greedy decoding at each loop count, with
 * a 95% Wilson interval), adaptive exit, and plots.
 */
import { useBackend } from "../backends/select.ts";
import type { SweepReport } from "../eval/report.ts";
import { DEFAULT_DEPTH_GRID } from "../eval/sweep.ts";
import { sweepFiles, sweepText } from "../plots/sweep_output.ts";
import type { OpenedWeights } from "../train/weights.ts";
import { evaluateCheckpoint, prepareCheckpointEvaluation } from "../train/evaluate_checkpoint.ts";
import { backendFlag, BLAS_HELP, blasFlag } from "./backend_flags.ts";
import { intFlag, parseFlags, takeRepeated } from "./flags.ts";
import { MAX_EVAL_LOOPS, parseExitRules, parseLoopList } from "./loop_flags.ts";
import { ensureWritableDir } from "./out_dir.ts";
import { Progress, sweepProgress, sweepWork } from "./progress.ts";
import { UsageError } from "./usage_error.ts";
import { openCheckpointFlag, WEIGHTS_HELP } from "./weights_flag.ts";
import { writeFiles } from "./write_files.ts";

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
  const opened: OpenedWeights[] = [];
  for (const dir of dirs) {
    opened.push(
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
  const options = {
    loops,
    exitRules: rules.map((r) => r.rule),
    exitMax,
    data: flags.data as string | undefined,
    limit,
    skipUnfit: flags.skip_unfit === true,
    bySteps: flags.by_steps === true,
    backend: active,
  };
  const prepared = [];
  for (const [i, dir] of dirs.entries()) {
    prepared.push(await prepareCheckpointEvaluation(dir, opened[i], options));
  }
  if (out) await ensureWritableDir("out", out);

  const reports: SweepReport[] = [];
  for (const run of prepared) {
    const work = sweepWork({
      grid: loops,
      problems: run.set.problems.length,
      exitRules: rules.length,
      exitMax,
    });
    const progress = new Progress(run.checkpoint, work);
    reports.push(
      await evaluateCheckpoint(run, {
        batchSize,
        cache: !flags.uncached,
        teacherForcing: !flags.decode && !flags.uncached,
        ...sweepProgress(progress),
      }),
    );
    progress.end();
  }
  console.log(sweepText(reports, flags.json ? "json" : flags.csv ? "csv" : "table"));
  if (out) console.error(await writeFiles(out, sweepFiles(reports)));
  return 0;
}
