/**
 * What every task gives the trainer and the evaluator: a tokenizer, the
 * sequence length its problems need, seeded problems from disjoint splits,
 * and an exact-match check. Arithmetic is one task; others plug in the same.
 *
 * @module
 */
import type { Split } from "./split.ts";

/** A further question asked after a problem's target, in training only. */
export interface FollowUp {
  /** The question's text, read by the model (not scored). */
  readonly prompt: string;
  /** Its answer, scored like the target. */
  readonly target: string;
}

/** A problem as text: the model reads `prompt` and must emit `target` then EOS. */
export interface TextProblem {
  /** What the model reads. */
  readonly prompt: string;
  /** What the model must emit before EOS. */
  readonly target: string;
  /** The answer in its ordinary written form (for reports). */
  readonly answer: string;
  /**
   * Questions about the same prompt that a training sequence goes on to ask
   * after `target` (each answered, teacher-forced), so that one sequence
   * trains several answers. Evaluation asks only the first question.
   */
  readonly followUps?: readonly FollowUp[];
  /**
   * Whether training reads the answers (the target's and the follow-ups')
   * back as PAD instead of their tokens, while still predicting them: then
   * each answer comes from the prompt alone, never from another's (default
   * false). The last answer is read as itself, since only EOS follows it:
   * evaluation emits an answer and then EOS.
   */
  readonly answersHidden?: boolean;
}

/** Turns text into ids and back, with padding and end-of-sequence ids. */
export interface Tokenizer {
  /** Number of ids. */
  readonly vocabSize: number;
  /** Id of the padding token. */
  readonly padId: number;
  /** Id of the end-of-sequence token. */
  readonly eosId: number;
  /** Text to ids (no EOS added). */
  encode(text: string): number[];
  /** Ids to text, stopping at EOS and leaving out padding. */
  decode(ids: ArrayLike<number>): string;
}

/** One problem of a test file, or why its line cannot be one. */
export interface FileProblem<P extends TextProblem = TextProblem> {
  /** 1-based line of the file. */
  readonly line: number;
  /** The problem, as the task formats it. */
  readonly problem?: P;
  /** Why the line is no problem of this task's model (then `problem` is absent). */
  readonly reason?: string;
}

/**
 * A task: its tokenizer, sequence length, problem source and checker, and,
 * where it has one, its test-file format and the limits of what its models
 * were trained on.
 */
export interface Task<P extends TextProblem = TextProblem> {
  /** Short name, e.g. `addition-4`. */
  readonly name: string;
  /** The tokenizer. */
  readonly tokenizer: Tokenizer;
  /** Model input length every problem fits in (prompt + target + EOS, less one). */
  readonly seqLen: number;
  /**
   * `count` problems from a split, deterministic for `seed`; with `unique`,
   * no problem twice.
   */
  sample(split: Split, seed: number, count: number, unique?: boolean): P[];
  /** Whether a decoded output (the text before EOS) answers the problem exactly. */
  isCorrect(problem: P, decoded: string): boolean;

  /**
   * Reads a test file's text as this task formats its problems, one entry
   * per problem line; throws (naming the file and line) when the file is
   * not in the task's format. Absent when the task reads no test files.
   */
  parseTestFile?(text: string, file: string): FileProblem<P>[];
  /**
   * Why a problem from elsewhere (a test file) is outside what this task's
   * models were trained on, naming the limit; undefined when it is inside.
   */
  unfit?(problem: P): string | undefined;
}

/**
 * The exact-match check `decoded === problem.target`. A task whose
 * `isCorrect` is this very function can be scored by checking the target's
 * tokens instead of decoding (`eval/teacher_forced.ts`); a task that
 * replaces it with its own check is decoded.
 */
export function exactTargetMatch(problem: TextProblem, decoded: string): boolean {
  return decoded === problem.target;
}
