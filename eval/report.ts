/**
 * A sweep's report as plain data, and its renderings as text: a table for
 * the terminal (with a bar per depth) and CSV rows.
 *
 * @module
 */
import { bar } from "../plots/terminal.ts";
import type { StepsTable } from "./steps.ts";
import type { ExitPoint } from "./sweep.ts";

/** One row of a report: accuracy at a fixed loop count. */
export interface ReportRow {
  /** Loops per generated token. */
  loops: number;
  /** `correct / total`. */
  accuracy: number;
  /** Lower end of the 95% Wilson interval. */
  low: number;
  /** Upper end of the 95% Wilson interval. */
  high: number;
  /** Problems answered exactly. */
  correct: number;
  /** Problems evaluated. */
  total: number;
}

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

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/** The report as a table for the terminal. */
export function reportTable(r: SweepReport): string {
  const lines = [
    `checkpoint ${r.checkpoint} (step ${r.step}, trained at ${r.train_loops} loops${
      r.loop_sampler && r.loop_sampler !== "fixed" ? `, ${r.loop_sampler} sampler` : ""
    }), ${r.problems} problems${
      r.skipped_unfit ? ` (${r.skipped_unfit} more skipped: they do not fit the model)` : ""
    }`,
    "loops  exact match   95% interval       correct/total",
  ];
  for (const row of r.results) {
    lines.push(
      `${String(row.loops).padStart(5)}  ${pct(row.accuracy).padStart(11)}   ${
        `[${pct(row.low)}, ${pct(row.high)}]`.padEnd(18)
      } ${`${row.correct}/${row.total}`.padEnd(13)} ${bar(row.accuracy, 20)}`,
    );
  }
  if (r.exits.length) {
    lines.push("", "adaptive exit (all loops computed; emitted at the first loop the rule fires)");
    lines.push(
      "rule                    max  mean loops  exact match   95% interval       correct/total",
    );
    for (const e of r.exits) {
      lines.push(
        `${e.rule.padEnd(22)} ${String(e.maxLoops).padStart(4)}  ${
          e.meanLoops.toFixed(2).padStart(10)
        }  ${pct(e.accuracy).padStart(11)}   ${
          `[${pct(e.low)}, ${pct(e.high)}]`.padEnd(18)
        } ${e.correct}/${e.total}`,
      );
    }
  }
  return lines.join("\n");
}

/** The CSV header of {@linkcode reportCsvRows}. */
export const REPORT_CSV_HEADER =
  "checkpoint,kind,loops,rule,mean_loops,accuracy,low,high,correct,total";

const csvField = (s: string) => /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;

/** CSV rows (no header): one per fixed depth (`kind` fixed) and per exit rule (`kind` exit). */
export function reportCsvRows(r: SweepReport): string[] {
  const cp = csvField(r.checkpoint);
  return [
    ...r.results.map((x) =>
      [cp, "fixed", x.loops, "", x.loops, x.accuracy, x.low, x.high, x.correct, x.total].join(",")
    ),
    ...r.exits.map((e) =>
      [
        cp,
        "exit",
        e.maxLoops,
        csvField(e.rule),
        e.meanLoops,
        e.accuracy,
        e.low,
        e.high,
        e.correct,
        e.total,
      ]
        .join(",")
    ),
  ];
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
