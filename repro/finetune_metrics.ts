/**
 * The fine-tuning experiment's numbers, as the paper reports them, as pure
 * functions of accuracy-against-loops curves: per arm and seed, the peak
 * accuracy and the loop count where it occurs, the drop from the peak at 8
 * loops (and 16, 64) in percentage points, the adaptive exit rules'
 * accuracy and mean loops; per arm, each over seeds as mean and spread; and
 * one arm against another (peak gain, drop change) next to their spreads.
 *
 * Accuracies are fractions (0..1); drops and differences are percentage
 * points (100 x a difference of fractions), as the paper's "drop from peak
 * at 8 loops, 20.47 points".
 *
 * @module
 */
import type { StepsTable } from "../eval/steps.ts";
import { type Spread, spread } from "./study.ts";

export type { Spread };

/** Accuracy at one loop count. */
export interface CurvePoint {
  /** Loops per generated token. */
  loops: number;
  /** Exact match, 0..1. */
  accuracy: number;
}

/** An adaptive exit rule's result (an `ExitPoint` has these fields). */
export interface ExitResult {
  /** The rule, as text (e.g. `kl:0.001`). */
  rule: string;
  /** Exact match, 0..1. */
  accuracy: number;
  /** Mean exit loop per generated token. */
  meanLoops: number;
}

/** One fine-tuned (or base) model's evaluation: one arm, one seed. */
export interface FinetuneRun {
  /** The arm's id (e.g. `SFT`, `RAND`, `STARS`, `base`). */
  arm: string;
  /** The seed. */
  seed: number;
  /** Accuracy at each loop count of the grid. */
  curve: readonly CurvePoint[];
  /** Adaptive exit rules evaluated (default none). */
  exits?: readonly ExitResult[];
}

/** The loop counts at which the drop from peak is reported by default. */
export const DROP_LOOPS: readonly number[] = [8, 16, 64];

/** The best accuracy of a curve and its loop count (ties: the fewest loops). */
export function peakOf(curve: readonly CurvePoint[]): CurvePoint {
  if (curve.length === 0) throw new RangeError("metrics: empty accuracy curve");
  let best = curve[0];
  for (const p of curve) {
    if (p.accuracy > best.accuracy || (p.accuracy === best.accuracy && p.loops < best.loops)) {
      best = p;
    }
  }
  return { loops: best.loops, accuracy: best.accuracy };
}

/** The accuracy at `loops`, or null when the curve has no such point. */
export function accuracyAt(curve: readonly CurvePoint[], loops: number): number | null {
  return curve.find((p) => p.loops === loops)?.accuracy ?? null;
}

/**
 * Peak accuracy minus the accuracy at `loops`, in percentage points (0
 * when the peak is there); null when the curve has no point at `loops`.
 *
 * @example
 * ```ts
 * import { assertAlmostEquals, assertEquals } from "@std/assert";
 * import { dropFromPeak } from "@stars/toolkit/repro";
 * const curve = [{ loops: 4, accuracy: 0.7046 }, { loops: 8, accuracy: 0.5297 }];
 * assertAlmostEquals(dropFromPeak(curve, 8)!, 17.49, 1e-9); // points
 * assertEquals(dropFromPeak(curve, 16), null);
 * ```
 */
export function dropFromPeak(curve: readonly CurvePoint[], loops: number): number | null {
  const at = accuracyAt(curve, loops);
  return at === null ? null : 100 * (peakOf(curve).accuracy - at);
}

/** One run's metrics. */
export interface RunMetrics {
  /** The arm. */
  arm: string;
  /** The seed. */
  seed: number;
  /** Peak accuracy and its loop count. */
  peak: CurvePoint;
  /** Drop from peak (points) at each requested loop count (null: not swept). */
  drops: { loops: number; drop: number | null }[];
  /** The exit rules' accuracy and mean loops. */
  exits: ExitResult[];
}

