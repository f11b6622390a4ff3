/**
 * Greedy decoding with a fixed loop count for every generated token, and
 * exact-match accuracy, as the paper evaluates.
 */
import * as tf from "@tensorflow/tfjs";
import { cacheTensors, emptyCache, type LoopedLM } from "../models/looped.ts";
import type { Task, TextProblem } from "../tasks/task.ts";

/**
 * Generates `count` tokens after equal-length prompts [B, P] by repeated
 * argmax, running `loops` loops per token. With `cache` (the default) each
 * loop keeps its keys and values, so every new token costs one position;
 * without it the whole prefix is recomputed per token (the slow reference).
 * Returns the generated ids, one array per row.
 */
export async function greedyGenerate(
  model: LoopedLM,
  prompts: number[][],
  count: number,
  loops: number,
  cache = true,
): Promise<number[][]> {
  return cache
    ? await generateCached(model, prompts, count, loops)
    : await generateUncached(model, prompts, count, loops);
}

function lastArgmax(logits: tf.Tensor3D): tf.Tensor1D {
  const t = logits.shape[1];
  return tf.argMax(logits.slice([0, t - 1, 0], [-1, 1, -1]).squeeze([1]), -1);
}

async function generateUncached(
  model: LoopedLM,
  prompts: number[][],
  count: number,
  loops: number,
): Promise<number[][]> {
  const rows = prompts.map((p) => [...p]);
  for (let i = 0; i < count; i++) {
    const next = tf.tidy(() =>
      lastArgmax(model.forward(tf.tensor2d(rows, undefined, "int32"), loops).logits)
    );
    const ids = await next.data();
    next.dispose();
    rows.forEach((row, r) => row.push(ids[r]));
  }
  return rows.map((row, r) => row.slice(prompts[r].length));
}

async function generateCached(
  model: LoopedLM,
  prompts: number[][],
  count: number,
  loops: number,
): Promise<number[][]> {
  const cache = emptyCache(model.config);
  const out: number[][] = prompts.map(() => []);
  let input: number[][] = prompts;
  try {
    for (let i = 0; i < count; i++) {
      const before = new Set(cacheTensors(cache));
      const next = tf.tidy(() => {
        const { logits } = model.forward(tf.tensor2d(input, undefined, "int32"), loops, { cache });
        cacheTensors(cache).forEach((t) => tf.keep(t));
        return lastArgmax(logits);
      });
      const now = new Set(cacheTensors(cache));
      before.forEach((t) => now.has(t) || t.dispose()); // replaced by their extensions
      const ids = await next.data();
      next.dispose();
      ids.forEach((id, r) => out[r].push(id));
      input = Array.from(ids, (id) => [id]);
    }
  } finally {
    tf.dispose(cacheTensors(cache));
  }
  return out;
}

/** Result of {@linkcode exactMatch}. */
export interface ExactMatchResult {
  /** Problems answered exactly. */
  correct: number;
  /** Problems evaluated. */
  total: number;
  /** `correct / total` (0 when there are none). */
  accuracy: number;
}

/**
 * Exact-match accuracy of greedy decoding at a fixed loop count: the model
 * generates as many tokens as the task's sequence length allows after the
 * prompt, and the text up to EOS must answer the problem exactly.
 */
export async function exactMatch<P extends TextProblem>(
  model: LoopedLM,
  task: Task<P>,
  problems: readonly P[],
  loops: number,
  batchSize = 512,
): Promise<ExactMatchResult> {
  // Group by prompt length in tokens so each batch is rectangular.
  const groups = new Map<number, { problem: P; ids: number[] }[]>();
  for (const problem of problems) {
    const ids = task.tokenizer.encode(problem.prompt);
    groups.set(ids.length, [...(groups.get(ids.length) ?? []), { problem, ids }]);
  }
  let correct = 0;
  for (const [promptLen, group] of groups) {
    const genLen = task.seqLen + 1 - promptLen;
    if (genLen < 1) {
      throw new RangeError(
        `a prompt of ${promptLen} tokens leaves no room in seqLen ${task.seqLen}`,
      );
    }
    for (let s = 0; s < group.length; s += batchSize) {
      const chunk = group.slice(s, s + batchSize);
      const out = await greedyGenerate(model, chunk.map((c) => c.ids), genLen, loops);
      chunk.forEach((c, i) => {
        if (task.isCorrect(c.problem, task.tokenizer.decode(out[i]))) correct++;
      });
    }
  }
  const total = problems.length;
  return { correct, total, accuracy: total ? correct / total : 0 };
}
