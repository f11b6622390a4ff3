/**
 * The depth sweep: exact-match accuracy of greedy decoding at each loop
 * count of a grid (the same loop count for every generated token), with a
 * 95% Wilson interval; and the adaptive-exit counterpart, which reads out
 * after every loop and emits, per row and token, the prediction of the loop
 * where an exit rule first fires.
 *
 * @module
 */
import type { LoopedLM } from "../models/looped.ts";
import type { Task, TextProblem } from "../tasks/task.ts";
import {
  decodeBatchSize,
  decodeLoopwise,
  DEFAULT_CACHE_BUDGET,
  type LoopwiseResult,
  rowTrajectory,
  type TokenChoice,
  type TokenTrace,
} from "./decode.ts";
import { argmax } from "./distribution.ts";
import { exitLoop, type ExitRule, formatExitRule, ruleNeedsStates } from "./exit.ts";
import { teacherForcedScores, teacherForcingApplies } from "./teacher_forced.ts";
import { wilsonInterval } from "./wilson.ts";

/** The paper-style default grid, reaching far beyond a training depth of 4-8. */
export const DEFAULT_DEPTH_GRID: readonly number[] = [
  1,
  2,
  3,
  4,
  6,
  8,
  12,
  16,
  24,
  32,
  48,
  64,
  100,
];

/** Accuracy at one loop count. */
export interface DepthPoint {
  /** Loops per generated token. */
  depth: number;
  /** `correct / total`. */
  accuracy: number;
  /** Lower end of the 95% Wilson interval. */
  low: number;
  /** Upper end of the 95% Wilson interval. */
  high: number;
  /** Problems answered exactly. */
  correct: number;
  /** Problems evaluated. */
  total: number;
}

/** Settings of {@linkcode depthSweep} and {@linkcode exitSweep}. */
export interface SweepOptions {
  /** Most problems decoded together (default 512). */
  batchSize?: number;
  /**
   * Floats the key/value caches may hold (default 64M): the batch shrinks at
   * high loop counts so that `loops x layers x 2 x B x T x d` fits. The batch
   * is also capped so that one loop's activations stay under 256M floats
   * (see {@linkcode decodeBatchSize}).
   */
  cacheBudget?: number;
  /** Use the per-loop key/value caches (default true; false recomputes the prefix). */
  cache?: boolean;
  /**
   * Score by teacher forcing where that gives greedy decoding's results
   * exactly (default true; see `eval/teacher_forced.ts`): one pass per
   * batch for the whole grid, decoding only the rows it leaves undecided.
   */
  teacherForcing?: boolean;
  /** Called after each depth (progress). */
  onDepth?: (point: DepthPoint) => void;
  /**
   * Called once per problem and loop count (or exit rule) with its outcome,
   * e.g. to break accuracy down by a problem's number of steps
   * (`depthSweepByProblem`). Does not change the results.
   */
  onProblem?: (outcome: ProblemOutcome) => void;
}

/** One problem's result at one loop count (`depth`) or under one exit rule. */
export interface ProblemOutcome {
  /** Index of the problem in the list given to the sweep. */
  index: number;
  /** The loop count (for an exit sweep: its cap, `maxLoops`). */
  depth: number;
  /** Which of the grid's loop counts `depth` is (its index; 0 for an exit sweep). */
  point: number;
  /** Whether the decoded output answers the problem exactly. */
  correct: boolean;
  /** The decoded output (the text before EOS); absent where teacher forcing scored it. */
  decoded?: string;
  /** Loops spent on generated tokens up to and including the first EOS (absent likewise). */
  loops?: number;
  /** Generated tokens up to and including the first EOS (absent likewise). */
  tokens?: number;
}

type Generate = (prompts: number[][], genLen: number) => Promise<LoopwiseResult>;

interface Tally {
  correct: number;
  total: number;
  loopSum: number;
  tokens: number;
}

/** Groups by prompt length (rectangular batches), decodes, checks exact match. */
async function tally<P extends TextProblem>(
  task: Task<P>,
  problems: readonly P[],
  batchFor: (genLen: number) => number,
  generate: Generate,
  onProblem?: (outcome: Omit<ProblemOutcome, "depth" | "point">) => void,
): Promise<Tally> {
  const groups = new Map<number, { problem: P; ids: number[]; index: number }[]>();
  for (const [index, problem] of problems.entries()) {
    const ids = task.tokenizer.encode(problem.prompt);
    const group = groups.get(ids.length) ?? [];
    group.push({ problem, ids, index });
    groups.set(ids.length, group);
  }
  const eos = task.tokenizer.eosId;
  const t: Tally = { correct: 0, total: problems.length, loopSum: 0, tokens: 0 };
  for (const [promptLen, group] of groups) {
    const genLen = task.seqLen + 1 - promptLen;
    if (genLen < 1) {
      throw new RangeError(
        `a prompt of ${promptLen} tokens leaves no room in seqLen ${task.seqLen}`,
      );
    }
    const batch = batchFor(genLen);
    for (let s = 0; s < group.length; s += batch) {
      const chunk = group.slice(s, s + batch);
      const out = await generate(chunk.map((c) => c.ids), genLen);
      chunk.forEach((c, i) => {
        const decoded = task.tokenizer.decode(out.tokens[i]);
        const correct = task.isCorrect(c.problem, decoded);
        if (correct) t.correct++;
        // Loops spent up to and including the first EOS (decoding would stop there).
        const end = out.tokens[i].indexOf(eos);
        const used = out.loopsUsed[i].slice(0, end < 0 ? undefined : end + 1);
        const loops = used.reduce((a, b) => a + b, 0);
        t.loopSum += loops;
        t.tokens += used.length;
        onProblem?.({ index: c.index, correct, decoded, loops, tokens: used.length });
      });
    }
  }
  return t;
}

