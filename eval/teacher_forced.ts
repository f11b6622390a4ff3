/**
 * Greedy exact match at many loop counts from one teacher-forced pass.
 *
 * Greedy decoding at `n` loops emits a problem's target exactly when, with
 * the target's own tokens as the prefix, the argmax after `n` loops is the
 * next target token at every answer position and EOS after the last: by
 * induction over positions, decoding then reads the same prefixes, and at
 * the first position where the argmax differs it emits a different token.
 * Loop `t`'s states at a position depend only on the tokens up to it, not
 * on how many loops follow, so one pass over `prompt + target` that reads
 * out after each loop of the grid scores every loop count at once, where
 * decoding runs every loop count and every generated token on its own.
 *
 * It holds for tasks whose check is exact match of the target (their
 * `isCorrect` is {@linkcode exactTargetMatch} itself) with a tokenizer that
 * writes each text one way, and models whose loop starts from a state
 * that does not depend on the call (not `init_state: random`). A row whose
 * first mismatching argmax is PAD is left undecided: decoding drops PAD
 * from its output and goes on, so only decoding can say what it gives.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { LoopedLM } from "../models/looped.ts";
import { exactTargetMatch, type Task, type TextProblem } from "../tasks/task.ts";
import { argmax } from "./distribution.ts";

/** The outcome of every problem at every loop count of a grid. */
export interface TeacherForcedScores {
  /** `correct[g][i]`: problem `i` at `grid[g]` loops; undefined where undecided (see above). */
  correct: (boolean | undefined)[][];
}

/** Whether {@linkcode teacherForcedScores} is exact for this model, task and set of problems. */
export function teacherForcingApplies(
  model: LoopedLM,
  task: Task,
  problems: readonly TextProblem[],
): boolean {
  if (task.isCorrect !== exactTargetMatch || model.config.init_state === "random") return false;
  // Every row, with its EOS, must fit: decoding stops at seqLen otherwise.
  return problems.every((p) => task.tokenizer.encode(p.prompt + p.target).length <= task.seqLen);
}

/**
 * Scores `problems` at every loop count of `grid` by teacher forcing, in
 * batches of `batchSize` rows of equal prompt-plus-target length.
 * `onBatch` gets the indices of each batch's problems once they are scored,
 * and the verdicts so far.
 */
export async function teacherForcedScores(
  model: LoopedLM,
  task: Task,
  problems: readonly TextProblem[],
  grid: readonly number[],
  batchSize: number,
  onBatch?: (indices: number[], correct: TeacherForcedScores["correct"]) => void,
): Promise<TeacherForcedScores> {
  const tok = task.tokenizer;
  const correct = grid.map(() => new Array<boolean | undefined>(problems.length));
  const rows = problems.map((p, index) => {
    const promptLength = tok.encode(p.prompt).length;
    const ids = tok.encode(p.prompt + p.target);
    // Next tokens at positions promptLength - 1 ... ids.length - 1: the target, then EOS.
    return { index, ids, promptLength, next: [...ids.slice(promptLength), tok.eosId] };
  });
  const byLength = Map.groupBy(rows, (r) => r.ids.length);
  const deepest = Math.max(...grid);
  for (const group of byLength.values()) {
    for (let s = 0; s < group.length; s += batchSize) {
      const chunk = group.slice(s, s + batchSize);
      await scoreChunk(model, chunk, grid, deepest, tok.padId, correct);
      onBatch?.(chunk.map((r) => r.index), correct);
    }
  }
  return { correct };
}

interface Row {
  index: number;
  ids: number[];
  promptLength: number;
  next: number[];
}

async function scoreChunk(
  model: LoopedLM,
  chunk: readonly Row[],
  grid: readonly number[],
  deepest: number,
  pad: number,
  correct: (boolean | undefined)[][],
): Promise<void> {
  const [t, vocab] = [chunk[0].ids.length, model.config.vocab_size];
  const e = tf.tidy(() => model.embed(tf.tensor2d(chunk.map((r) => r.ids), undefined, "int32")));
  let h = tf.tidy(() => model.initialState(e));
  try {
    for (let loop = 0; loop <= deepest; loop++) {
      if (loop > 0) {
        const next = tf.tidy(() => model.step(h, e, {}, loop - 1));
        if (h !== e) h.dispose();
        h = next;
      }
      const g = grid.indexOf(loop);
      if (g < 0) continue;
      // Log-probabilities, as decoding takes its argmax of them (ties alike).
      const lp = tf.tidy(() => tf.logSoftmax(model.readout(h)));
      const values = await lp.data() as Float32Array;
      lp.dispose();
      chunk.forEach((r, i) => {
        correct[g][r.index] = verdict(r, (p) => {
          const at = (i * t + p) * vocab;
          return argmax(values.subarray(at, at + vocab));
        }, pad);
      });
      // The same loop count may appear twice in a grid.
      for (let k = g + 1; k < grid.length; k++) {
        if (grid[k] === loop) chunk.forEach((r) => (correct[k][r.index] = correct[g][r.index]));
      }
    }
  } finally {
    if (h !== e) h.dispose();
    e.dispose();
  }
}

// True when every answer position's argmax is the next target token, false
// at the first that is another token, undefined when that token is PAD.
function verdict(r: Row, argmaxAt: (position: number) => number, pad: number): boolean | undefined {
  for (let k = 0; k < r.next.length; k++) {
    const id = argmaxAt(r.promptLength - 1 + k);
    if (id !== r.next[k]) return id === pad ? undefined : false;
  }
  return true;
}
