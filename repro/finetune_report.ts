/**
 * The fine-tuning experiment's report: the paper's metrics per arm (peak,
 * its loops, the drops from peak, the exit rules) with the seed spread, the
 * comparisons STARS and random loops against SFT, accuracy at every loop
 * count, accuracy by number of steps; and SVG charts: accuracy against
 * loops for the base and the three arms (band: lowest to highest seed) and
 * accuracy by number of steps at each loop count.
 *
 * @module
 */
import { accuracyChart } from "../plots/accuracy.ts";
import { chartGrid, lineChart } from "../plots/svg.ts";
import type { FinetuneModelResult, FinetuneResult } from "./finetune.ts";
import { type ArmComparison, metricsMarkdown, stepsTableSpread } from "./finetune_metrics.ts";

const pct = (x: number) => (100 * x).toFixed(1);
const signed = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(1)}`;
const minutes = (s: number) => (s / 60).toFixed(1);
const head = (cols: string[]) =>
  `| ${cols.join(" | ")} |\n|${cols.map((_, i) => i ? " ---: " : " --- ").join("|")}|`;

function armIds(r: FinetuneResult): string[] {
  return [...new Set(r.models.map((m) => m.arm))];
}

function comparisonLines(cs: readonly ArmComparison[]): string[] {
  return cs.map((c) => {
    const g = c.peakGain;
    const drops = c.dropChange.filter((d) => d.change).map((d) =>
      `drop at ${d.loops}: ${signed(d.change!.diff)} points (sd ${d.change!.sd.toFixed(1)} / ${
        d.change!.againstSd.toFixed(1)
      }${d.change!.separated ? ", seed ranges apart" : ", seed ranges overlap"})`
    );
    return `- **${c.arm} against ${c.against}**: peak ${signed(g.diff)} points (seed sd ${
      g.sd.toFixed(1)
    } / ${g.againstSd.toFixed(1)}${
      g.separated ? ", seed ranges apart" : ", seed ranges overlap"
    }); ${drops.join("; ")}.`;
  });
}

/** The experiment as Markdown. */
export function finetuneMarkdown(r: FinetuneResult, command: string): string {
  const ids = armIds(r);
  const grid = r.models[0]?.sweep.map((p) => p.depth) ?? [];
  const curves = r.metrics;
  const accRows = grid.map((loops, j) =>
    `| ${loops} | ${
      curves.map((a) => {
        const s = a.curve[j].accuracy;
        return s.n > 1 ? `${pct(s.mean)} (${pct(s.min)}–${pct(s.max)})` : pct(s.mean);
      }).join(" | ")
    } |`
  );
  const seedRows = r.models.map((m) => {
    const peak = m.sweep.reduce((b, p) => (p.accuracy > b.accuracy ? p : b), m.sweep[0]);
    return `| ${m.arm} | ${m.seed} | ${pct(peak.accuracy)} | ${peak.depth} | ${
      m.exits.map((e) => `${pct(e.accuracy)} (${e.meanLoops.toFixed(1)})`).join(" | ")
    } | ${minutes(m.trainSeconds)} | ${minutes(m.evalSeconds)} |`;
  });
  const rules = r.models[0]?.exits.map((e) => e.rule) ?? [];
  const provenance = [...new Set(r.models.map((m) => JSON.stringify(m.provenance ?? {})))];
  return [
    `# Fine-tuning a fixed-depth looped model: SFT, random loops, STARS (profile \`${r.profile}\`)`,
    "",
    `Made by \`${command}\`. ${r.scaling}`,
    "",
    `Every model is evaluated on the same ${r.testProblems} held-out problems (test seed ` +
    `${r.testSeed}); accuracies are exact match, drops are percentage points below the model's ` +
    "own peak.",
    "",
    ...(r.missing.length
      ? [
        `Not run yet (${r.missing.length}; the same command without \`--report\` trains ` +
        `them): ${r.missing.map((m) => `${m.arm} seed ${m.seed}`).join(", ")}.`,
        "",
      ]
      : []),
    "## The paper's metrics (mean ± sd over seeds)",
    "",
    metricsMarkdown(r.metrics),
    "",
    ...(r.comparisons.length
      ? ["## The comparisons", "", ...comparisonLines(r.comparisons), ""]
      : []),
    "## Exact match (%) at each loop count: mean (lowest–highest seed)",
    "",
    head(["loops", ...curves.map((a) => a.arm)]),
    ...accRows,
    "",
    ...ids.flatMap((id) => stepsSection(r, id)),
    "## Per run",
    "",
    head([
      "model",
      "seed",
      "peak %",
      "at loops",
      ...rules.map((x) => `exit ${x} % (loops)`),
      "train min",
      "eval min",
    ]),
    ...seedRows,
    "",
    "## What computed the runs",
    "",
    ...provenance.map((p) => `- \`${p}\``),
    "",
  ].join("\n");
}

function stepsSection(r: FinetuneResult, id: string): string[] {
  const mine = r.models.filter((m) => m.arm === id);
  const t = stepsTableSpread(mine.map((m) => m.bySteps));
  const shown = t.loops.map((l, j) => [l, j] as const).filter(([l]) =>
    l <= 8 || l === 16 || l === 64
  );
  return [
    `### ${id}: exact match (%) by number of steps (rows) and loops (columns), mean over ${mine.length} seed(s)`,
    "",
    head(["steps", ...shown.map(([l]) => String(l))]),
    ...t.steps.map((s, i) =>
      `| ${s} | ${shown.map(([, j]) => pct(t.cells[i][j].mean)).join(" | ")} |`
    ),
    `| all | ${shown.map(([, j]) => pct(t.overall[j].mean)).join(" | ")} |`,
    "",
  ];
}

/** Accuracy against loops: the base and each arm's mean over seeds, the seed range as the band. */
export function finetuneAccuracySvg(r: FinetuneResult): string {
  return accuracyChart(
    r.metrics.map((a) => ({
      name: a.arm,
      trainLoops: a.arm === "SFT" || a.arm === "base" ? 4 : undefined,
      points: a.curve.map((c) => ({
        depth: c.loops,
        accuracy: c.accuracy.mean,
        low: c.accuracy.min,
        high: c.accuracy.max,
      })),
    })),
    `Exact match against loops after fine-tuning (${r.testProblems} held-out chains)`,
    "exact match (band: lowest to highest seed)",
  );
}

/** Accuracy by number of steps against loops: a panel per model (mean over seeds). */
export function finetuneStepsSvg(r: FinetuneResult): string {
  const panels = armIds(r).map((id) => {
    const mine: FinetuneModelResult[] = r.models.filter((m) => m.arm === id);
    const t = stepsTableSpread(mine.map((m) => m.bySteps));
    return lineChart({
      title: `${id} (${mine.length} seed${mine.length > 1 ? "s" : ""})`,
      width: 420,
      height: 320,
      x: { label: "loops", log: true },
      y: { label: "exact match", min: 0, max: 1 },
      series: t.steps.map((s, i) => ({
        name: `${s} step${s > 1 ? "s" : ""}`,
        points: t.loops.map((l, j) => [l, t.cells[i][j].mean] as [number, number]),
      })),
      legend: "bottom",
    });
  });
  return chartGrid(panels, 2, 420, 320, "Exact match by number of steps against loops");
}
