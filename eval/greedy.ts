/**
 * Greedy decoding with a fixed loop count for every generated token, and
 * exact-match accuracy, as the paper evaluates: thin conveniences over
 * {@linkcode decodeLoopwise} and {@linkcode depthSweep}.
 */
import type { LoopedLM } from "../models/looped.ts";
import type { Task, TextProblem } from "../tasks/task.ts";
import { decodeLoopwise } from "./decode.ts";
import { depthSweep } from "./sweep.ts";

/**
 * Generates `count` tokens after equal-length prompts by repeated argmax,
 * running `loops` loops per token. With `cache` (the default) each loop
 * keeps its keys and values, so every new token costs one position;
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
  return (await decodeLoopwise(model, prompts, count, loops, { cache })).tokens;
}

/** Result of {@linkcode exactMatch}. */
export interface ExactMatchResult {
  /** Problems answered exactly. */
  correct: number;
  /** Problems evaluated. */
  total: number;
  /** `correct / total`. */
  accuracy: number;
}

/**
 * Exact-match accuracy of greedy decoding at one loop count: the model
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
  const [point] = await depthSweep(model, task, problems, [loops], { batchSize });
  return { correct: point.correct, total: point.total, accuracy: point.accuracy };
}
