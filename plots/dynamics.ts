/**
 * Charts of the latent dynamics ({@linkcode DynamicsResult}): a grid of
 * per-loop curves (state norm, relative step, spectral radius, entropy, KL,
 * accuracy), and the 2-D PCA of the state trajectories.
 *
 * @module
 */
import type { DynamicsPoint, DynamicsResult } from "../eval/dynamics.ts";
import { type AxisSpec, chartGrid, lineChart, PALETTE, type SeriesSpec } from "./svg.ts";

/** Settings of {@linkcode dynamicsChart}. */
export interface DynamicsChartOptions {
  /** Title of the whole grid. */
  title?: string;
  /** Training depth, marked in every panel. */
  trainLoops?: number;
}

/** The per-loop panels as one SVG (log y where a quantity spans decades). */
export function dynamicsChart(result: DynamicsResult, options: DynamicsChartOptions = {}): string {
  const pts = result.points;
  const last = Math.max(1, pts.length - 1);
  const vlines = options.trainLoops !== undefined
    ? [{ x: options.trainLoops, label: `trained at ${options.trainLoops}` }]
    : [];
  const panel = (
    title: string,
    label: string,
    pick: (p: DynamicsPoint) => number | null,
    y: Partial<AxisSpec> = {},
  ) =>
    lineChart({
      title,
      width: 420,
      height: 280,
      legend: "none",
      x: { label: "loop t", min: 0, max: last },
      y: { label, ...y },
      vlines,
      series: [{
        name: title,
        points: pts.map((p) => [p.loop, pick(p)] as [number, number | null])
          .filter(([, v]) => v !== null),
        markers: pts.length <= 40,
      }],
    });
  const positive = (v: number | null) => v !== null && v > 0 ? v : null;
  const charts = [
    panel("state norm ||h_t||", "norm", (p) => p.stateNorm),
    panel("relative step ||h_t - h_t-1|| / ||h_t||", "relative step", (p) => positive(p.relStep), {
      log: true,
    }),
    panel("spectral radius rho(J) at h_t", "rho(J)", (p) => p.rho),
    panel("next-token entropy", "nats", (p) => p.entropy),
    panel("KL(p_t-1 || p_t)", "nats", (p) => positive(p.kl), { log: true }),
    panel("teacher-forced token accuracy", "accuracy", (p) => p.accuracy, {
      min: 0,
      max: 1,
      format: (v) => `${Math.round(v * 100)}%`,
    }),
  ];
  const title = options.title ?? "Latent dynamics per loop";
  return chartGrid(charts, 3, 420, 280, `${title} (${result.rows} problems)`);
}

/** The PCA trajectories of up to `maxRows` rows, from h_0 (circle) to the last loop (square). */
export function pcaChart(
  result: DynamicsResult,
  maxRows = 10,
  title = "State trajectories (PCA)",
  names: readonly string[] = [],
): string {
  const loops = result.points.length;
  const rows = Math.min(result.rows, maxRows);
  const series: SeriesSpec[] = [];
  for (let r = 0; r < rows; r++) {
    const color = PALETTE[r % PALETTE.length];
    const points = result.pca.coords.slice(r * loops, (r + 1) * loops)
      .map(([x, y]) => [x, y] as [number, number]);
    series.push({
      name: names[r] ?? `problem ${r + 1}`,
      color,
      width: 1.5,
      markers: false,
      points,
    });
    series.push({ name: "", color, line: false, legend: false, points: [points[0]] });
    series.push({
      name: "",
      color,
      line: false,
      legend: false,
      shape: "square",
      points: [points[points.length - 1]],
    });
  }
  const [e1, e2] = result.pca.explained.map((v) => `${(v * 100).toFixed(1)}%`);
  return lineChart({
    title: `${title} at position ${result.pcaPosition}: circle h_0, square h_${loops - 1}`,
    width: 720,
    height: 540,
    x: { label: `PC1 (${e1} of variance)` },
    y: { label: `PC2 (${e2} of variance)` },
    series,
  });
}
