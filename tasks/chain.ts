/**
 * A multi-step reasoning task on which depth matters: single-letter
 * variables defined from one another by small operations mod 10, in
 * shuffled order with distractors, then a question about the last link of
 * the chain.
 *
 * ```text
 * c=a+3;a=4;d=a-1;b=c+2;?b=   ->   9
 * ```
 *
 * A problem with `S` steps has a chain `x_0 = k`, `x_i = x_{i-1} op d`
 * (`i = 1..S`, each op `+` or `-` with `d` in 1..9, or `*` by 3, 7 or 9
 * when enabled) and asks for `x_S`. Every op is a bijection mod 10, so the
 * answer depends on every step: no step can be skipped, and `S` (the length
 * of the dependency chain from the queried variable to a literal) is the
 * problem's difficulty. Distractors hang off chain variables (`d=a-1`) or
 * are literals (`e=5`); nothing refers to them. Names are distinct random
 * letters and the definitions are shuffled.
 *
 * Splits go by a fixed hash of the problem's structure: the chain's start,
 * operations and operands and the distractors' attachment points,
 * operations and operands, as canonical text independent of names and
 * definition order. Train and test never share a structure, whatever the
 * seeds, while every single arithmetic fact appears in training.
 *
 * @module
 */
import { mixSeed, Rng } from "../utils/rng.ts";
import type { Split } from "./split.ts";
import { exactTargetMatch, type Task, type TextProblem } from "./task.ts";
import { CharTokenizer, EOS, PAD } from "./tokenizer.ts";

/** Definition orders of a chain problem. */
export const CHAIN_ORDERS = ["shuffled", "ordered"] as const;
/** One of {@linkcode CHAIN_ORDERS}. */
export type ChainOrder = typeof CHAIN_ORDERS[number];

/** An operation of one chain step, mod 10. */
export type ChainOp = "+" | "-" | "*";

/** One step `x_i = x_{i-1} op operand` (mod 10). */
export interface ChainStep {
  /** The operation. */
  readonly op: ChainOp;
  /** The digit operand (1..9; 3, 7 or 9 for `*`). */
  readonly operand: number;
}

/** A distractor: a literal, or a chain variable with one operation. */
export type ChainDistractor =
  | { readonly kind: "literal"; readonly value: number }
  | {
    readonly kind: "branch";
    readonly from: number;
    readonly op: ChainOp;
    readonly operand: number;
  };

/** The arithmetic of a problem, independent of names and definition order. */
export interface ChainStructure {
  /** `x_0`, the literal the chain starts from (0..9). */
  readonly start: number;
  /** Steps 1..S. */
  readonly steps: readonly ChainStep[];
  /** The distractors (`from` is a chain index 0..S). */
  readonly distractors: readonly ChainDistractor[];
}

/** A chain problem as the model sees it, with its structure and difficulty. */
export interface ChainProblem extends TextProblem {
  /** Reasoning steps: the dependency chain's length. */
  readonly steps: number;
  /** The arithmetic structure. */
  readonly structure: ChainStructure;
  /** Canonical text of the structure (what the split hash reads). */
  readonly key: string;
  /** The queried variable's name. */
  readonly query: string;
}