function checkProblems(problems: readonly unknown[]): void {
  if (problems.length === 0) throw new RangeError("sweep: no problems to evaluate");
}

function checkBatch(options: SweepOptions): number {
  const b = options.batchSize ?? 512;
  if (!Number.isInteger(b) || b < 1) {
    throw new RangeError(`sweep: batchSize must be an integer >= 1, got ${b}`);
  }
  return b;
}

/**
 * Exact-match accuracy at each loop count of `grid`, greedy decoding with
 * the same loop count for every token, each with its 95% Wilson interval.
 * Decoding uses per-loop key/value caches, one loop per `tf.tidy`, in
 * batches sized to keep the caches under `cacheBudget` floats.
 *
 * @example
 * ```ts
 * import { arithmeticTask, depthSweep, LoopedLM, PAPER_MODEL, useBackend } from "@stars/toolkit";
 * await useBackend("wasm");
 * const task = arithmeticTask({ digits: 2 });
 * const model = new LoopedLM({ ...PAPER_MODEL, d_model: 16, n_heads: 2, d_ff: 32 }, 1);
 * const points = await depthSweep(model, task, task.sample("test", 1, 20), [1, 4, 16]);
 * // [{ loops: 1, accuracy, low, high, correct, total: 20 }, ...]
 * if (points.length !== 3 || points[0].total !== 20) throw new Error("one point per depth");
 * ```
 */
export async function depthSweep<P extends TextProblem>(
  model: LoopedLM,
  task: Task<P>,
  problems: readonly P[],
  grid: readonly number[],
  options: SweepOptions = {},
): Promise<DepthPoint[]> {
  if (grid.length === 0) throw new RangeError("sweep: the loop grid is empty");
  for (const n of grid) {
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(`sweep: loop counts must be integers >= 0, got ${n}`);
    }
  }
  checkProblems(problems);
  const maxRows = checkBatch(options);
  const budget = options.cacheBudget ?? DEFAULT_CACHE_BUDGET;
  const seqLen = task.seqLen;
  const cached = options.cache ?? true;
  const decodeAt = (point: number, subset: readonly P[], indices: readonly number[]) => {
    const depth = grid[point];
    return tally(
      task,
      subset,
      () =>
        cached
          ? decodeBatchSize(model.config, depth, seqLen, maxRows, budget)
          : decodeBatchSize(model.config, 0, seqLen, maxRows, Infinity),
      (prompts, genLen) => decodeLoopwise(model, prompts, genLen, depth, { cache: cached }),
      options.onProblem &&
        ((o) => options.onProblem!({ ...o, index: indices[o.index], depth, point })),
    );
  };
  const scored = (options.teacherForcing ?? true) && teacherForcingApplies(model, task, problems)
    ? await teacherForced(model, task, problems, grid, maxRows, options.onProblem)
    : undefined;
  const all = problems.map((_, i) => i);
  const points: DepthPoint[] = [];
  for (const [g, depth] of grid.entries()) {
    let correct: number;
    if (scored) {
      // Decode only the rows teacher forcing left undecided.
      const undecided = all.filter((i) => scored[g][i] === undefined);
      correct = scored[g].filter((c) => c === true).length;
      if (undecided.length > 0) {
        correct += (await decodeAt(g, undecided.map((i) => problems[i]), undecided)).correct;
      }
    } else {
      correct = (await decodeAt(g, problems, all)).correct;
    }
    const total = problems.length;
    const point = {
      depth,
      accuracy: correct / total,
      ...wilsonInterval(correct, total),
      correct,
      total,
    };
    options.onDepth?.(point);
    points.push(point);
  }
  return points;
}

