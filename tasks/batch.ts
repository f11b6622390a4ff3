/**
 * Turning problems into fixed-length token batches for teacher-forced
 * training and evaluation, and into prompts for greedy decoding.
 *
 * Each sequence is `prompt + target + EOS`, right-padded with PAD. The loss
 * mask is 1 exactly where the next token belongs to the answer: the
 * leading space, every answer digit and the EOS (the design notes'
 * "loss on the answer tokens only", with target `" " + digits + EOS`).
 * A problem's follow-up questions come after its target, before EOS; their
 * answers are scored and their question text is not. With `answersHidden`,
 * every answer token but the last is read back as PAD, so no question sees
 * another's answer (the last is followed only by EOS).
 *
 * @module
 */

import type { TextProblem, Tokenizer } from "./task.ts";

/** A teacher-forcing batch as flat row-major `[batch, seqLen]` arrays. */
export interface Batch {
  /** Input ids: the sequence without its last token, PAD-padded. */
  readonly inputs: Int32Array;
  /** Next-token ids: the sequence without its first token, PAD-padded. */
  readonly targets: Int32Array;
  /** 1 where `targets` holds an answer token (space, digit, EOS), else 0. */
  readonly mask: Float32Array;
  /** Number of rows. */
  readonly batch: number;
  /** Length of each row. */
  readonly seqLen: number;
  /** Prompt length in tokens of each row. */
  readonly promptLengths: number[];
}

/** Prompts for greedy decoding. */
export interface PromptBatch {
  /** Prompt ids of each problem (unpadded). */
  readonly prompts: number[][];
  /** Tokens to generate per problem: the target (space + digits) and EOS. */
  readonly answerLengths: number[];
}

/**
 * Encodes problems into a batch of rows `seqLen` long (default: the
 * longest row's need; a task's `seqLen` keeps every batch of it one shape).
 * A given `seqLen` shorter than a row needs is an error.
 */
export function encodeBatch(
  problems: readonly TextProblem[],
  tokenizer: Tokenizer,
  seqLen?: number,
): Batch {
  if (problems.length === 0) throw new Error("encodeBatch needs a problem");
  const encoded = problems.map((p) => encodeSequence(p, tokenizer));
  const needed = Math.max(...encoded.map((e) => e.ids.length - 1));
  const len = seqLen ?? needed;
  if (!Number.isInteger(len) || len < needed) {
    throw new Error(`seqLen ${len} is too short: the batch needs ${needed}`);
  }
  const n = problems.length;
  const inputs = new Int32Array(n * len).fill(tokenizer.padId);
  const targets = new Int32Array(n * len).fill(tokenizer.padId);
  const mask = new Float32Array(n * len);
  encoded.forEach(({ ids, scored }, i) => {
    const row = i * len;
    // Hidden answers are still predicted, but read back as PAD; the last
    // one stays, since only EOS follows it (so "answer, then EOS" is trained).
    const lastAnswer = problems[i].answersHidden === true ? scored.lastIndexOf(0) + 1 : 0;
    for (let t = 0; t < ids.length - 1; t++) {
      inputs[row + t] = t < lastAnswer && scored[t] === 1 ? tokenizer.padId : ids[t];
      targets[row + t] = ids[t + 1];
      mask[row + t] = scored[t + 1];
    }
  });
  const promptLengths = encoded.map((e) => e.promptLength);
  return { inputs, targets, mask, batch: n, seqLen: len, promptLengths };
}

// A problem's ids (prompt, target, each follow-up's question and answer,
// EOS) and which of them are scored: the answers and EOS, not the questions.
function encodeSequence(
  p: TextProblem,
  tokenizer: Tokenizer,
): { ids: number[]; scored: number[]; promptLength: number } {
  const ids: number[] = [], scored: number[] = [];
  const push = (text: string, score: number) => {
    for (const id of tokenizer.encode(text)) {
      ids.push(id);
      scored.push(score);
    }
  };
  // The prompt and target encode together, as a tokenizer that merges
  // characters across the boundary would.
  const promptLength = tokenizer.encode(p.prompt).length;
  const first = tokenizer.encode(p.prompt + p.target);
  first.forEach((id, t) => {
    ids.push(id);
    scored.push(t >= promptLength ? 1 : 0);
  });
  for (const f of p.followUps ?? []) {
    push(f.prompt, 0);
    push(f.target, 1);
  }
  ids.push(tokenizer.eosId);
  scored.push(1);
  return { ids, scored, promptLength };
}

/** Encodes the prompts and the number of answer tokens to generate. */
export function encodePrompts(
  problems: readonly TextProblem[],
  tokenizer: Tokenizer,
): PromptBatch {
  return {
    prompts: problems.map((p) => tokenizer.encode(p.prompt)),
    answerLengths: problems.map((p) => tokenizer.encode(p.target).length + 1),
  };
}