/** Options of {@linkcode chainTask} and {@linkcode generateChainProblems}. */
export interface ChainOptions {
  /** Fewest steps of train problems (default 1). */
  readonly stepsMin?: number;
  /** Most steps of train problems (default 4). */
  readonly stepsMax?: number;
  /** Fewest steps of test problems (default `stepsMin`). */
  readonly testStepsMin?: number;
  /** Most steps of test problems (default `stepsMax`); `seqLen` covers it. */
  readonly testStepsMax?: number;
  /** Distractor definitions per problem (default 2). */
  readonly distractors?: number;
  /** Operations used (default `["+", "-"]`). */
  readonly ops?: readonly ChainOp[];
  /**
   * Definition order (default `shuffled`): `shuffled` puts the definitions
   * in random order; `ordered` writes the chain in its order (`a=4;b=a+3;
   * c=b+2`) with each distractor at a random place after what it reads, so
   * every definition comes after the one it depends on.
   */
  readonly order?: ChainOrder;
  /** Share of structures in the test split (default 0.1). */
  readonly testFraction?: number;
  /**
   * Questions per training problem (default 1; 0 = one about every
   * variable). The first always asks for the last link of the chain; the
   * others ask about other variables, chain or distractor, in random order
   * (`c=a+3;a=4;d=a-1;b=c+2;?b=9;?d=3;?a=4`), as follow-ups whose answers
   * are trained too. Each answer is a function of the definitions alone,
   * so every variable's value becomes a training signal: the last link's
   * digit alone depends on every step jointly and gives gradient descent
   * almost nothing to start from. Test problems ask one question.
   */
  readonly questions?: number;
  /**
   * Read every training answer but a row's last back as PAD (default false):
   * with the answers written in, a follow-up is often one step from an
   * answer already in the sequence (a neighbour's value plus or minus a
   * digit), a shortcut the first question never has; hidden, every answer
   * comes from the definitions alone. Each row then asks a random number of
   * the follow-ups (none to all `questions - 1`), so that some rows end
   * right after the first answer, as evaluation does.
   */
  readonly hideAnswers?: boolean;
}

/** Options of {@linkcode generateChainProblems}. */
export interface ChainGenerateOptions extends ChainOptions {
  /** How many problems. */
  readonly count: number;
  /** Seed of the draw. */
  readonly seed: number;
  /** The split to draw from. */
  readonly split: Split;
  /** Never return the same problem text twice (default false). */
  readonly unique?: boolean;
}

/** Variable names: the lowercase letters. */
export const CHAIN_NAMES = "abcdefghijklmnopqrstuvwxyz";

/**
 * The chain task's symbols: digits 0-9 (ids 0-9), `a`-`z` (10-35), `=`,
 * `+`, `-`, `*`, `;`, `?`, then PAD and EOS: 44 ids.
 */
export const CHAIN_SYMBOLS: readonly string[] = Object.freeze([
  ..."0123456789",
  ...CHAIN_NAMES,
  ..."=+-*;?",
  PAD,
  EOS,
]);

/** The chain task's character tokenizer (44 ids). */
export const CHAIN_TOKENIZER: CharTokenizer = new CharTokenizer(CHAIN_SYMBOLS);

const MUL_OPERANDS = [3, 7, 9];

/** `x op d` mod 10. */
export function applyChainOp(x: number, op: ChainOp, d: number): number {
  const v = op === "+" ? x + d : op === "-" ? x - d : x * d;
  return ((v % 10) + 10) % 10;
}

/** The value of chain variable `i` (0..S) of a structure. */
export function chainValues(s: ChainStructure): number[] {
  const values = [s.start];
  for (const st of s.steps) values.push(applyChainOp(values[values.length - 1], st.op, st.operand));
  return values;
}

/**
 * Canonical text of a structure, e.g. `4|+3|+2/#5,@0-1`: start, steps,
 * then the distractors sorted (`#v` a literal, `@i op d` a branch off
 * chain variable `i`). Names and definition order do not enter it.
 */
export function chainStructureKey(s: ChainStructure): string {
  const steps = s.steps.map((st) => `${st.op}${st.operand}`);
  const ds = s.distractors
    .map((d) => d.kind === "literal" ? `#${d.value}` : `@${d.from}${d.op}${d.operand}`)
    .sort();
  return `${[String(s.start), ...steps].join("|")}/${ds.join(",")}`;
}

function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The split of a structure key: a fixed hash mapped to [0, 1) against `testFraction`. */
export function chainSplitOf(key: string, testFraction = 0.1): Split {
  if (!(testFraction >= 0 && testFraction <= 1)) {
    throw new Error(`testFraction must be in [0, 1], got ${testFraction}`);
  }
  return mixSeed(0xc4a1, hashText(key)) / 4294967296 < testFraction ? "test" : "train";
}

