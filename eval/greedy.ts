/**
 * Greedy decoding with a fixed loop count for every generated token, and
 * exact-match accuracy, as the paper evaluates.
 */
import * as tf from "@tensorflow/tfjs";
import type { LoopedLM } from "../models/looped.ts";
import type { Problem } from "../tasks/arithmetic.ts";
import { isCorrect } from "../tasks/arithmetic.ts";
import { maxSeqLen } from "../tasks/batch.ts";
import { ARITHMETIC_TOKENIZER, type CharTokenizer } from "../tasks/tokenizer.ts";

/**
 * Generates `count` tokens after equal-length prompts [B, P] by repeated
 * argmax, running `loops` loops per token. Returns the generated ids, one
 * array per row.
 */
export async function greedyGenerate(
  model: LoopedLM,
  prompts: number[][],
  count: number,
  loops: number,
): Promise<number[][]> {
  const rows = prompts.map((p) => [...p]);
  for (let i = 0; i < count; i++) {
    const next = tf.tidy(() => {
      const ids = tf.tensor2d(rows, undefined, "int32");
      const { logits } = model.forward(ids, loops);
      const t = rows[0].length;
      return tf.argMax(logits.slice([0, t - 1, 0], [-1, 1, -1]).squeeze([1]), -1);
    });
    const ids = await next.data();
    next.dispose();
    rows.forEach((row, r) => row.push(ids[r]));
  }
  return rows.map((row, r) => row.slice(prompts[r].length));
}

/** Options of {@linkcode exactMatch}. */
export interface ExactMatchOptions {
  /** Problems decoded together (default 512). */
  batchSize?: number;
  /** Tokenizer (default the arithmetic one). */
  tokenizer?: CharTokenizer;
}

/**
 * Exact-match accuracy of greedy decoding at a fixed loop count: the model
 * generates the longest answer its problem shape allows, the text up to
 * EOS must equal the problem's target exactly.
 */
export async function exactMatch(
  model: LoopedLM,
  problems: readonly Problem[],
  loops: number,
  options: ExactMatchOptions = {},
): Promise<{ correct: number; total: number; accuracy: number }> {
  const tokenizer = options.tokenizer ?? ARITHMETIC_TOKENIZER;
  const batchSize = options.batchSize ?? 512;
  // Group by prompt length so each batch is rectangular.
  const groups = new Map<number, Problem[]>();
  for (const p of problems) {
    const key = p.prompt.length * 1000 + maxSeqLen(p);
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  let correct = 0;
  for (const group of groups.values()) {
    const genLen = maxSeqLen(group[0]) + 1 - group[0].prompt.length;
    for (let s = 0; s < group.length; s += batchSize) {
      const chunk = group.slice(s, s + batchSize);
      const out = await greedyGenerate(
        model,
        chunk.map((p) => tokenizer.encode(p.prompt)),
        genLen,
        loops,
      );
      chunk.forEach((p, i) => {
        if (isCorrect(p, tokenizer.decode(out[i]))) correct++;
      });
    }
  }
  return {
    correct,
    total: problems.length,
    accuracy: problems.length ? correct / problems.length : 0,
  };
}
