/**
 * Accuracy by number of reasoning steps x loop count: pure functions over a
 * sweep's per-problem outcomes (`depthSweepByProblem`, eval/sweep.ts) or over
 * counts already grouped by (steps, loops).
 *
 * @module
 */
import { wilsonInterval } from "./wilson.ts";

/** Accuracy of the problems with one number of steps at one loop count. */
export interface StepsCell {
  /** Reasoning steps of the problems counted. */
  steps: number;
  /** Loops per generated token. */
  loops: number;
  /** Problems answered exactly. */
  correct: number;
  /** Problems with this number of steps. */
  total: number;
  /** `correct / total` (0 when `total` is 0). */
  accuracy: number;
  /** Lower end of the 95% Wilson interval. */
  low: number;
  /** Upper end of the 95% Wilson interval. */
  high: number;
}

/** Accuracy by steps (rows) x loops (columns), and over all steps. */
export interface StepsTable {
  /** Loop counts, ascending (the columns). */
  loops: number[];
  /** Numbers of steps, ascending (the rows). */
  steps: number[];
  /** `cells[i][j]`: problems with `steps[i]` steps at `loops[j]` loops. */
  cells: StepsCell[][];
  /** Every problem at `loops[j]` loops (`steps` is 0 in these cells). */
  overall: StepsCell[];
}

/** Counts of one (steps, loops) group. */
export interface StepsGroup {
  /** Reasoning steps. */
  steps: number;
  /** Loops per generated token. */
  loops: number;
  /** Problems answered exactly. */
  correct: number;
  /** Problems in the group. */
  total: number;
}

/** The outcomes of a sweep per problem: what `depthSweepByProblem` returns. */
export interface PerProblemSweep {
  /** The loop count of each row of `correct`. */
  points: readonly { depth: number }[];
  /** `correct[d][i]`: problem `i` answered exactly at `points[d].depth` loops. */
  correct: readonly (readonly boolean[])[];
}

/** The number of steps a problem reports (its `steps` field), or undefined. */
export function problemSteps(problem: unknown): number | undefined {
  const s = (problem as { steps?: unknown } | null)?.steps;
  return typeof s === "number" && Number.isInteger(s) && s >= 0 ? s : undefined;
}

function cell(steps: number, loops: number, correct: number, total: number): StepsCell {
  const w = total > 0 ? wilsonInterval(correct, total) : { low: 0, high: 0 };
  return { steps, loops, correct, total, accuracy: total > 0 ? correct / total : 0, ...w };
}

/**
 * The table from counts grouped by (steps, loops); groups with the same
 * key are added up. A (steps, loops) pair no group names is a cell with
 * total 0.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { stepsTableFromGroups } from "@stars/toolkit/eval";
 * const t = stepsTableFromGroups([
 *   { steps: 1, loops: 4, correct: 9, total: 10 },
 *   { steps: 2, loops: 4, correct: 3, total: 10 },
 * ]);
 * assertEquals(t.cells[1][0].accuracy, 0.3);
 * assertEquals(t.overall[0].accuracy, 0.6);
 * ```
 */
export function stepsTableFromGroups(groups: readonly StepsGroup[]): StepsTable {
  for (const g of groups) {
    const ok = [g.steps, g.loops, g.correct, g.total].every((x) => Number.isInteger(x) && x >= 0);
    if (!ok || g.correct > g.total) {
      throw new RangeError(`steps table: bad group ${JSON.stringify(g)}`);
    }
  }
  const loops = [...new Set(groups.map((g) => g.loops))].sort((a, b) => a - b);
  const steps = [...new Set(groups.map((g) => g.steps))].sort((a, b) => a - b);
  const sum = (pick: (g: StepsGroup) => boolean) => {
    let correct = 0, total = 0;
    for (const g of groups) {
      if (pick(g)) {
        correct += g.correct;
        total += g.total;
      }
    }
    return [correct, total] as const;
  };
  return {
    loops,
    steps,
    cells: steps.map((s) =>
      loops.map((l) => cell(s, l, ...sum((g) => g.steps === s && g.loops === l)))
    ),
    overall: loops.map((l) => cell(0, l, ...sum((g) => g.loops === l))),
  };
}

/**
 * The table of a per-problem sweep: problem `i`'s number of steps is
 * `problems[i].steps` (a problem without one is an error naming it). A
 * loop count swept twice counts its problems twice.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { stepsTable } from "@stars/toolkit/eval";
 * const t = stepsTable([{ steps: 1 }, { steps: 2 }], {
 *   points: [{ depth: 1 }, { depth: 4 }],
 *   correct: [[true, false], [true, true]],
 * });
 * assertEquals(t.cells.map((row) => row.map((c) => c.accuracy)), [[1, 1], [0, 1]]);
 * ```
 */
export function stepsTable(problems: readonly unknown[], sweep: PerProblemSweep): StepsTable {
  if (sweep.correct.length !== sweep.points.length) {
    throw new RangeError(
      `steps table: ${sweep.correct.length} rows of outcomes for ${sweep.points.length} points`,
    );
  }
  const steps = problems.map((p, i) => {
    const s = problemSteps(p);
    if (s === undefined) {
      throw new RangeError(`steps table: problem ${i} reports no number of steps`);
    }
    return s;
  });
  const groups = new Map<string, StepsGroup>();
  sweep.points.forEach((point, d) => {
    const row = sweep.correct[d];
    if (row.length !== problems.length) {
      throw new RangeError(
        `steps table: ${row.length} outcomes at ${point.depth} loops for ${problems.length} problems`,
      );
    }
    row.forEach((ok, i) => {
      const key = `${steps[i]}:${point.depth}`;
      const g = groups.get(key) ?? { steps: steps[i], loops: point.depth, correct: 0, total: 0 };
      g.total++;
      if (ok) g.correct++;
      groups.set(key, g);
    });
  });
  return stepsTableFromGroups([...groups.values()]);
}

/**
 * The table as Markdown: one row per number of steps (with its problem
 * count) and a last row over all steps, one column per loop count, each
 * cell the accuracy in percent; the best loop count of each row in bold.
 */
export function stepsTableMarkdown(table: StepsTable): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const row = (label: string, n: number, cells: StepsCell[]) => {
    const best = Math.max(...cells.map((c) => c.accuracy));
    const text = cells.map((c) =>
      c.total === 0
        ? "-"
        : c.accuracy === best && best > 0
        ? `**${pct(c.accuracy)}**`
        : pct(c.accuracy)
    );
    return `| ${label} | ${n} | ${text.join(" | ")} |`;
  };
  return [
    `| steps | problems | ${table.loops.map((l) => `${l} loops`).join(" | ")} |`,
    `| ----: | -------: | ${table.loops.map(() => "---:").join(" | ")} |`,
    ...table.cells.map((cells, i) =>
      row(String(table.steps[i]), Math.max(0, ...cells.map((c) => c.total)), cells)
    ),
    row("all", Math.max(0, ...table.overall.map((c) => c.total)), table.overall),
  ].join("\n");
}
