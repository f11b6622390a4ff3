/**
 * What `deno task eval` prints and writes for one or several sweep
 * reports: a table (with the steps x loops breakdown where the report has
 * one), JSON or CSV, and the `--out` files (results.json, results.csv,
 * accuracy.svg). Pure: text in, text out.
 *
 * @module
 */
import type { SweepReport } from "../eval/report.ts";
import { stepsTableMarkdown } from "../eval/steps.ts";
import { accuracyChart, type AccuracyRun } from "./accuracy.ts";
import { REPORT_CSV_HEADER, reportCsvRows, reportTable } from "./report_text.ts";

/** How a sweep is printed. */
export type SweepFormat = "table" | "json" | "csv";

/** A report as a chart's run: its depths, and its training depth where that was fixed. */
export function sweepRun(r: SweepReport): AccuracyRun {
  return {
    name: r.checkpoint,
    trainLoops: r.loop_sampler === undefined || r.loop_sampler === "fixed"
      ? r.train_loops
      : undefined,
    points: r.results.map((x) => ({ ...x, depth: x.loops })),
    exits: r.exits ?? [],
  };
}

/** The reports as JSON: one report as itself, several as `{"runs": [...]}`. */
function sweepJson(reports: readonly SweepReport[]): string {
  return JSON.stringify(reports.length === 1 ? reports[0] : { runs: reports });
}

function sweepCsv(reports: readonly SweepReport[]): string {
  return [REPORT_CSV_HEADER, ...reports.flatMap(reportCsvRows)].join("\n");
}

/**
 * The reports as `format`: tables one after another (each with its steps x
 * loops table when it has one), JSON, or one CSV.
 *
 * @example
 * ```ts
 * import { sweepText } from "@stars/toolkit/plots";
 * const report = {
 *   checkpoint: "run", step: 10, train_loops: 4, data: "held-out", problems: 2, exits: [],
 *   results: [{ loops: 4, accuracy: 0.5, low: 0.1, high: 0.9, correct: 1, total: 2 }],
 * };
 * if (!sweepText([report], "csv").startsWith("checkpoint,")) throw new Error("a CSV header");
 * ```
 */
export function sweepText(reports: readonly SweepReport[], format: SweepFormat): string {
  if (format === "json") return sweepJson(reports);
  if (format === "csv") return sweepCsv(reports);
  return reports.map((r) =>
    r.by_steps
      ? `${reportTable(r)}\n\naccuracy by steps x loops:\n${stepsTableMarkdown(r.by_steps)}`
      : reportTable(r)
  ).join("\n\n");
}

/** The `--out` files of a sweep, by name: results.json, results.csv and accuracy.svg. */
export function sweepFiles(reports: readonly SweepReport[]): Record<string, string> {
  return {
    "results.json": sweepJson(reports) + "\n",
    "results.csv": sweepCsv(reports) + "\n",
    "accuracy.svg": accuracyChart(reports.map(sweepRun)),
  };
}