interface Resolved {
  stepsMin: number;
  stepsMax: number;
  testStepsMin: number;
  testStepsMax: number;
  distractors: number;
  ops: readonly ChainOp[];
  order: ChainOrder;
  testFraction: number;
  questions: number;
}

function resolve(o: ChainOptions): Resolved {
  const stepsMin = o.stepsMin ?? 1, stepsMax = o.stepsMax ?? Math.max(4, stepsMin);
  const testStepsMin = o.testStepsMin ?? stepsMin;
  const testStepsMax = o.testStepsMax ?? Math.max(stepsMax, testStepsMin);
  const distractors = o.distractors ?? 2;
  const ops = o.ops ?? ["+", "-"];
  const int = (v: number, lo: number) => Number.isSafeInteger(v) && v >= lo;
  if (
    !(int(stepsMin, 1) && int(stepsMax, stepsMin) && int(testStepsMin, 1) &&
      int(testStepsMax, testStepsMin))
  ) {
    throw new Error(
      `chain: need integers 1 <= stepsMin <= stepsMax and 1 <= testStepsMin <= testStepsMax, ` +
        `got ${stepsMin}..${stepsMax} and ${testStepsMin}..${testStepsMax}`,
    );
  }
  if (!int(distractors, 0)) {
    throw new Error(`chain: distractors must be an integer >= 0, got ${distractors}`);
  }
  const vars = Math.max(stepsMax, testStepsMax) + 1 + distractors;
  if (vars > CHAIN_NAMES.length) {
    throw new Error(
      `chain: ${vars} variables (steps + 1 + distractors) need more than the ` +
        `${CHAIN_NAMES.length} letters`,
    );
  }
  if (ops.length === 0 || ops.some((op) => op !== "+" && op !== "-" && op !== "*")) {
    throw new Error(`chain: ops must be some of +, -, *, got ${JSON.stringify(ops)}`);
  }
  const questions = o.questions ?? 1;
  if (!int(questions, 0)) {
    throw new Error(
      `chain: questions must be an integer >= 0 (0 = every variable), got ${questions}`,
    );
  }
  const order = o.order ?? "shuffled";
  if (!(CHAIN_ORDERS as readonly string[]).includes(order)) {
    throw new Error(`chain: order must be one of ${CHAIN_ORDERS.join(", ")}, got ${order}`);
  }
  return {
    stepsMin,
    stepsMax,
    testStepsMin,
    testStepsMax,
    distractors,
    ops,
    order,
    testFraction: o.testFraction ?? 0.1,
    questions,
  };
}

function drawStep(rng: Rng, ops: readonly ChainOp[]): ChainStep {
  const op = ops[rng.int(0, ops.length - 1)];
  const operand = op === "*" ? MUL_OPERANDS[rng.int(0, 2)] : rng.int(1, 9);
  return { op, operand };
}

/**
 * One problem of `steps` steps drawn from `rng`, in `split`-independent
 * form (the caller checks the split); its follow-up questions, if any, are
 * drawn from `questionRng`.
 */
