/**
 * A sweep's report rendered as text: a table for the terminal (with a bar
 * per depth) and CSV rows.
 *
 * @module
 */
import type { SweepReport } from "../eval/report.ts";
import { bar } from "./terminal.ts";

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
