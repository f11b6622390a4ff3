/**
 * The reproduction's report: a Markdown table, and SVG charts of accuracy
 * and of the latent dynamics against loop depth for every arm.
 *
 * @module
 */
import { accuracyChart } from "../plots/accuracy.ts";
import { chartGrid, lineChart } from "../plots/svg.ts";
import type { ReproResult } from "./run.ts";
import { ARMS } from "./arms.ts";

const pct = (x: number) => (100 * x).toFixed(1);
const minutes = (seconds: number | undefined) => ((seconds ?? 0) / 60).toFixed(1);
const num = (x: number | null) => x === null ? "–" : x < 0.01 ? x.toExponential(1) : x.toFixed(3);

/** The results as Markdown: accuracy, dynamics and the paper's check. */
export function reproMarkdown(r: ReproResult, command: string): string {
  const depths = r.arms[0]?.sweep.map((p) => p.depth) ?? [];
  const head = (cols: string[]) =>
    `| ${cols.join(" | ")} |\n|${cols.map(() => " --- ").join("|")}|`;
  const accuracy = depths.map((d, i) =>
    `| ${d} | ${
      r.arms.map((a) =>
        `${pct(a.sweep[i].accuracy)} (${pct(a.sweep[i].low)}–${pct(a.sweep[i].high)})`
      ).join(" | ")
    } |`
  );
  const dynamics = depths.map((d, i) =>
    `| ${d} | ${
      r.arms.map((a) => `${num(a.dynamics[i].rho)} / ${num(a.dynamics[i].relStep)}`).join(" | ")
    } |`
  );
  const c = r.check;
  const peakOf = (id: string) => {
    const a = r.arms.find((x) => x.id === id);
    return a ? `${id}'s peak is ${pct(a.peak.accuracy)}% at ${a.peak.depth} loops` : "";
  };
  const verdict = c.held === null
    ? "not evaluated (needs arms A and D, each with a non-zero peak)"
    : `${c.held ? "held" : "did not hold"}: D keeps ${
      pct(c.dKeepsPeakAtDeepest ?? 0)
    }% of its peak at depth ${Math.max(...depths)} (needs >= 95%); A is at ${
      pct(c.aAtDepth32 ?? 0)
    }% of its peak at depth 32 (needs < 50%). The check is relative to each arm's own ` +
      `peak: ${peakOf("D")}, ${peakOf("A")}.`;
  return [
    `# Reproduction: exact match against loop depth (profile \`${r.profile}\`)`,
    "",
    `Made by \`${command}\`. ${r.scaling}`,
    "",
    "Arms (same model, data, step budget and seed; each differs only in its defining keys):",
    "",
    ...r.arms.map((a) =>
      `- **${a.id}**: ${a.label}; held-out exact match at the end of training ${
        pct(a.trainAccuracy)
      }%, ` +
      `peak on the test split ${pct(a.peak.accuracy)}% at ${a.peak.depth} loops; ` +
      `trained in ${minutes(a.trainSeconds)} min, swept in ${minutes(a.sweepSeconds)} min.`
    ),
    "",
    `## Exact match (%) and 95% Wilson interval, ${r.testProblems} test problems`,
    "",
    head(["loops", ...r.arms.map((a) => a.id)]),
    ...accuracy,
    "",
    "## rho(J) / relative latent step ||h_N - h_{N-1}|| / ||h_N|| at the final state",
    "",
    head(["loops", ...r.arms.map((a) => a.id)]),
    ...dynamics,
    "",
    "## The paper's check",
    "",
    verdict,
    "",
  ].join("\n");
}

/** Accuracy against loop depth for every arm (log depth axis, Wilson bands). */
export function reproAccuracySvg(r: ReproResult): string {
  return accuracyChart(
    r.arms.map((a) => ({
      name: `${a.id}: ${ARMS.find((x) => x.id === a.id)?.short ?? a.label}`,
      trainLoops: a.trainLoops,
      points: a.sweep,
    })),
    `Exact match against loop depth (${r.testProblems} test problems)`,
  );
}

/** The training cross-entropy of every arm against the step (log loss axis). */
export function reproLossSvg(r: ReproResult): string {
  return lineChart({
    title: "Training cross-entropy",
    width: 720,
    height: 400,
    x: { label: "step" },
    y: { label: "cross-entropy", log: true },
    series: r.arms.map((a) => ({
      name: `${a.id}: ${ARMS.find((x) => x.id === a.id)?.short ?? a.label}`,
      points: (a.lossCurve ?? []).filter(([, ce]) => ce > 0),
      markers: false,
      width: 1.5,
    })),
    legend: "bottom",
  });
}

/** rho(J) and the relative latent step against loop depth for every arm. */
export function reproDynamicsSvg(r: ReproResult): string {
  const panel = (
    title: string,
    pick: (d: ReproResult["arms"][number]["dynamics"][number]) => number | null,
    log: boolean,
  ) =>
    lineChart({
      title,
      width: 560,
      height: 360,
      x: { label: "loops", log: true },
      y: { label: title, log },
      series: r.arms.map((a) => ({
        name: a.id,
        points: a.dynamics.map((d) => [d.depth, pick(d)] as [number, number | null])
          .filter(([, y]) => y === null || !log || y > 0),
      })),
      legend: "bottom",
    });
  return chartGrid(
    [
      panel("rho(J) at h_N", (d) => d.rho, false),
      panel("relative step at h_N", (d) => d.relStep, true),
    ],
    2,
    560,
    360,
    "Latent dynamics at the final state",
  );
}