/** The metrics of one run, with drops at `dropAt` (default {@linkcode DROP_LOOPS}). */
export function runMetrics(
  run: FinetuneRun,
  dropAt: readonly number[] = DROP_LOOPS,
): RunMetrics {
  return {
    arm: run.arm,
    seed: run.seed,
    peak: peakOf(run.curve),
    drops: dropAt.map((loops) => ({ loops, drop: dropFromPeak(run.curve, loops) })),
    exits: (run.exits ?? []).map(({ rule, accuracy, meanLoops }) => ({
      rule,
      accuracy,
      meanLoops,
    })),
  };
}

/** One arm over its seeds. */
export interface ArmMetrics {
  /** The arm. */
  arm: string;
  /** Its runs' metrics, by seed. */
  runs: RunMetrics[];
  /** Accuracy at each loop count (of the first run's grid) over seeds. */
  curve: { loops: number; accuracy: Spread }[];
  /** Peak accuracy over seeds. */
  peak: Spread;
  /** The peak's loop count over seeds. */
  peakLoops: Spread;
  /** Drop from peak (points) over seeds (null: some seed did not sweep there). */
  drops: { loops: number; drop: Spread | null }[];
  /** Each exit rule's accuracy and mean loops over the seeds that ran it. */
  exits: { rule: string; accuracy: Spread; meanLoops: Spread }[];
}

/**
 * Groups runs by arm (first-seen order) and summarises each over its
 * seeds. Every run of an arm must have the same loop grid.
 */
export function armMetrics(
  runs: readonly FinetuneRun[],
  dropAt: readonly number[] = DROP_LOOPS,
): ArmMetrics[] {
  const ids = [...new Set(runs.map((r) => r.arm))];
  return ids.map((arm) => {
    const mine = runs.filter((r) => r.arm === arm).sort((a, b) => a.seed - b.seed);
    const grid = mine[0].curve.map((p) => p.loops);
    for (const r of mine) {
      if (r.curve.map((p) => p.loops).join() !== grid.join()) {
        throw new RangeError(
          `metrics: arm ${arm} seed ${r.seed} was swept at other loop counts than seed ` +
            `${mine[0].seed}`,
        );
      }
    }
    const metrics = mine.map((r) => runMetrics(r, dropAt));
    const rules = [...new Set(metrics.flatMap((m) => m.exits.map((e) => e.rule)))];
    return {
      arm,
      runs: metrics,
      curve: grid.map((loops, i) => ({
        loops,
        accuracy: spread(mine.map((r) => r.curve[i].accuracy)),
      })),
      peak: spread(metrics.map((m) => m.peak.accuracy)),
      peakLoops: spread(metrics.map((m) => m.peak.loops)),
      drops: dropAt.map((loops, i) => {
        const ds = metrics.map((m) => m.drops[i].drop);
        return {
          loops,
          drop: ds.every((d) => d !== null) ? spread(ds as number[]) : null,
        };
      }),
      exits: rules.map((rule) => {
        const es = metrics.flatMap((m) => m.exits.filter((e) => e.rule === rule));
        return {
          rule,
          accuracy: spread(es.map((e) => e.accuracy)),
          meanLoops: spread(es.map((e) => e.meanLoops)),
        };
      }),
    };
  });
}

/** A difference of two arms' means, next to their seed spreads. */
export interface Difference {
  /** Mean of `arm` minus mean of `against`. */
  diff: number;
  /** Sample standard deviation over `arm`'s seeds. */
  sd: number;
  /** Sample standard deviation over `against`'s seeds. */
  againstSd: number;
  /** Whether the two arms' seed ranges do not overlap. */
  separated: boolean;
}

function difference(a: Spread, b: Spread, scale: number): Difference {
  return {
    diff: scale * (a.mean - b.mean),
    sd: scale * a.sd,
    againstSd: scale * b.sd,
    separated: a.min > b.max || a.max < b.min,
  };
}

