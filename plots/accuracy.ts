/**
 * Accuracy against loop depth: one line per run (checkpoint) with its 95%
 * Wilson band, a log-scaled depth axis, each run's training depth marked,
 * and adaptive-exit results as points at their mean loops used.
 *
 * @module
 */
import { type ChartSpec, lineChart, PALETTE, type SeriesSpec } from "./svg.ts";

/** One run's sweep, as plotted. */
export interface AccuracyRun {
  /** Legend name (e.g. the checkpoint folder). */
  name: string;
  /** Training depth (fixed loops), marked with a dashed line. */
  trainLoops?: number;
  /** The sweep: accuracy and Wilson interval per depth. */
  points: readonly { depth: number; accuracy: number; low: number; high: number }[];
  /** Adaptive-exit results, drawn as points at their mean loops used. */
  exits?: readonly { rule: string; accuracy: number; meanLoops: number }[];
}

/**
 * An SVG chart of exact-match accuracy against loop depth for several runs.
 *
 * @example
 * ```ts
 * import { assert, assertStringIncludes } from "@std/assert";
 * import { accuracyChart } from "@stars/toolkit/plots";
 * const svg = accuracyChart([{
 *   name: "fixed-4",
 *   trainLoops: 4,
 *   points: [{ depth: 1, accuracy: 0.1, low: 0.05, high: 0.2 }, { depth: 4, accuracy: 1, low: 0.98, high: 1 }],
 * }]);
 * assert(svg.startsWith("<svg"));
 * assertStringIncludes(svg, "fixed-4"); // the legend names the run
 * ```
 */
export function accuracyChart(
  runs: readonly AccuracyRun[],
  title = "Exact match vs loop depth",
  yLabel = "exact match (95% Wilson band)",
): string {
  const series: SeriesSpec[] = [];
  runs.forEach((run, i) => {
    const color = PALETTE[i % PALETTE.length];
    const points = run.points.filter((p) => p.depth > 0);
    series.push({
      name: run.name,
      color,
      points: points.map((p) => [p.depth, p.accuracy]),
      band: points.map((p) => [p.depth, p.low, p.high]),
    });
    if (run.exits?.length) {
      series.push({
        name: runs.length > 1 ? `${run.name}: exit rules` : "exit rules (at mean loops)",
        color,
        line: false,
        shape: "square",
        points: run.exits.map((e) => [e.meanLoops, e.accuracy]),
        labels: run.exits.map((e) => e.rule),
      });
    }
  });
  const vlines = runs.flatMap((run, i) =>
    run.trainLoops
      ? [{
        x: run.trainLoops,
        label: runs.length > 1
          ? `train ${run.trainLoops} (${i + 1})`
          : `trained at ${run.trainLoops}`,
        color: PALETTE[i % PALETTE.length],
      }]
      : []
  );
  const spec: ChartSpec = {
    title,
    width: 760,
    height: 440,
    x: { label: "loops per token", log: true },
    y: {
      label: yLabel,
      min: 0,
      max: 1,
      format: (v) => `${Math.round(v * 100)}%`,
    },
    series,
    vlines,
  };
  return lineChart(spec);
}
