/**
 * Math word problems as a {@linkcode Task}: the seeded multi-step generator
 * (`gsm8k-synthetic`) or the problems of a loaded file. The model reads the
 * question and a separator (`"\nA:"`) and must emit `" " + answer` (the
 * normalised final answer; default, short enough for a tiny model) or
 * `" " + solution + "\n#### " + answer` (option `target: "solution"`).
 * A decoded output is correct when its final answer (after `####`, else the
 * last `\boxed{}`, else the whole text) matches under
 * {@linkcode answersMatch}.
 *
 * @module
 */
import { Rng } from "../../utils/rng.ts";
import type { Split } from "../split.ts";
import type { Task, TextProblem, Tokenizer } from "../task.ts";
import { answersMatch, extractFinalAnswer, normalizeAnswer } from "./answer.ts";
import type { MathFormat, MathItem } from "./formats.ts";
import { loadMathJsonl, loadMathJsonlSync, type LoadOptions, parseMathJsonl } from "./load.ts";
import { bpeTokenizer, mathCharTokenizer, missingChars } from "./tokenizers.ts";
import {
  generateWordProblems,
  type WordNumberOptions,
  type WordProblem,
  wordProblemBounds,
  type WordProblemStructure,
  wordSplitOf,
  type WordSplitOptions,
} from "./word_problems.ts";

/** A math problem as the model sees it, with where it came from. */
export interface MathProblem extends TextProblem {
  /** The question text. */
  readonly question: string;
  /** The worked solution ("" when the source has none). */
  readonly solution: string;
  /** The source format, or `synthetic` for the generator. */
  readonly source: MathFormat | "synthetic";
  /** 1-based line in the source file (loaded problems). */
  readonly line?: number;
  /** Reasoning steps (synthetic problems). */
  readonly steps?: number;
  /** The arithmetic structure (synthetic problems). */
  readonly structure?: WordProblemStructure;
}

/** Splits of a math task: the trainer's two and a validation split. */
export type MathSplit = Split | "validation";

/** A math task: a {@linkcode Task} that also formats problems read from files. */
export interface MathTask extends Task<MathProblem> {
  /** `count` problems of a split (train, validation or test), deterministic for `seed`. */
  sample(split: MathSplit, seed: number, count: number, unique?: boolean): MathProblem[];
  /**
   * File items as this task's problems; throws naming `file:line` when one
   * does not fit the tokenizer or `seqLen`.
   */
  problemsFrom(items: Iterable<MathItem>, file?: string): MathProblem[];
  /** Streams a JSON-lines file (any supported format) into this task's problems. */
  load(path: string | URL, options?: LoadOptions): Promise<MathProblem[]>;
}

/** Options shared by both kinds of math task. */
export interface MathTaskFormatOptions {
  /** What the model must emit: the final `answer` (default) or the whole `solution`. */
  readonly target?: "answer" | "solution";
  /** `char` (default; printable ASCII and newline), `bpe` (GPT-2), or a tokenizer. */
  readonly tokenizer?: "char" | "bpe" | Tokenizer;
  /** Text between question and target (default `"\nA:"`). */
  readonly separator?: string;
}

/** Options of {@linkcode mathTask} (the synthetic generator). */
export interface MathTaskOptions
  extends MathTaskFormatOptions, WordNumberOptions, WordSplitOptions {
  /** Fewest steps of train and validation problems (default 2). */
  readonly stepsMin?: number;
  /** Most steps of train and validation problems (default 4). */
  readonly stepsMax?: number;
  /** Fewest steps of test problems (default `stepsMin`). */
  readonly testStepsMin?: number;
  /**
   * Most steps of test problems (default `stepsMax`). Set it above
   * `stepsMax` (and `testStepsMin` above `stepsMax` too, for a test set of
   * only longer problems) to test step extrapolation.
   */
  readonly testStepsMax?: number;
}

/** Options of {@linkcode mathDataTask}. */
export interface MathDataTaskOptions extends MathTaskFormatOptions, WordSplitOptions {
  /** Task name (default `math-data`). */
  readonly name?: string;
  /** File name for error messages. */
  readonly file?: string;
  /**
   * `hash` (default): problems go to train, validation or test by a hash of
   * their question, so the splits are disjoint; `all`: every split draws
   * from all problems (an evaluation-only file).
   */
  readonly splits?: "hash" | "all";
}

const DEFAULT_SEPARATOR = "\nA:";

