/**
 * The seeded study's report: a Markdown table of each arm's mean accuracy
 * and seed range per depth, the per-seed peaks, stabilities and plateau
 * exits, the check; and SVG charts: accuracy against depth with the seed
 * range as a band, each seed's curve, the stability-effectiveness picture
 * (peak against the share of it kept at the deepest depth, one point per
 * seed), the dynamics and the loss curves.
 *
 * @module
 */
import { accuracyChart } from "../plots/accuracy.ts";
import { chartGrid, lineChart, PALETTE, type SeriesSpec } from "../plots/svg.ts";
import type { ArmResult, ReproResult } from "./run.ts";
import { type ArmSummary, studyCheck, summarizeArms } from "./study.ts";

const pct = (x: number) => (100 * x).toFixed(1);
const minutes = (s: number) => (s / 60).toFixed(1);
const num = (x: number | null | undefined) =>
  x === null || x === undefined ? "–" : x < 0.01 ? x.toExponential(1) : x.toFixed(3);
const head = (cols: string[]) =>
  `| ${cols.join(" | ")} |\n|${cols.map((_, i) => i ? " ---: " : " --- ").join("|")}|`;

// Arms are grouped by family for the charts: fixed depth, random depth, STARS.
const FAMILIES: { title: string; pick: (a: ArmSummary) => boolean }[] = [
  { title: "fixed 4 loops", pick: (a) => a.sampler === "fixed" },
  { title: "random depth", pick: (a) => a.sampler !== "fixed" && a.penalty === 0 },
  { title: "STARS and random depth", pick: (a) => a.sampler !== "fixed" },
];

/** The study as Markdown. */
export function studyMarkdown(r: ReproResult, command: string): string {
  const arms = summarizeArms(r.arms);
  const depths = arms[0]?.depths.map((d) => d.depth) ?? [];
  const table = depths.map((d, i) =>
    `| ${d} | ${
      arms.map((a) => {
        const s = a.depths[i].accuracy;
        return `${pct(s.mean)} (${pct(s.min)}–${pct(s.max)})`;
      }).join(" | ")
    } |`
  );
  const seedRows = arms.flatMap((a) =>
    a.seeds.map((s) => {
      const run = r.arms.find((x) => x.id === a.id && x.seed === s.seed)!;
      return `| ${a.id} | ${s.seed} | ${pct(s.peak.accuracy)} | ${s.peak.depth} | ${
        pct(s.atDeepest)
      } | ${s.keepAtDeepest === null ? "–" : pct(s.keepAtDeepest)} | ${num(s.relStepAtDeepest)} | ${
        s.plateauExit ?? "never"
      } | ${minutes(run.trainSeconds)} | ${minutes(run.sweepSeconds)} |`;
    })
  );
  const deepest = Math.max(...depths);
  const check = studyCheck(arms, r.arms).map((p) =>
    `- **${p.claim}**: ${
      p.report ? "reported" : p.held === null ? "not evaluated" : p.held ? "held" : "did not hold"
    }${p.detail ? `. ${p.detail}` : " (no such runs)"}.`
  );
  const provenance = [...new Set(r.arms.map((a) => JSON.stringify(a.provenance ?? {})))];
  return [
    `# Seeded study: exact match against loop depth (profile \`${r.profile}\`)`,
    "",
    `Made by \`${command}\`. ${r.scaling}`,
    "",
    "Arms (every arm shares the model, data, budget and seeds; each differs only in its " +
    "defining keys):",
    "",
    ...arms.map((a) => `- **${a.id}**: ${a.label} (${a.seeds.length} seeds)`),
    "",
    ...(r.missing?.length
      ? [
        `Not run yet (${r.missing.length} runs; the same command without \`--report\` ` +
        `trains them): ${r.missing.map((m) => `${m.id} seed ${m.seed}`).join(", ")}.`,
        "",
      ]
      : []),
    `## Exact match (%): mean over seeds (lowest–highest seed), ${r.testProblems} test problems`,
    "",
    head(["loops", ...arms.map((a) => a.id)]),
    ...table,
    "",
    `## Per seed: peak, accuracy at ${deepest} loops, the share of the peak kept there, ` +
    "relative latent step there, plateau exit, wall times",
    "",
    "The plateau exit is the first step at which the training cross-entropy, averaged over " +
    "50 steps, fell below 0.1.",
    "",
    head([
      "arm",
      "seed",
      "peak %",
      "at loops",
      `${deepest} loops %`,
      "kept",
      "rel. step",
      "plateau exit",
      "train min",
      "sweep min",
    ]),
    ...seedRows,
    "",
    "## The check",
    "",
    ...check,
    "",
    "## What computed the runs",
    "",
    ...provenance.map((p) => `- \`${p}\``),
    "",
  ].join("\n");
}

