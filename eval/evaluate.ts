/**
 * A model's whole evaluation on a test set, as `deno task eval` and the
 * fine-tuning pipeline run it: exact match at every loop count of a grid,
 * each adaptive-exit rule, and (for problems that report their number of
 * steps) accuracy by steps x loops.
 *
 * @module
 */
import type { LoopedLM } from "../models/looped.ts";
import type { Task, TextProblem } from "../tasks/task.ts";
import { type ExitRule, formatExitRule } from "./exit.ts";
import { type StepsTable, stepsTable } from "./steps.ts";
import {
  type DepthPoint,
  depthSweepByProblem,
  type ExitPoint,
  exitSweep,
  type ProblemOutcome,
} from "./sweep.ts";

/** Options of {@linkcode evaluateLoops}. */
export interface LoopEvaluationOptions {
  /** Loop counts of the sweep. */
  grid: readonly number[];
  /** Adaptive-exit rules (default none). */
  exitRules?: readonly ExitRule[];
  /** The exit rules' cap (default the grid's largest count). */
  exitMax?: number;
  /** Also the accuracy by steps x loops (every problem must report `steps`). */
  bySteps?: boolean;
  /** Problems decoded together. */
  batchSize?: number;
  /** The per-loop key/value cache (default true). */
  cache?: boolean;
  /** Score the grid from one teacher-forced pass where that is exact (default true). */
  teacherForcing?: boolean;
  /** Each problem scored: at a grid point, or (`exit`) by an exit rule. */
  onProblem?: (o: { loops: number; exit?: string }) => void;
  /** A grid point done. */
  onDepth?: (point: DepthPoint) => void;
  /** An exit rule done. */
  onExit?: (point: ExitPoint) => void;
}

/** What {@linkcode evaluateLoops} measures. */
export interface LoopEvaluation {
  /** Accuracy at each loop count of the grid. */
  points: DepthPoint[];
  /** Accuracy and mean loops of each exit rule. */
  exits: ExitPoint[];
  /** Accuracy by steps x loops, with `bySteps`. */
  bySteps?: StepsTable;
}

/** Evaluates `model` on `problems` at every loop count of the grid and by every exit rule. */
export async function evaluateLoops<P extends TextProblem>(
  model: LoopedLM,
  task: Task<P>,
  problems: readonly P[],
  o: LoopEvaluationOptions,
): Promise<LoopEvaluation> {
  const swept = await depthSweepByProblem(model, task, problems, o.grid, {
    batchSize: o.batchSize,
    cache: o.cache,
    teacherForcing: o.teacherForcing,
    onDepth: o.onDepth,
    onProblem: (p: ProblemOutcome) => o.onProblem?.({ loops: p.depth }),
  });
  const exitMax = o.exitMax ?? Math.max(1, ...o.grid);
  const exits: ExitPoint[] = [];
  for (const rule of o.exitRules ?? []) {
    const point = await exitSweep(model, task, problems, rule, exitMax, {
      batchSize: o.batchSize,
      onProblem: () => o.onProblem?.({ loops: exitMax, exit: formatExitRule(rule) }),
    });
    o.onExit?.(point);
    exits.push(point);
  }
  return {
    points: swept.points,
    exits,
    ...(o.bySteps ? { bySteps: stepsTable(problems, swept) } : {}),
  };
}
