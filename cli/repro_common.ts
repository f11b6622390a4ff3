/**
 * What the reproduction's commands share: the progress printer, checked
 * comma lists, the start line, and writing a result with its report.
 *
 * @module
 */
import { useBackend } from "../backends/select.ts";
import { productPathLine } from "../backends/native/blas.ts";
import type { SweepEvent } from "../repro/run.ts";
import type { TrainEvent } from "../train/trainer.ts";
import type { ExitPoint } from "../eval/sweep.ts";
import { Progress, sweepWork } from "./progress.ts";
import { backendFlag } from "./backend_flags.ts";
import { listFlag as splitList } from "./flags.ts";
import { UsageError } from "./usage_error.ts";
import { writeFiles } from "./write_files.ts";

const pct = (x: number) => (100 * x).toFixed(1);

/** What a run reports while it trains and is measured. */
export type RunEvent = TrainEvent | SweepEvent | { kind: "exit"; point: ExitPoint };

// Prints a run's progress: a training line every 5 s and each evaluation on
// stdout; a sweep's progress line with its ETA on stderr and each loop
// count's (and exit rule's) row on stdout.
export function runPrinter(): (run: string, e: RunEvent) => void {
  let lastPrint = 0;
  let progress: Progress | undefined;
  return (run, e) => {
    if (e.kind === "step" && performance.now() - lastPrint > 5000) {
      lastPrint = performance.now();
      console.log(
        `[${run}] step ${e.step}/${e.steps} loss ${e.metrics.loss.toFixed(4)} loops ${e.loops}` +
          (e.metrics.rho === undefined ? "" : ` rho ${e.metrics.rho.toFixed(3)}`),
      );
    } else if (e.kind === "eval") {
      console.log(`[${run}] step ${e.step}: held-out exact match ${pct(e.accuracy)}%`);
    } else if (e.kind === "sweep-start") {
      progress = new Progress(`[${run}] sweep`, sweepWork({ grid: e.grid, problems: e.problems }));
    } else if (e.kind === "problem") {
      progress?.advance(e.depth + 1, `${e.depth} loops`);
    } else if (e.kind === "sweep") {
      progress?.end();
      console.log(`[${run}] ${e.point.depth} loops: ${pct(e.point.accuracy)}%`);
    } else if (e.kind === "exit") {
      progress?.end();
      console.log(
        `[${run}] exit ${e.point.rule}: ${pct(e.point.accuracy)}% at ${
          e.point.meanLoops.toFixed(2)
        } loops`,
      );
    }
  };
}

// A comma list of allowed items (undefined when the flag is absent): each one
// found, or a usage error naming it.
export function allowedList<T>(
  value: unknown,
  flag: string,
  allowed: readonly string[],
  find: (item: string) => T | undefined,
): T[] | undefined {
  if (value === undefined) return undefined;
  return splitList(flag, String(value)).map((s) => {
    const item = find(s);
    if (item === undefined) {
      throw new UsageError(`--${flag}: "${s}" is not allowed; allowed: ${allowed.join(",")}`);
    }
    return item;
  });
}

// The backend (and product path) in use, said once, and the output folder made.
export async function start(flags: Record<string, unknown>, what: string, outDir: string) {
  const backend = await useBackend(backendFlag(flags.backend as string | undefined));
  const products = backend === "wasm" ? `, ${productPathLine()}` : "";
  console.log(`backend ${backend}${products}, ${what}, output ${outDir}`);
  await Deno.mkdir(outDir, { recursive: true });
  return backend;
}

// results.json (the command that made it, then the result) and the report's
// files; returns the markdown report.
export async function writeResult(
  outDir: string,
  args: string[],
  result: object,
  files: (command: string) => Record<string, string>,
): Promise<string> {
  const command = ["deno task repro", ...args].join(" ");
  await Deno.writeTextFile(
    `${outDir}/results.json`,
    JSON.stringify({ command, ...result }, null, 1),
  );
  const report = files(command);
  await writeFiles(outDir, report);
  return report["results.md"];
}