export function generateChainProblem(
  rng: Rng,
  steps: number,
  options: Pick<ChainOptions, "distractors" | "ops" | "order" | "questions" | "hideAnswers"> = {},
  questionRng: Rng = rng,
): ChainProblem {
  const distractorCount = options.distractors ?? 2;
  const ops = options.ops ?? ["+", "-"];
  const start = rng.int(0, 9);
  const chain = Array.from({ length: steps }, () => drawStep(rng, ops));
  const distractors: ChainDistractor[] = Array.from({ length: distractorCount }, () => {
    if (rng.int(0, 3) === 0) return { kind: "literal", value: rng.int(0, 9) };
    const { op, operand } = drawStep(rng, ops);
    return { kind: "branch", from: rng.int(0, steps), op, operand };
  });
  const structure: ChainStructure = { start, steps: chain, distractors };
  // Distinct names: a partial shuffle of the alphabet.
  const letters = [...CHAIN_NAMES];
  const n = steps + 1 + distractorCount;
  for (let i = 0; i < n; i++) {
    const j = rng.int(i, letters.length - 1);
    [letters[i], letters[j]] = [letters[j], letters[i]];
  }
  const chainNames = letters.slice(0, steps + 1), extra = letters.slice(steps + 1, n);
  const chainDefs = [`${chainNames[0]}=${start}`];
  chain.forEach((st, i) =>
    chainDefs.push(`${chainNames[i + 1]}=${chainNames[i]}${st.op}${st.operand}`)
  );
  const extraDefs = distractors.map((d, i) =>
    d.kind === "literal"
      ? `${extra[i]}=${d.value}`
      : `${extra[i]}=${chainNames[d.from]}${d.op}${d.operand}`
  );
  const defs = (options.order ?? "shuffled") === "ordered"
    ? inOrder(rng, chainDefs, distractors, extraDefs)
    : shuffled(rng, [...chainDefs, ...extraDefs]);
  const query = chainNames[steps];
  const values = chainValues(structure);
  const answer = String(values[steps]);
  const problem: ChainProblem = {
    prompt: `${defs.join(";")};?${query}=`,
    target: answer,
    answer,
    steps,
    structure,
    key: chainStructureKey(structure),
    query,
  };
  const questions = options.questions ?? 1;
  if (questions === 1) return problem;
  // The other variables' values, then a random `questions - 1` of them
  // (all with 0) in random order.
  const others = [
    ...chainNames.slice(0, steps).map((name, i) => ({ name, value: values[i] })),
    ...distractors.map((d, i) => ({
      name: extra[i],
      value: d.kind === "literal" ? d.value : applyChainOp(values[d.from], d.op, d.operand),
    })),
  ];
  const most = questions === 0 ? others.length : Math.min(questions - 1, others.length);
  // Hidden answers: a random number of follow-ups (0 to most), so that some
  // rows end right after the first answer, where evaluation emits EOS.
  const count = options.hideAnswers ? questionRng.int(0, most) : most;
  const asked = shuffled(questionRng, others).slice(0, count);
  if (asked.length === 0) return problem;
  return {
    ...problem,
    followUps: asked.map(({ name, value }) => ({ prompt: `;?${name}=`, target: String(value) })),
    ...(options.hideAnswers ? { answersHidden: true } : {}),
  };
}

