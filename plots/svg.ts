/**
 * A small dependency-free SVG line chart: linear or log axes with "nice"
 * ticks, series drawn as lines with optional markers and a shaded band
 * (a confidence interval), vertical reference lines, and a legend. Charts
 * compose into a grid with {@linkcode chartGrid}.
 *
 * @module
 */

/** One axis. */
export interface AxisSpec {
  /** Axis title. */
  label: string;
  /** Log10 scale (positive values only; default false). */
  log?: boolean;
  /** Lower end (default: from the data, or 0 for a linear axis starting near 0). */
  min?: number;
  /** Upper end (default: from the data). */
  max?: number;
  /** Tick label formatter (default: compact number). */
  format?: (value: number) => string;
}

/** One series: a line through `points` (null y leaves a gap). */
export interface SeriesSpec {
  /** Legend name. */
  name: string;
  /** `[x, y]` pairs in drawing order. */
  points: [number, number | null][];
  /** A shaded band `[x, low, high]` (e.g. a 95% interval). */
  band?: [number, number, number][];
  /** Stroke colour (default: from the palette by index). */
  color?: string;
  /** Draw a marker at each point (default true). */
  markers?: boolean;
  /** Dashed line (default false). */
  dashed?: boolean;
  /** Line width (default 2). */
  width?: number;
  /** Draw the line (default true; false: markers only). */
  line?: boolean;
  /** Marker shape (default circle). */
  shape?: "circle" | "square";
  /** Text drawn beside each point (same order as `points`; empty: none). */
  labels?: string[];
  /** List in the legend (default true). */
  legend?: boolean;
}

/** A vertical reference line, e.g. the training depth. */
export interface MarkerLine {
  /** Where, on the x axis. */
  x: number;
  /** Text next to the line. */
  label: string;
  /** Colour (default grey). */
  color?: string;
}

/** A chart. */
export interface ChartSpec {
  /** Title above the plot. */
  title?: string;
  /** Pixel width (default 640). */
  width?: number;
  /** Pixel height (default 400). */
  height?: number;
  /** Horizontal axis. */
  x: AxisSpec;
  /** Vertical axis. */
  y: AxisSpec;
  /** The series, drawn in order. */
  series: SeriesSpec[];
  /** Vertical reference lines. */
  vlines?: MarkerLine[];
  /** Legend placement (default `right`, outside the plot; `none` hides it). */
  legend?: "right" | "bottom" | "none";
}

/** Colour-blind-safe palette (Okabe-Ito, then Tableau). */
export const PALETTE: readonly string[] = [
  "#0072B2",
  "#D55E00",
  "#009E73",
  "#CC79A7",
  "#E69F00",
  "#56B4E9",
  "#000000",
  "#8C564B",
  "#7F7F7F",
  "#BCBD22",
];

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!,
  );
}

/** Compact tick label: 0.25, 1e-3, 12k. */
export function formatTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0).replace("e+", "e");
  if (a >= 1e4) return `${+(v / 1000).toPrecision(3)}k`;
  return String(+v.toPrecision(4));
}

/** About `count` evenly spaced round ticks (1, 2 or 5 times a power of ten) covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) {
    out.push(Math.abs(v) < step * 1e-9 ? 0 : +v.toPrecision(12));
  }
  return out;
}

/** Ticks for a log axis: 1, 2, 5 times each power of ten in range (powers only if many). */
export function logTicks(min: number, max: number): number[] {
  const out: number[] = [];
  const lo = Math.floor(Math.log10(min)), hi = Math.ceil(Math.log10(max));
  const mults = hi - lo > 4 ? [1] : [1, 2, 5];
  for (let e = lo; e <= hi; e++) {
    for (const m of mults) {
      const v = +(m * 10 ** e).toPrecision(12);
      if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) out.push(v);
    }
  }
  return out;
}

interface Scale {
  map: (v: number) => number;
  ticks: number[];
  min: number;
  max: number;
}

function makeScale(axis: AxisSpec, values: number[], from: number, to: number): Scale {
  const data = values.filter((v) => Number.isFinite(v) && (!axis.log || v > 0));
  let min = axis.min ?? (data.length ? Math.min(...data) : 0);
  let max = axis.max ?? (data.length ? Math.max(...data) : 1);
  if (axis.log) {
    if (!(min > 0)) min = data.length ? Math.min(...data) : 1;
    if (!(max > min)) max = min * 10;
    const [a, b] = [Math.log10(min), Math.log10(max)];
    return {
      min,
      max,
      ticks: logTicks(min, max),
      map: (v) => from + (Math.log10(Math.max(v, min * 1e-6)) - a) / (b - a) * (to - from),
    };
  }
  if (max === min) [min, max] = [min - 1, max + 1];
  if (axis.min === undefined || axis.max === undefined) {
    // Extend to round ticks.
    const pad = niceTicks(min, max, 5);
    const step = pad.length > 1 ? pad[1] - pad[0] : 1;
    if (axis.min === undefined) min = Math.floor(min / step + 1e-9) * step;
    if (axis.max === undefined) max = Math.ceil(max / step - 1e-9) * step;
  }
  return {
    min,
    max,
    ticks: niceTicks(min, max, 5),
    map: (v) => from + (v - min) / (max - min) * (to - from),
  };
}