/** Accuracy against depth: each arm's mean over seeds, its seed range as the band; a panel per family. */
export function studyAccuracySvg(r: ReproResult): string {
  const arms = summarizeArms(r.arms);
  const panels = FAMILIES.map((f) => {
    const chosen = arms.filter(f.pick);
    return accuracyChart(
      chosen.map((a) => ({
        name: a.id,
        trainLoops: a.sampler === "fixed"
          ? r.arms.find((x) => x.id === a.id)?.trainLoops
          : undefined,
        points: a.depths.map((d) => ({
          depth: d.depth,
          accuracy: d.accuracy.mean,
          low: d.accuracy.min,
          high: d.accuracy.max,
        })),
      })),
      `${f.title}: mean over seeds`,
      "exact match (band: lowest to highest seed)",
    );
  });
  return chartGrid(
    panels,
    2,
    760,
    440,
    `Exact match against loop depth (${r.testProblems} problems)`,
  );
}

/** Each seed's accuracy curve, a panel per arm. */
export function studySeedsSvg(r: ReproResult): string {
  const arms = summarizeArms(r.arms);
  const panels = arms.map((a) =>
    lineChart({
      title: a.id,
      width: 420,
      height: 300,
      x: { label: "loops", log: true },
      y: { label: "exact match", min: 0, max: 1 },
      series: r.arms.filter((x) => x.id === a.id).sort((x, y) => x.seed - y.seed).map((x) => ({
        name: `seed ${x.seed}`,
        points: x.sweep.map((p) => [p.depth, p.accuracy] as [number, number]),
      })),
      legend: "bottom",
    })
  );
  return chartGrid(panels, 4, 420, 300, "Exact match against loop depth, each seed");
}

/**
 * The stability-effectiveness picture: each seed's peak accuracy against
 * the share of that peak it keeps at the deepest depth.
 */
export function studyStabilitySvg(r: ReproResult): string {
  const arms = summarizeArms(r.arms);
  const deepest = Math.max(...(arms[0]?.depths.map((d) => d.depth) ?? [1]));
  const series: SeriesSpec[] = arms.map((a, i) => ({
    name: a.id,
    color: PALETTE[i % PALETTE.length],
    line: false,
    shape: a.penalty > 0 ? "square" : "circle",
    points: a.seeds.map((s) => [s.keepAtDeepest ?? 0, s.peak.accuracy] as [number, number]),
  }));
  return lineChart({
    title: "Stability and effectiveness, one point per seed",
    width: 720,
    height: 460,
    x: { label: `accuracy at ${deepest} loops / peak accuracy`, min: 0, max: 1.05 },
    y: { label: "peak exact match", min: 0, max: 1.05 },
    series,
    legend: "right",
  });
}

/** rho(J) and relative latent step against depth, each arm's mean over seeds. */
export function studyDynamicsSvg(r: ReproResult): string {
  const arms = summarizeArms(r.arms);
  const mean = (a: ArmSummary, pick: (d: ArmResult["dynamics"][number]) => number | null) =>
    a.depths.map((d, i) => {
      const values = r.arms.filter((x) => x.id === a.id).map((x) => pick(x.dynamics[i]))
        .filter((v): v is number => v !== null);
      return [
        d.depth,
        values.length ? values.reduce((s, v) => s + v, 0) / values.length : null,
      ] as [
        number,
        number | null,
      ];
    });
  const panel = (
    title: string,
    pick: (d: ArmResult["dynamics"][number]) => number | null,
    log: boolean,
  ) =>
    lineChart({
      title,
      width: 640,
      height: 420,
      x: { label: "loops", log: true },
      y: { label: title, log },
      series: arms.map((a) => ({
        name: a.id,
        points: mean(a, pick).filter(([, y]) => y === null || !log || y > 0),
      })),
      legend: "bottom",
    });
  return chartGrid(
    [
      panel("rho(J) at h_N (mean over seeds)", (d) => d.rho, false),
      panel("relative step at h_N (mean over seeds)", (d) => d.relStep, true),
    ],
    2,
    640,
    420,
    "Latent dynamics at the final state",
  );
}

/** Training cross-entropy of every run, coloured by arm. */
export function studyLossSvg(r: ReproResult): string {
  const ids = [...new Set(r.arms.map((a) => a.id))];
  return lineChart({
    title: "Training cross-entropy, every seed",
    width: 760,
    height: 440,
    x: { label: "step" },
    y: { label: "cross-entropy", log: true },
    series: r.arms.map((a) => {
      const i = ids.indexOf(a.id);
      return {
        name: a.id,
        color: PALETTE[i % PALETTE.length],
        legend: r.arms.find((x) => x.id === a.id) === a,
        points: (a.lossCurve ?? []).filter(([, ce]) => ce > 0),
        markers: false,
        width: 1.2,
      };
    }),
    legend: "right",
  });
}