// The items in random order (in place).
function shuffled<T>(rng: Rng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

// The chain in its order; each distractor after the chain definition it
// reads (anywhere for a literal), so nothing is read before it is defined.
function inOrder(
  rng: Rng,
  chainDefs: readonly string[],
  distractors: readonly ChainDistractor[],
  extraDefs: readonly string[],
): string[] {
  // Slot k holds what comes right after chain definition k (-1: before all).
  const after: string[][] = Array.from({ length: chainDefs.length + 1 }, () => []);
  distractors.forEach((d, i) => {
    const earliest = d.kind === "literal" ? -1 : d.from;
    after[1 + rng.int(earliest, chainDefs.length - 1)].push(extraDefs[i]);
  });
  return [...after[0], ...chainDefs.flatMap((def, k) => [def, ...after[k + 1]])];
}

/**
 * `count` problems of a split, deterministic for `seed`: each draws its
 * number of steps uniformly from the split's range, and is kept only when
 * its structure hashes to `split`. With `unique`, no problem text twice.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { generateChainProblems } from "@stars/toolkit/tasks";
 * const [p] = generateChainProblems({ count: 1, seed: 1, split: "train", stepsMax: 3 });
 * assertEquals(p.prompt, "n=3;b=u+6;x=n-6;u=n+9;?u="); // u = 3 + 9 = 2 (mod 10)
 * assertEquals([p.steps, p.target], [1, "2"]); // steps drawn from 1..3
 * ```
 */
export function generateChainProblems(options: ChainGenerateOptions): ChainProblem[] {
  const r = resolve(options);
  const { count, seed, split } = options;
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new Error(`chain: count must be an integer >= 0, got ${count}`);
  }
  const [lo, hi] = split === "test" ? [r.testStepsMin, r.testStepsMax] : [r.stepsMin, r.stepsMax];
  const rng = new Rng(seed);
  // Questions have their own stream, so the problems are the same whatever
  // the number of questions.
  const questionRng = new Rng(mixSeed(seed, 0x9e57));
  const seen = new Set<string>();
  const out: ChainProblem[] = [];
  const patience = 20_000;
  for (let idle = 0; out.length < count; idle++) {
    if (idle >= patience) {
      throw new Error(
        `chain: found only ${out.length} of ${count} ${split} problems (${lo}-${hi} steps): ` +
          `${patience} draws in a row gave no new one`,
      );
    }
    const p = generateChainProblem(
      rng,
      rng.int(lo, hi),
      { ...r, hideAnswers: options.hideAnswers },
      questionRng,
    );
    if (chainSplitOf(p.key, r.testFraction) !== split) continue;
    if (options.unique) {
      if (seen.has(p.prompt)) continue;
      seen.add(p.prompt);
    }
    out.push(p);
    idle = -1;
  }
  return out;
}

/**
 * Model input length every problem with at most `maxSteps` steps and
 * `questions` questions (0 = every variable) fits in: the literal (`a=4;`,
 * 4 characters), 6 per step and per distractor (`b=a+3;`; a literal
 * distractor is shorter), the question (`?b=`), the one-digit answer, and
 * 5 per follow-up question (`;?d=3`).
 */
export function chainSeqLen(maxSteps: number, distractors: number, questions = 1): number {
  const others = maxSteps + distractors;
  const followUps = questions === 0 ? others : Math.min(questions - 1, others);
  return 4 + 6 * (maxSteps + distractors) + 3 + 1 + 5 * followUps;
}

/**
 * The chain task: train and test problems with disjoint structures, the
 * 44-symbol {@linkcode CHAIN_TOKENIZER}, and exact match of the one-digit
 * answer. Train problems ask `questions` questions, test problems one.
 * `seqLen` covers the longest problem of either split.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { chainTask } from "@stars/toolkit";
 * const task = chainTask({ stepsMin: 1, stepsMax: 4 });
 * const [p] = task.sample("test", 1, 1);
 * assert(task.isCorrect(p, p.target));
 * ```
 */
export function chainTask(options: ChainOptions = {}): Task<ChainProblem> {
  const r = resolve(options);
  const range = r.testStepsMin === r.stepsMin && r.testStepsMax === r.stepsMax
    ? `${r.stepsMin}-${r.stepsMax}`
    : `${r.stepsMin}-${r.stepsMax}-test-${r.testStepsMin}-${r.testStepsMax}`;
  return {
    name: `chain-${range}-d${r.distractors}${r.questions === 1 ? "" : `-q${r.questions}`}${
      options.hideAnswers && r.questions !== 1 ? "-hidden" : ""
    }`,
    tokenizer: CHAIN_TOKENIZER,
    seqLen: Math.max(
      chainSeqLen(r.stepsMax, r.distractors, r.questions),
      chainSeqLen(r.testStepsMax, r.distractors),
    ),
    sample: (split, seed, count, unique = false) =>
      generateChainProblems({
        ...options,
        questions: split === "train" ? r.questions : 1,
        hideAnswers: split === "train" && options.hideAnswers === true,
        split,
        seed,
        count,
        unique,
      }),
    isCorrect: exactTargetMatch,
  };
}