function resolveTokenizer(spec: MathTaskFormatOptions["tokenizer"], extra = ""): Tokenizer {
  // Extra characters go after PAD and EOS, so those ids never move.
  if (spec === undefined || spec === "char") return mathCharTokenizer().extend([...extra]);
  if (spec === "bpe") return bpeTokenizer();
  return spec;
}

function targetOf(answer: string, solution: string, mode: "answer" | "solution"): string {
  const a = normalizeAnswer(answer);
  return mode === "answer" ? ` ${a}` : ` ${solution ? `${solution}\n` : ""}#### ${a}`;
}

function isCorrect(problem: MathProblem, decoded: string): boolean {
  return answersMatch(extractFinalAnswer(decoded), problem.answer);
}

function fromWordProblem(p: WordProblem, sep: string, mode: "answer" | "solution"): MathProblem {
  const solution = p.solutionLines.join("\n");
  return {
    prompt: p.question + sep,
    target: targetOf(String(p.answer), solution, mode),
    answer: String(p.answer),
    question: p.question,
    solution,
    source: "synthetic",
    steps: p.structure.steps.length,
    structure: p.structure,
  };
}

function fromItem(item: MathItem, sep: string, mode: "answer" | "solution"): MathProblem {
  return {
    prompt: item.question + sep,
    target: targetOf(item.answer, item.solution, mode),
    answer: item.answer,
    question: item.question,
    solution: item.solution,
    source: item.format,
    line: item.line,
  };
}

/** Tokens the model's input needs for a problem (prompt + target + EOS, less one). */
function tokensNeeded(tok: Tokenizer, p: TextProblem): number {
  return tok.encode(p.prompt + p.target).length;
}

// The loss mask assumes the prompt's tokens are a prefix of prompt+target's.
function checkFits(tok: Tokenizer, p: MathProblem, seqLen: number, where: () => string): void {
  let ids: number[], promptIds: number[];
  try {
    ids = tok.encode(p.prompt + p.target);
    promptIds = tok.encode(p.prompt);
  } catch (e) {
    throw new Error(`${where()}: ${(e as Error).message}`);
  }
  if (ids.length > seqLen) {
    throw new Error(
      `${where()}: needs ${ids.length} tokens, more than the task's seqLen ${seqLen}`,
    );
  }
  if (promptIds.some((id, i) => ids[i] !== id)) {
    throw new Error(`${where()}: the prompt's tokens are not a prefix of prompt + target's`);
  }
}

function itemsAdapter(
  tok: Tokenizer,
  seqLen: () => number,
  sep: string,
  mode: "answer" | "solution",
): Pick<MathTask, "problemsFrom" | "load" | "parseTestFile"> {
  const problemsFrom = (items: Iterable<MathItem>, file = "data"): MathProblem[] =>
    [...items].map((item) => {
      const p = fromItem(item, sep, mode);
      checkFits(tok, p, seqLen(), () => `${file}:${item.line}`);
      return p;
    });
  return {
    problemsFrom,
    load: async (path, options) => problemsFrom(await loadMathJsonl(path, options), String(path)),
    // A malformed line stops the read; a well-formed one that this model
    // cannot take (characters outside the vocabulary, too long) is an entry
    // with its reason.
    parseTestFile: (text, file) =>
      parseMathJsonl(text, file).map((item) => {
        try {
          return { line: item.line, problem: problemsFrom([item], file)[0] };
        } catch (e) {
          return {
            line: item.line,
            reason: (e as Error).message.replace(`${file}:${item.line}: `, ""),
          };
        }
      }),
  };
}

/**
 * The synthetic multi-step task. `seqLen` is computed from the generator's
 * longest possible question and answer (in characters, an upper bound on
 * tokens for either tokenizer), so every problem of every split fits.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { mathTask } from "@stars/toolkit";
 * const task = mathTask({ stepsMin: 2, stepsMax: 2, maxValue: 9 });
 * const [p] = task.sample("train", 1, 1);
 * assert(task.isCorrect(p, p.target));
 * ```
 */
