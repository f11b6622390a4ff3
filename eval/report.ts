/**
 * A sweep's report as plain data, and reading it back from a results.json
 * (its renderings as text are in plots/report_text.ts).
 *
 * @module
 */
import type { StepsTable } from "./steps.ts";
import type { DepthPoint, ExitPoint } from "./sweep.ts";

/**
 * One row of a report: a {@linkcode DepthPoint} with its depth named
 * `loops`, as results.json has it.
 */
export type ReportRow = Omit<DepthPoint, "depth"> & {
  /** Loops per generated token. */
  loops: number;
};

/** The evaluation of one checkpoint (the `--json` output and `results.json`). */
export interface SweepReport {
  /** The checkpoint folder. */
  checkpoint: string;
  /** Its training step. */
  step: number;
  /** Its training depth (the config's fixed loop count). */
  train_loops: number;
  /** The loop sampler it was trained with. */
  loop_sampler?: string;
  /** Where the problems came from (a file, or `held-out`). */
  data: string;
  /** Number of problems. */
  problems: number;
  /** Problems of the file skipped because they do not fit the model (with `--skip_unfit`). */
  skipped_unfit?: number;
  /** Accuracy per fixed loop count. */
  results: ReportRow[];
  /** Adaptive-exit rules evaluated. */
  exits: ExitPoint[];
  /** Accuracy by number of steps x loops (with `--by_steps`). */
  by_steps?: StepsTable;
}

/**
 * Why `value` is not one run of a results.json (a {@linkcode SweepReport}),
 * or undefined when it is.
 */
export function reportProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return "a run must be a JSON object";
  }
  const r = value as Record<string, unknown>;
  if (typeof r.checkpoint !== "string") return 'a run has no "checkpoint" string';
  if (!Array.isArray(r.results) || r.results.length === 0) {
    return `run "${r.checkpoint}" has no "results" list`;
  }
  for (const [i, x] of r.results.entries()) {
    const row = x as Record<string, unknown>;
    const fields = ["loops", "accuracy", "low", "high", "correct", "total"];
    const bad = fields.find((f) => typeof row?.[f] !== "number" || !Number.isFinite(row[f]));
    if (bad) return `run "${r.checkpoint}": results[${i}] has no number "${bad}"`;
  }
  if (r.exits !== undefined && !Array.isArray(r.exits)) {
    return `run "${r.checkpoint}": "exits" is not a list`;
  }
  return undefined;
}

/**
 * The runs of a results.json text written by `deno task eval` (one report,
 * or `{"runs": [...]}`), or a message saying why it is not one.
 */
export function parseSweepReports(text: string): SweepReport[] | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return `not valid JSON (${(e as Error).message})`;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return "it must hold one JSON object";
  }
  const { runs } = parsed as { runs?: unknown };
  if (runs !== undefined && (!Array.isArray(runs) || runs.length === 0)) {
    return '"runs" must be a non-empty list';
  }
  const reports = (runs ?? [parsed]) as unknown[];
  for (const r of reports) {
    const problem = reportProblem(r);
    if (problem) return problem;
  }
  return reports as SweepReport[];
}