/** One arm against another: the paper's two claims. */
export interface ArmComparison {
  /** The arm (e.g. `STARS`). */
  arm: string;
  /** The arm it is compared with (e.g. `SFT`). */
  against: string;
  /** Peak gain in points (positive: `arm` peaks higher). */
  peakGain: Difference;
  /**
   * Change of the drop from peak, in points, at each loop count (negative:
   * `arm` drops less); null where either arm lacks it.
   */
  dropChange: { loops: number; change: Difference | null }[];
}

/**
 * The paper's comparison of `arm` against `against`: the peak gain (STARS
 * over SFT: +4.01 points in the paper) and the change of the drop from peak
 * (20.47 to 8.26 points at 8 loops: -12.21), each with both arms' seed
 * spreads.
 */
export function compareArms(arm: ArmMetrics, against: ArmMetrics): ArmComparison {
  return {
    arm: arm.arm,
    against: against.arm,
    peakGain: difference(arm.peak, against.peak, 100),
    dropChange: arm.drops.map((d) => {
      const o = against.drops.find((x) => x.loops === d.loops)?.drop;
      return { loops: d.loops, change: d.drop && o ? difference(d.drop, o, 1) : null };
    }),
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const pts = (x: number) => x.toFixed(1);
const pm = (s: Spread, f: (x: number) => string) =>
  s.n > 1 ? `${f(s.mean)} ± ${f(s.sd)}` : f(s.mean);

/**
 * The arms' metrics as a Markdown table: peak (mean ± sd over seeds) and
 * its loops, the drops from peak, and each exit rule's accuracy and mean
 * loops.
 */
export function metricsMarkdown(arms: readonly ArmMetrics[]): string {
  const dropLoops = arms[0]?.drops.map((d) => d.loops) ?? [];
  const rules = [...new Set(arms.flatMap((a) => a.exits.map((e) => e.rule)))];
  const head = [
    "arm",
    "seeds",
    "peak",
    "peak at loops",
    ...dropLoops.map((l) => `drop at ${l} (points)`),
    ...rules.map((r) => `exit ${r}: accuracy (mean loops)`),
  ];
  const rows = arms.map((a) => [
    a.arm,
    String(a.peak.n),
    pm(a.peak, pct),
    pm(a.peakLoops, (x) => x.toFixed(1)),
    ...a.drops.map((d) => (d.drop ? pm(d.drop, pts) : "-")),
    ...rules.map((r) => {
      const e = a.exits.find((x) => x.rule === r);
      return e ? `${pm(e.accuracy, pct)} (${e.meanLoops.mean.toFixed(1)})` : "-";
    }),
  ]);
  return [
    `| ${head.join(" | ")} |`,
    `| ${head.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** A steps x loops table over seeds: each cell's accuracy as mean and spread. */
export interface StepsSpreadTable {
  /** Loop counts (columns). */
  loops: number[];
  /** Numbers of steps (rows). */
  steps: number[];
  /** `cells[i][j]`: accuracy at `steps[i]` steps and `loops[j]` loops over seeds. */
  cells: Spread[][];
  /** Over all steps, per loop count. */
  overall: Spread[];
}

/** Several seeds' steps x loops tables (same rows and columns) as one of spreads. */
export function stepsTableSpread(tables: readonly StepsTable[]): StepsSpreadTable {
  if (tables.length === 0) throw new RangeError("metrics: no steps tables");
  const [first] = tables;
  for (const t of tables) {
    if (t.loops.join() !== first.loops.join() || t.steps.join() !== first.steps.join()) {
      throw new RangeError("metrics: steps tables with different rows or columns");
    }
  }
  return {
    loops: [...first.loops],
    steps: [...first.steps],
    cells: first.steps.map((_, i) =>
      first.loops.map((_, j) => spread(tables.map((t) => t.cells[i][j].accuracy)))
    ),
    overall: first.loops.map((_, j) => spread(tables.map((t) => t.overall[j].accuracy))),
  };
}