export function mathTask(options: MathTaskOptions = {}): MathTask {
  const stepsMin = options.stepsMin ?? 2, stepsMax = options.stepsMax ?? 4;
  const testMin = options.testStepsMin ?? stepsMin;
  const testMax = options.testStepsMax ?? Math.max(stepsMax, testMin);
  if (!(stepsMin >= 1 && stepsMax >= stepsMin && testMin >= 1 && testMax >= testMin)) {
    throw new Error(
      `need 1 <= stepsMin <= stepsMax and 1 <= testStepsMin <= testStepsMax, got ` +
        `${stepsMin}..${stepsMax} and ${testMin}..${testMax}`,
    );
  }
  const sep = options.separator ?? DEFAULT_SEPARATOR;
  const mode = options.target ?? "answer";
  const tokenizer = resolveTokenizer(options.tokenizer);
  const b = wordProblemBounds(Math.max(stepsMax, testMax), options);
  const seqLen = b.question + sep.length + 1 + (mode === "answer" ? b.answer : b.solution);
  const steps = testMax === stepsMax && testMin === stepsMin
    ? `${stepsMin}-${stepsMax}`
    : `${stepsMin}-${stepsMax}-test-${testMin}-${testMax}`;
  return {
    name: `gsm8k-synthetic-${steps}`,
    tokenizer,
    seqLen,
    sample: (split, seed, count, unique = false) =>
      generateWordProblems({
        ...options,
        split,
        seed,
        count,
        unique,
        stepsMin: split === "test" ? testMin : stepsMin,
        stepsMax: split === "test" ? testMax : stepsMax,
      }).map((p) => fromWordProblem(p, sep, mode)),
    isCorrect,
    ...itemsAdapter(tokenizer, () => seqLen, sep, mode),
  };
}

/**
 * A task over problems read from a file (see {@linkcode loadMathDataTaskSync}).
 * With the character tokenizer, characters of the problems outside
 * printable ASCII are appended to the vocabulary (sorted), so every problem
 * encodes; `seqLen` is the longest problem's need.
 */
export function mathDataTask(
  items: readonly MathItem[],
  options: MathDataTaskOptions = {},
): MathTask {
  if (items.length === 0) throw new Error(`${options.file ?? "data"}: no problems`);
  const sep = options.separator ?? DEFAULT_SEPARATOR;
  const mode = options.target ?? "answer";
  const problems = items.map((item) => fromItem(item, sep, mode));
  const extra = options.tokenizer === undefined || options.tokenizer === "char"
    ? missingChars(problems.map((p) => p.prompt + p.target).join("")).sort().join("")
    : "";
  const tokenizer = resolveTokenizer(options.tokenizer, extra);
  const file = options.file ?? "data";
  let seqLen = 0;
  for (const p of problems) seqLen = Math.max(seqLen, tokensNeeded(tokenizer, p));
  problems.forEach((p) => checkFits(tokenizer, p, seqLen, () => `${file}:${p.line}`));
  const pools = new Map<MathSplit, MathProblem[]>();
  for (const split of ["train", "validation", "test"] as const) {
    pools.set(
      split,
      options.splits === "all"
        ? problems
        : problems.filter((p) => wordSplitOf(`q:${p.question.trim()}`, options) === split),
    );
  }
  return {
    name: options.name ?? "math-data",
    tokenizer,
    seqLen,
    sample(split, seed, count, unique = false) {
      const pool = pools.get(split)!;
      if (unique && count > pool.length) {
        throw new Error(`${file}: the ${split} split has ${pool.length} problems, ${count} asked`);
      }
      if (count > 0 && pool.length === 0) throw new Error(`${file}: the ${split} split is empty`);
      const rng = new Rng(seed);
      if (!unique) return Array.from({ length: count }, () => pool[rng.int(0, pool.length - 1)]);
      const idx = pool.map((_, i) => i);
      for (let i = 0; i < count; i++) {
        const j = rng.int(i, idx.length - 1);
        [idx[i], idx[j]] = [idx[j], idx[i]];
      }
      return idx.slice(0, count).map((i) => pool[i]);
    },
    isCorrect,
    ...itemsAdapter(tokenizer, () => seqLen, sep, mode),
  };
}

/**
 * Reads a math JSON-lines file synchronously and builds a task over it, for
 * synchronous callers such as the trainer's `taskOf`. Malformed lines are
 * errors naming the file and line (or skipped with `skipMalformed`).
 */
export function loadMathDataTaskSync(
  path: string,
  options: MathDataTaskOptions & LoadOptions = {},
): MathTask {
  const items = loadMathJsonlSync(path, options);
  const base = path.split("/").pop() ?? path;
  return mathDataTask(items, { name: `math-data-${base}`, file: path, ...options });
}

/** Whether a task is a {@linkcode MathTask} (formats files of math problems). */
export function isMathTask(task: Task): task is MathTask {
  return typeof (task as Partial<MathTask>).problemsFrom === "function";
}