// The teacher-forced verdicts, reporting each decided one as its batch ends.
async function teacherForced<P extends TextProblem>(
  model: LoopedLM,
  task: Task<P>,
  problems: readonly P[],
  grid: readonly number[],
  maxRows: number,
  onProblem?: (outcome: ProblemOutcome) => void,
): Promise<(boolean | undefined)[][]> {
  const batch = decodeBatchSize(model.config, 0, task.seqLen, maxRows, Infinity);
  const scores = await teacherForcedScores(
    model,
    task,
    problems,
    grid,
    batch,
    onProblem &&
      ((indices, verdicts) =>
        grid.forEach((depth, g) =>
          indices.forEach((index) => {
            const correct = verdicts[g][index];
            if (correct !== undefined) onProblem({ index, depth, point: g, correct });
          })
        )),
  );
  const verdicts = scores.correct;
  return verdicts;
}

/** Accuracy and cost of one adaptive-exit rule. */
export interface ExitPoint {
  /** The rule, as text (e.g. `kl:0.001`). */
  rule: string;
  /** The cap: loops computed per token, and the exit when nothing fires. */
  maxLoops: number;
  /** `correct / total`. */
  accuracy: number;
  /** Lower end of the 95% Wilson interval. */
  low: number;
  /** Upper end of the 95% Wilson interval. */
  high: number;
  /** Problems answered exactly. */
  correct: number;
  /** Problems evaluated. */
  total: number;
  /** Mean exit loop over generated tokens up to and including each row's first EOS. */
  meanLoops: number;
}

/** A token choice that emits, per row, the argmax at the loop where `rule` exits. */
export function exitChoice(rule: ExitRule): (trace: TokenTrace) => TokenChoice {
  return (trace: TokenTrace): TokenChoice => {
    const ids: number[] = [], loops: number[] = [];
    for (let r = 0; r < trace.rows; r++) {
      const t = exitLoop(rule, rowTrajectory(trace, r), trace.loops);
      const lp = trace.logProbs[t]!;
      ids.push(argmax(lp.subarray(r * trace.vocab, (r + 1) * trace.vocab)));
      loops.push(t);
    }
    return { ids, loops };
  };
}

/**
 * Exact-match accuracy with adaptive exit: every token computes all
 * `maxLoops` loops for every row (so later positions find every loop's
 * cache complete), reads out after each, and emits the argmax at the first
 * loop where `rule` fires (else at `maxLoops`). `meanLoops` is the mean of
 * these exit loops, the depth an early-stopping decoder would have spent.
 */
export async function exitSweep<P extends TextProblem>(
  model: LoopedLM,
  task: Task<P>,
  problems: readonly P[],
  rule: ExitRule,
  maxLoops: number,
  options: SweepOptions = {},
): Promise<ExitPoint> {
  if (!Number.isInteger(maxLoops) || maxLoops < 1) {
    throw new RangeError(`exit: maxLoops must be an integer >= 1, got ${maxLoops}`);
  }
  if (rule.length === 0) throw new RangeError("exit: the rule has no criterion");
  checkProblems(problems);
  const maxRows = checkBatch(options);
  const budget = options.cacheBudget ?? DEFAULT_CACHE_BUDGET;
  const choose = exitChoice(rule);
  const t = await tally(
    task,
    problems,
    () => decodeBatchSize(model.config, maxLoops, task.seqLen, maxRows, budget, true),
    (prompts, genLen) =>
      decodeLoopwise(model, prompts, genLen, maxLoops, {
        everyLoop: true,
        keepStates: ruleNeedsStates(rule),
        choose,
      }),
    options.onProblem && ((o) => options.onProblem!({ ...o, depth: maxLoops, point: 0 })),
  );
  return {
    rule: formatExitRule(rule),
    maxLoops,
    accuracy: t.correct / t.total,
    ...wilsonInterval(t.correct, t.total),
    correct: t.correct,
    total: t.total,
    meanLoops: t.tokens ? t.loopSum / t.tokens : 0,
  };
}

/** A depth sweep with each problem's correctness at each loop count. */
export interface ProblemSweep {
  /** The sweep's points, as {@linkcode depthSweep} returns them. */
  points: DepthPoint[];
  /** `correct[d][i]`: whether problem `i` was answered exactly at `points[d].depth` loops. */
  correct: boolean[][];
}

/**
 * {@linkcode depthSweep} that also returns every problem's correctness at
 * every loop count (same points, same decoding), for breakdowns such as
 * accuracy by number of steps (`stepsTable`, eval/steps.ts).
 */
export async function depthSweepByProblem<P extends TextProblem>(
  model: LoopedLM,
  task: Task<P>,
  problems: readonly P[],
  grid: readonly number[],
  options: SweepOptions = {},
): Promise<ProblemSweep> {
  const correct = grid.map(() => new Array<boolean>(problems.length).fill(false));
  const points = await depthSweep(model, task, problems, grid, {
    ...options,
    onProblem: (o) => {
      correct[o.point][o.index] = o.correct;
      options.onProblem?.(o);
    },
  });
  return { points, correct };
}
