/**
 * `deno task eval --checkpoint DIR [--data FILE.jsonl] --loops 1,2,4,8,16
 * [--json]`: exact-match accuracy of greedy decoding at each loop count.
 */
import { parseBackend, useBackend } from "../core/backend.ts";
import { exactMatch } from "../eval/greedy.ts";
import { hasCheckpoint, loadCheckpoint } from "../train/checkpoint.ts";
import { resolveConfig } from "../train/config.ts";
import { heldOutProblems, taskOf } from "../train/data.ts";
import type { TextProblem } from "../tasks/task.ts";
import { loadArithmeticJsonl } from "../tasks/paper_data.ts";
import { parseFlags, UsageError } from "./usage.ts";

const HELP = `Evaluate a checkpoint's exact-match accuracy at several loop counts.

Usage: deno task eval --checkpoint DIR [--data FILE.jsonl] [--loops 1,2,4,8,16] [--json]

  --checkpoint DIR   folder written by deno task train (required)
  --data FILE        test problems in the paper's JSON-lines format
                     (default: the run's own held-out problems)
  --loops LIST       comma-separated loop counts (default 1,2,4,8,16)
  --limit N          evaluate only the first N problems
  --batch_size N     problems decoded together (default 512)
  --backend NAME     auto|wasm|webgpu|cpu (default auto, or STARS_BACKEND)
  --json             print JSON instead of a table
  --help             this text`;

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
  const flags = parseFlags(args, {
    strings: ["checkpoint", "data", "loops", "limit", "batch_size", "backend"],
    booleans: ["help", "json"],
  });
  if (flags.help) {
    console.log(HELP);
    return 0;
  }
  const dir = flags.checkpoint as string | undefined;
  if (!dir) {
    throw new UsageError("--checkpoint DIR is required (a folder written by deno task train)");
  }
  if (!(await hasCheckpoint(dir))) throw new UsageError(`--checkpoint: no checkpoint in "${dir}"`);
  const loops = parseLoopList((flags.loops as string | undefined) ?? "1,2,4,8,16");
  const limit = positiveInt("limit", flags.limit as string | undefined, Infinity);
  const batchSize = positiveInt("batch_size", flags.batch_size as string | undefined, 512);
  const backend = parseBackend(
    (flags.backend as string | undefined) ?? Deno.env.get("STARS_BACKEND") ?? "auto",
  );

  await useBackend(backend);
  const { model, optimizer, manifest } = await loadCheckpoint(dir);
  optimizer.dispose();
  const config = resolveConfig(manifest.config);
  const task = taskOf(config);
  let problems: TextProblem[];
  if (typeof flags.data === "string") {
    try {
      problems = await loadArithmeticJsonl(flags.data);
    } catch (e) {
      throw new UsageError(`--data: ${(e as Error).message}`);
    }
  } else {
    problems = heldOutProblems(config, task);
  }
  problems = problems.slice(0, limit);

  const rows = [];
  for (const n of loops) {
    const r = await exactMatch(model, task, problems, n, batchSize);
    rows.push({ loops: n, ...r });
  }
  model.dispose();
  if (flags.json) {
    console.log(
      JSON.stringify({
        checkpoint: dir,
        step: manifest.step,
        train_loops: config.loops,
        results: rows,
      }),
    );
  } else {
    console.log(
      `checkpoint ${dir} (step ${manifest.step}, trained at ${config.loops} loops), ${problems.length} problems`,
    );
    console.log("loops  exact match   correct/total");
    for (const r of rows) {
      console.log(
        `${String(r.loops).padStart(5)}  ${
          (r.accuracy * 100).toFixed(2).padStart(10)
        }%   ${r.correct}/${r.total}`,
      );
    }
  }
  return 0;
}
