/**
 * Charts and text renderings without tfjs: SVG line charts (accuracy
 * against loops, dynamics, PCA), terminal bars and sparklines, and a sweep
 * report as a table or CSV. Importing this loads no tensor library, so a
 * script that only draws saved results starts in milliseconds.
 *
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { bar, sparkline } from "@stars/toolkit/plots";
 *
 * assertEquals(bar(0.5, 4), "██");
 * assertEquals(sparkline([0, 1]), "▁█");
 * ```
 *
 * @module
 */
export {
  type AxisSpec,
  chartGrid,
  type ChartSpec,
  escapeXml,
  formatTick,
  lineChart,
  logTicks,
  type MarkerLine,
  niceTicks,
  PALETTE,
  type SeriesSpec,
} from "./svg.ts";
export { accuracyChart, type AccuracyRun } from "./accuracy.ts";
export { dynamicsChart, type DynamicsChartOptions, pcaChart } from "./dynamics.ts";
export { dynamicsCsv, dynamicsTable } from "./dynamics_text.ts";
export { bar, sparkline } from "./terminal.ts";
export { REPORT_CSV_HEADER, reportCsvRows, reportTable } from "./report_text.ts";
export { sweepFiles, type SweepFormat, sweepRun, sweepText } from "./sweep_output.ts";
export { type AnalysedRun, dynamicsFiles, dynamicsHeading } from "./dynamics_output.ts";