const r1 = (v: number) => Math.round(v * 10) / 10;

function marker(shape: SeriesSpec["shape"], x: number, y: number, color: string, r: number) {
  return shape === "square"
    ? `<rect x="${r1(x - r - 1)}" y="${r1(y - r - 1)}" width="${2 * r + 2}" height="${
      2 * r + 2
    }" fill="${color}" stroke="#fff" stroke-width="0.8"/>`
    : `<circle cx="${r1(x)}" cy="${
      r1(y)
    }" r="${r}" fill="${color}" stroke="#fff" stroke-width="0.8"/>`;
}

/**
 * Renders a line chart as a standalone SVG document.
 *
 * @example
 * ```ts
 * import { lineChart } from "@stars/toolkit/plots";
 * const svg = lineChart({
 *   x: { label: "loops", log: true },
 *   y: { label: "accuracy", min: 0, max: 1 },
 *   series: [{ name: "run", points: [[1, 0.2], [4, 0.9], [16, 0.5]] }],
 * });
 * if (!svg.startsWith("<svg")) throw new Error("a standalone SVG document");
 * // await Deno.writeTextFile("chart.svg", svg);
 * ```
 */
export function lineChart(spec: ChartSpec): string {
  const width = spec.width ?? 640, height = spec.height ?? 400;
  const legend = spec.legend ?? "right";
  const listed = spec.series.map((s, i) => ({ s, i })).filter(({ s }) => s.legend ?? true);
  const legendWidth = legend === "right" && listed.length
    ? Math.min(320, 44 + 7 * Math.max(0, ...listed.map(({ s }) => s.name.length)))
    : 0;
  const legendRows = legend === "bottom" ? Math.ceil(listed.length / 3) : 0;
  const left = 64, top = spec.title ? 36 : 16;
  const right = width - 16 - legendWidth;
  const bottom = height - 48 - legendRows * 18;
  const xs = spec.series.flatMap((
    s,
  ) => [...s.points.map((p) => p[0]), ...(s.band ?? []).map((b) => b[0])]);
  const ys = spec.series.flatMap((s) => [
    ...s.points.map((p) => p[1]).filter((y): y is number => y !== null),
    ...(s.band ?? []).flatMap((b) => [b[1], b[2]]),
  ]);
  const sx = makeScale(spec.x, [...xs, ...(spec.vlines ?? []).map((v) => v.x)], left, right);
  const sy = makeScale(spec.y, ys, bottom, top);
  const fx = spec.x.format ?? formatTick, fy = spec.y.format ?? formatTick;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  if (spec.title) {
    out.push(
      `<text x="${
        r1((left + right) / 2)
      }" y="22" text-anchor="middle" font-size="15" font-weight="bold">${
        escapeXml(spec.title)
      }</text>`,
    );
  }
  // Grid and ticks.
  out.push(`<g class="axes" stroke="#e3e3e3" stroke-width="1">`);
  for (const t of sx.ticks) {
    out.push(`<line x1="${r1(sx.map(t))}" y1="${top}" x2="${r1(sx.map(t))}" y2="${bottom}"/>`);
  }
  for (const t of sy.ticks) {
    out.push(`<line x1="${left}" y1="${r1(sy.map(t))}" x2="${right}" y2="${r1(sy.map(t))}"/>`);
  }
  out.push(`</g>`);
  out.push(
    `<rect x="${left}" y="${top}" width="${r1(right - left)}" height="${
      r1(bottom - top)
    }" fill="none" stroke="#444"/>`,
  );
  out.push(`<g class="ticks" fill="#333">`);
  for (const t of sx.ticks) {
    out.push(
      `<text x="${r1(sx.map(t))}" y="${bottom + 16}" text-anchor="middle">${
        escapeXml(fx(t))
      }</text>`,
    );
  }
  for (const t of sy.ticks) {
    out.push(
      `<text x="${left - 6}" y="${r1(sy.map(t) + 4)}" text-anchor="end">${escapeXml(fy(t))}</text>`,
    );
  }
  out.push(`</g>`);
  out.push(
    `<text x="${r1((left + right) / 2)}" y="${bottom + 36}" text-anchor="middle" font-size="13">${
      escapeXml(spec.x.label + (spec.x.log ? " (log scale)" : ""))
    }</text>`,
  );
  out.push(
    `<text transform="translate(16 ${
      r1((top + bottom) / 2)
    }) rotate(-90)" text-anchor="middle" font-size="13">${
      escapeXml(spec.y.label + (spec.y.log ? " (log scale)" : ""))
    }</text>`,
  );
  out.push(
    `<defs><clipPath id="plot-area"><rect x="${left}" y="${top}" width="${
      r1(right - left)
    }" height="${r1(bottom - top)}"/></clipPath></defs>`,
  );
  // Reference lines.
  for (const v of spec.vlines ?? []) {
    const x = r1(sx.map(v.x));
    if (x < left - 0.5 || x > right + 0.5) continue;
    const color = v.color ?? "#777";
    out.push(
      `<g class="vline"><line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="${color}" stroke-width="1.5" stroke-dasharray="2 3"/><text x="${
        x + 4
      }" y="${top + 14}" fill="${color}" font-size="11">${escapeXml(v.label)}</text></g>`,
    );
  }
  // Series.
  const placed: { x: number; y: number; w: number }[] = [];
  spec.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    out.push(`<g class="series" data-name="${escapeXml(s.name)}" clip-path="url(#plot-area)">`);
    if (s.band?.length) {
      const upper = s.band.map((b) => `${r1(sx.map(b[0]))},${r1(sy.map(b[2]))}`);
      const lower = s.band.map((b) => `${r1(sx.map(b[0]))},${r1(sy.map(b[1]))}`).reverse();
      out.push(
        `<polygon points="${
          [...upper, ...lower].join(" ")
        }" fill="${color}" fill-opacity="0.15" stroke="none"/>`,
      );
    }
    const runs: string[][] = [[]];
    for (const [x, y] of s.points) {
      if (y === null || !Number.isFinite(y) || (spec.y.log && y <= 0)) {
        if (runs[runs.length - 1].length) runs.push([]);
        continue;
      }
      runs[runs.length - 1].push(`${r1(sx.map(x))},${r1(sy.map(y))}`);
    }
    for (const run of runs.filter((r) => r.length && (s.line ?? true))) {
      out.push(
        `<polyline points="${run.join(" ")}" fill="none" stroke="${color}" stroke-width="${
          s.width ?? 2
        }" stroke-linejoin="round"${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>`,
      );
    }
    if (s.markers ?? true) {
      for (const run of runs) {
        for (const p of run) {
          const [cx, cy] = p.split(",").map(Number);
          out.push(marker(s.shape, cx, cy, color, 3));
        }
      }
    }
    s.points.forEach(([x, y], k) => {
      const text = s.labels?.[k];
      if (!text || y === null || !Number.isFinite(y)) return;
      // Place beside the point; move up past labels already placed that it would overlap.
      const w = 6.2 * text.length, lx = sx.map(x) + 7;
      let ly = sy.map(y) - 6;
      while (placed.some((b) => lx < b.x + b.w && b.x < lx + w && Math.abs(b.y - ly) < 12)) {
        ly -= 12;
      }
      placed.push({ x: lx, y: ly, w });
      out.push(
        `<text x="${r1(lx)}" y="${r1(ly)}" fill="${color}" font-size="11">${
          escapeXml(text)
        }</text>`,
      );
    });
    out.push(`</g>`);
  });
  // Legend.
  if (legend !== "none" && listed.length) {
    out.push(`<g class="legend">`);
    listed.forEach(({ s, i: index }, i) => {
      const color = s.color ?? PALETTE[index % PALETTE.length];
      const [lx, ly] = legend === "right"
        ? [right + 14, top + 8 + i * 20]
        : [left + (i % 3) * ((right - left) / 3), bottom + 52 + Math.floor(i / 3) * 18];
      out.push(
        s.line === false
          ? marker(s.shape, lx + 10, ly, color, 3.5)
          : `<line x1="${r1(lx)}" y1="${r1(ly)}" x2="${r1(lx + 20)}" y2="${
            r1(ly)
          }" stroke="${color}" stroke-width="${s.width ?? 2}"${
            s.dashed ? ' stroke-dasharray="6 4"' : ""
          }/>`,
      );
      out.push(`<text x="${r1(lx + 26)}" y="${r1(ly + 4)}">${escapeXml(s.name)}</text>`);
    });
    out.push(`</g>`);
  }
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}

/**
 * Lays charts (standalone SVG documents from {@linkcode lineChart}, each
 * `cellWidth x cellHeight`) out in a grid, as one SVG document.
 */
export function chartGrid(
  charts: string[],
  columns: number,
  cellWidth: number,
  cellHeight: number,
  title?: string,
): string {
  const rows = Math.ceil(charts.length / columns);
  const head = title ? 32 : 0;
  const width = columns * cellWidth, height = rows * cellHeight + head;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (title) {
    out.push(
      `<text x="${width / 2}" y="22" text-anchor="middle" font-size="17" font-weight="bold">${
        escapeXml(title)
      }</text>`,
    );
  }
  charts.forEach((svg, i) => {
    // Each chart gets its own clip-path id so the nested documents do not collide.
    const inner = svg.replace(/^<svg [^>]*>/, "").replace(/<\/svg>\s*$/, "")
      .replaceAll("plot-area", `plot-area-${i}`);
    const x = (i % columns) * cellWidth, y = head + Math.floor(i / columns) * cellHeight;
    out.push(
      `<svg x="${x}" y="${y}" width="${cellWidth}" height="${cellHeight}" font-size="12">${inner}</svg>`,
    );
  });
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
