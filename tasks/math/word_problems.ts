/**
 * Seeded grade-school word problems whose difficulty is the number of
 * reasoning steps. A problem is a chain of quantities: `q0` is a given
 * count and each step `i` computes `q_i = q_{i-1} op x`, where `x` is a
 * given number or an earlier quantity (another person's count), so every
 * step depends on the one before. Sentences come from varied templates
 * (names, objects, verbs); the solution has one line per step, in GSM8K's
 * form (`question`, `answer` = solution lines + `#### N`).
 *
 * Every quantity is a non-negative integer no larger than `maxValue`;
 * divisions always divide exactly.
 *
 * Splits are assigned by a fixed hash of the problem's arithmetic structure
 * (start value, operations and operands; not names or wording), so train,
 * validation and test never share a structure, whatever the seeds.
 *
 * @module
 */
import { mixSeed, Rng } from "../../utils/rng.ts";

/** An arithmetic operation of one step. */
export type WordOp = "+" | "-" | "*" | "/";

/** One step: `q_i = q_{i-1} op right`. */
export interface WordStep {
  /** The operation. */
  readonly op: WordOp;
  /** The right operand: a number given in the text, or an earlier quantity's index. */
  readonly right: { readonly value: number } | { readonly ref: number };
}

/** The arithmetic of a problem, independent of its wording. */
export interface WordProblemStructure {
  /** `q0`, the count given first. */
  readonly start: number;
  /** Steps 1..S; step `i` makes `q_i` from `q_{i-1}`. */
  readonly steps: readonly WordStep[];
}

/** A generated problem with its structure, wording, solution and answer. */
export interface WordProblem {
  /** The question text. */
  readonly question: string;
  /** One line per step, e.g. `Ben has 5 + 3 = 8 apples.` */
  readonly solutionLines: readonly string[];
  /** The exact answer (the last quantity). */
  readonly answer: number;
  /** The arithmetic structure. */
  readonly structure: WordProblemStructure;
  /** Canonical text of the structure (what the split hash reads). */
  readonly key: string;
}

/** Which share of the structures a problem belongs to. */
export type WordSplit = "train" | "validation" | "test";

/**
 * Wording of the generator: `story` (default; full sentences with names,
 * objects and verbs) or `terse` (one-letter names, no objects, e.g.
 * `A has 5. B has 3 more than A. B?`), whose short prompts suit tiny
 * models trained for seconds.
 */
export type WordStyle = "story" | "terse";

/** Number ranges (and wording) of the generator. */
export interface WordNumberOptions {
  /** Wording (default `story`). */
  readonly style?: WordStyle;
  /** Largest value of any quantity, the answer included (default 100). */
  readonly maxValue?: number;
  /** Largest number added or subtracted (default 20). */
  readonly maxOperand?: number;
  /** Largest multiplier or divisor (default 5; the smallest is 2). */
  readonly maxFactor?: number;
  /** Largest starting count (default `min(maxOperand, maxValue)`). */
  readonly maxStart?: number;
}

/** Shares of the structures held out (the rest is train). */
export interface WordSplitOptions {
  /** Share of structures in the test split (default 0.1). */
  readonly testFraction?: number;
  /** Share of structures in the validation split (default 0.1). */
  readonly validationFraction?: number;
}

/** Options of {@linkcode generateWordProblems}. */
export interface WordProblemOptions extends WordNumberOptions, WordSplitOptions {
  /** How many problems. */
  readonly count: number;
  /** Seed of the draw. */
  readonly seed: number;
  /** The split to draw from. */
  readonly split: WordSplit;
  /** Fewest steps (default 2). */
  readonly stepsMin?: number;
  /** Most steps (default `stepsMin`). */
  readonly stepsMax?: number;
  /** Never return the same structure twice (default false). */
  readonly unique?: boolean;
}

const NAMES = [
  "Ann",
  "Ben",
  "Carl",
  "Dana",
  "Eve",
  "Finn",
  "Gina",
  "Hugo",
  "Ida",
  "Jack",
  "Kim",
  "Leo",
  "Mia",
  "Nina",
  "Omar",
  "Pia",
  "Quinn",
  "Rosa",
  "Sam",
  "Tara",
  "Uma",
  "Vic",
  "Will",
  "Zoe",
  "Liam",
  "Noah",
  "Emma",
  "Ava",
  "Lily",
  "Max",
  "Ruth",
  "Tom",
]; // deno-fmt-ignore
const OBJECTS = [
  "apples", "marbles", "stickers", "books", "cookies", "pencils", "stamps", "shells", "cards",
  "coins", "toy cars", "flowers", "eggs", "candies", "balloons", "crayons",
]; // deno-fmt-ignore

/** How a step is worded: sentences, the solution line, and its effect on who holds what. */
interface Wording {
  readonly op: WordOp;
  /** The right operand is another holder's count. */
  readonly ref?: boolean;
  /** The quantity passes to a new name `{Q}`. */
  readonly newHolder?: boolean;
  /** `{Q}` appears but only as a bystander. */
  readonly bystander?: boolean;
  /** Only as the last step: the sentence is the question. */
  readonly final?: boolean;
  /** The previous holder's count becomes unknown (it cannot be referenced later). */
  readonly spoils?: boolean;
  readonly sentences: readonly string[];
  readonly solution: string;
}

// Placeholders: {P} current holder, {Q} a new name, {R} a referenced holder,
// {o} object, {k} the given number, {v} q_{i-1}, {u} the referenced
// quantity, {r} the result.
const START = [
  "{P} has {k} {o}.",
  "{P} collected {k} {o}.",
  "{P} starts with {k} {o}.",
  "{P} owns {k} {o}.",
];
const QUESTION = [
  "How many {o} does {P} have now?",
  "How many {o} does {P} have?",
  "How many {o} does {P} end up with?",
];

const WORDINGS: readonly Wording[] = [
  {
    op: "+",
    sentences: [
      "{P} then finds {k} more {o}.",
      "{P} buys {k} more {o}.",
      "Later, {P} gets {k} extra {o}.",
    ],
    solution: "{P} has {v} + {k} = {r} {o}.",
  },
  {
    op: "+",
    bystander: true,
    sentences: ["{Q} gives {P} {k} more {o}."],
    solution: "{P} has {v} + {k} = {r} {o}.",
  },
  {
    op: "+",
    newHolder: true,
    sentences: ["{Q} has {k} more {o} than {P}.", "{Q} owns {k} more {o} than {P} does."],
    solution: "{Q} has {v} + {k} = {r} {o}.",
  },
  {
    op: "-",
    sentences: ["{P} loses {k} {o}.", "{P} uses {k} of the {o}.", "Then {P} sells {k} {o}."],
    solution: "{P} has {v} - {k} = {r} {o} left.",
  },
  {
    op: "-",
    bystander: true,
    sentences: ["{P} gives {k} {o} to {Q}."],
    solution: "{P} has {v} - {k} = {r} {o} left.",
  },
  {
    op: "-",
    newHolder: true,
    sentences: ["{Q} has {k} fewer {o} than {P}.", "{Q} owns {k} fewer {o} than {P} does."],
    solution: "{Q} has {v} - {k} = {r} {o}.",
  },
  {
    op: "*",
    newHolder: true,
    sentences: [
      "{Q} has {k} times as many {o} as {P}.",
      "{Q} collects {k} times as many {o} as {P} has.",
    ],
    solution: "{Q} has {v} * {k} = {r} {o}.",
  },
  {
    op: "*",
    sentences: ["{P} then gets enough {o} to have {k} times as many as before."],
    solution: "{P} has {v} * {k} = {r} {o}.",
  },
  {
    op: "/",
    newHolder: true,
    spoils: true,
    sentences: [
      "{P} shares the {o} equally among {k} friends, and {Q} is one of them.",
      "{P} splits the {o} into {k} equal piles and gives one pile to {Q}.",
    ],
    solution: "{Q} gets {v} / {k} = {r} {o}.",
  },
  {
    op: "/",
    sentences: ["{P} packs the {o} into {k} equal boxes and keeps just one box."],
    solution: "{P} keeps {v} / {k} = {r} {o}.",
  },
  {
    op: "+",
    ref: true,
    sentences: ["{P} then takes all of {R}'s {o}.", "{R} hands all of {R}'s {o} over to {P}."],
    solution: "{P} has {v} + {u} = {r} {o}.",
  },
  {
    op: "+",
    ref: true,
    final: true,
    sentences: ["How many {o} do {P} and {R} have together?"],
    solution: "Together they have {v} + {u} = {r} {o}.",
  },
  {
    op: "-",
    ref: true,
    final: true,
    sentences: ["How many more {o} does {P} have than {R}?"],
    solution: "{P} has {v} - {u} = {r} more {o} than {R}.",
  },
]; // deno-fmt-ignore

const TERSE_WORDINGS: readonly Wording[] = [
  { op: "+", sentences: ["{P} gets {k} more."], solution: "{P} = {v} + {k} = {r}." },
  { op: "+", newHolder: true, sentences: ["{Q} has {k} more than {P}."], solution: "{Q} = {v} + {k} = {r}." },
  { op: "-", sentences: ["{P} loses {k}."], solution: "{P} = {v} - {k} = {r}." },
  { op: "-", newHolder: true, sentences: ["{Q} has {k} less than {P}."], solution: "{Q} = {v} - {k} = {r}." },
  { op: "*", newHolder: true, sentences: ["{Q} has {k} times {P}."], solution: "{Q} = {v} * {k} = {r}." },
  { op: "/", sentences: ["{P} keeps one of {k} parts."], solution: "{P} = {v} / {k} = {r}." },
  { op: "+", ref: true, sentences: ["{P} takes all of {R}'s."], solution: "{P} = {v} + {u} = {r}." },
  { op: "+", ref: true, final: true, sentences: ["{P} and {R} together?"], solution: "{P} + {R} = {v} + {u} = {r}." },
  { op: "-", ref: true, final: true, sentences: ["{P} minus {R}?"], solution: "{P} - {R} = {v} - {u} = {r}." },
]; // deno-fmt-ignore

/** The vocabulary of one wording style. */
interface Style {
  readonly names: readonly string[];
  readonly objects: readonly string[];
  readonly start: readonly string[];
  readonly question: readonly string[];
  readonly wordings: readonly Wording[];
}

const STYLES: Record<WordStyle, Style> = {
  story: { names: NAMES, objects: OBJECTS, start: START, question: QUESTION, wordings: WORDINGS },
  terse: {
    names: [..."ABCDEFGHIJKLMNOPQRSTUVWXYZ"],
    objects: [""],
    start: ["{P} has {k}."],
    question: ["{P}?"],
    wordings: TERSE_WORDINGS,
  },
};

function fill(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{(\w)\}/g, (_, k: string) => String(vars[k]));
}

function check(name: string, v: number, lo: number): void {
  if (!Number.isSafeInteger(v) || v < lo) {
    throw new Error(`${name} must be an integer >= ${lo}, got ${v}`);
  }
}

/** The number ranges with defaults filled in, checked. */
export function wordNumbers(o: WordNumberOptions = {}): Required<WordNumberOptions> {
  const maxValue = o.maxValue ?? 100, maxOperand = o.maxOperand ?? 20;
  const r = {
    style: o.style ?? "story",
    maxValue,
    maxOperand,
    maxFactor: o.maxFactor ?? 5,
    maxStart: o.maxStart ?? Math.min(maxOperand, maxValue),
  };
  check("maxValue", r.maxValue, 2);
  check("maxOperand", r.maxOperand, 1);
  check("maxFactor", r.maxFactor, 2);
  if (!(r.style in STYLES)) throw new Error(`style must be story or terse, got ${r.style}`);
  check("maxStart", r.maxStart, 1);
  if (r.maxStart > r.maxValue) {
    throw new Error(`maxStart ${r.maxStart} exceeds maxValue ${r.maxValue}`);
  }
  return r;
}

/** Canonical text of a structure, e.g. `7|+3|*2|+q0`. */
export function structureKey(s: WordProblemStructure): string {
  const step = (st: WordStep) => st.op + ("ref" in st.right ? `q${st.right.ref}` : st.right.value);
  return [String(s.start), ...s.steps.map(step)].join("|");
}

function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The split a structure key belongs to: a fixed hash of the key mapped to
 * [0, 1) is below `testFraction` (test), below `testFraction +
 * validationFraction` (validation), or else train. Depends on no seed.
 */
export function wordSplitOf(key: string, options: WordSplitOptions = {}): WordSplit {
  const test = options.testFraction ?? 0.1, val = options.validationFraction ?? 0.1;
  if (!(test >= 0 && val >= 0 && test + val <= 1)) {
    throw new Error(
      `testFraction ${test} and validationFraction ${val} must be >= 0 with sum <= 1`,
    );
  }
  const h = mixSeed(0x3a7c, hashText(key)) / 4294967296;
  return h < test ? "test" : h < test + val ? "validation" : "train";
}

interface Holder {
  readonly name: string;
  /** Index of the holder's latest quantity. */
  q: number;
  /** Whether the latest quantity is still what the holder has. */
  known: boolean;
}

/** A source of uniform integers in `[lo, hi]` (the toolkit's seeded `Rng` is one). */
export interface IntSource {
  /** An integer uniform in `[lo, hi]` inclusive. */
  int(lo: number, hi: number): number;
}

/** Draws one problem with `steps` steps (any split) using `rng`. */
export function generateWordProblem(
  rng: IntSource,
  steps: number,
  numbers: WordNumberOptions = {},
): WordProblem {
  check("steps", steps, 1);
  const most = STYLES[numbers.style ?? "story"].names.length - 2;
  if (steps > most) throw new Error(`steps must be <= ${most}, got ${steps}`);
  const { maxValue, maxOperand, maxFactor, maxStart, style } = wordNumbers(numbers);
  const { names, objects, start, question: questions, wordings } = STYLES[style];
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(0, xs.length - 1)];
  const unused = [...names];
  const freshName = () => unused.splice(rng.int(0, unused.length - 1), 1)[0];
  const obj = pick(objects);
  const qs: number[] = [rng.int(1, maxStart)];
  let holder: Holder = { name: freshName(), q: 0, known: true };
  const holders: Holder[] = [holder];
  const sentences = [fill(pick(start), { P: holder.name, k: qs[0], o: obj })];
  const solution: string[] = [];
  const structure: WordStep[] = [];
  let question = "";

  for (let i = 1; i <= steps; i++) {
    const v = qs[i - 1], last = i === steps;
    const others = holders.filter((h) => h !== holder && h.known);
    // Feasible operands of each wording.
    const options: { w: Wording; xs: number[] | Holder[] }[] = [];
    for (const w of wordings) {
      if (w.final && !last) continue;
      if (w.ref) {
        const ok = others.filter((h) => w.op === "+" ? v + qs[h.q] <= maxValue : qs[h.q] <= v);
        if (ok.length) options.push({ w, xs: ok });
        continue;
      }
      const xs: number[] = [];
      if (w.op === "+") {
        for (let k = 1; k <= Math.min(maxOperand, maxValue - v); k++) xs.push(k);
      }
      if (w.op === "-") { for (let k = 1; k <= Math.min(maxOperand, v); k++) xs.push(k); }
      if (w.op === "*" && v >= 1) {
        for (let k = 2; k <= Math.min(maxFactor, maxValue / v); k++) xs.push(k);
      }
      if (w.op === "/") {
        for (let k = 2; k <= Math.min(maxFactor, v); k++) if (v % k === 0) xs.push(k);
      }
      if (xs.length) options.push({ w, xs });
    }
    // Each operation equally likely, then a wording, then an operand.
    const ops = [...new Set(options.map((o) => o.w.op + (o.w.ref ? "q" : "")))];
    const op = pick(ops);
    const { w, xs } = pick(options.filter((o) => o.w.op + (o.w.ref ? "q" : "") === op));
    const vars: Record<string, string | number> = { P: holder.name, o: obj, v };
    let r: number;
    if (w.ref) {
      const ref = pick(xs as Holder[]);
      const u = qs[ref.q];
      r = w.op === "+" ? v + u : v - u;
      Object.assign(vars, { R: ref.name, u, r });
      structure.push({ op: w.op, right: { ref: ref.q } });
      ref.known = false; // it gave everything away, or the problem ends here
    } else {
      const k = pick(xs as number[]);
      r = w.op === "+" ? v + k : w.op === "-" ? v - k : w.op === "*" ? v * k : v / k;
      Object.assign(vars, { k, r });
      structure.push({ op: w.op, right: { value: k } });
    }
    if (w.newHolder || w.bystander) vars.Q = freshName();
    const sentence = fill(pick(w.sentences), vars);
    solution.push(fill(w.solution, vars));
    qs.push(r);
    if (w.final) question = sentence;
    else sentences.push(sentence);
    if (w.newHolder) {
      if (w.spoils) holder.known = false;
      holder = { name: vars.Q as string, q: i, known: true };
      holders.push(holder);
    } else {
      holder.q = i;
    }
  }
  if (question === "") question = fill(pick(questions), { P: holder.name, o: obj });
  const s: WordProblemStructure = { start: qs[0], steps: structure };
  return {
    question: [...sentences, question].join(" "),
    solutionLines: solution,
    answer: qs[steps],
    structure: s,
    key: structureKey(s),
  };
}

/**
 * Draws `count` problems of the chosen split, each with a step count drawn
 * uniformly from `[stepsMin, stepsMax]`; deterministic for the options.
 * Throws when the split cannot supply enough (with `unique`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { generateWordProblems } from "@stars/toolkit/tasks";
 * const [p] = generateWordProblems({ count: 1, seed: 1, split: "train", stepsMin: 3 });
 * assertEquals(p.solutionLines.length, 3);
 * ```
 */
export function generateWordProblems(options: WordProblemOptions): WordProblem[] {
  const { count, seed, split } = options;
  const stepsMin = options.stepsMin ?? 2, stepsMax = options.stepsMax ?? stepsMin;
  check("count", count, 0);
  check("stepsMin", stepsMin, 1);
  if (!Number.isSafeInteger(stepsMax) || stepsMax < stepsMin) {
    throw new Error(`stepsMax must be an integer >= stepsMin (${stepsMin}), got ${stepsMax}`);
  }
  const numbers = wordNumbers(options);
  const rng = new Rng(seed);
  const seen = new Set<string>();
  const out: WordProblem[] = [];
  // Give up after this many draws in a row without a new problem.
  const patience = 20_000;
  for (let idle = 0; out.length < count; idle++) {
    if (idle >= patience) {
      throw new Error(
        `found only ${out.length} of ${count} ${split} problems ` +
          `(${stepsMin}-${stepsMax} steps): ${patience} draws in a row gave no new one`,
      );
    }
    const p = generateWordProblem(rng, rng.int(stepsMin, stepsMax), numbers);
    if (wordSplitOf(p.key, options) !== split) continue;
    if (options.unique) {
      if (seen.has(p.key)) continue;
      seen.add(p.key);
    }
    out.push(p);
    idle = -1;
  }
  return out;
}

/** A problem as a GSM8K record: `answer` is the solution lines and `#### N`. */
export function toGsm8kRecord(p: WordProblem): { question: string; answer: string } {
  return { question: p.question, answer: [...p.solutionLines, `#### ${p.answer}`].join("\n") };
}

/** Problems as GSM8K JSON lines (one record per line, newline-terminated). */
export function toGsm8kJsonl(problems: readonly WordProblem[]): string {
  return problems.map((p) => JSON.stringify(toGsm8kRecord(p)) + "\n").join("");
}

// Longest text a template can produce: every placeholder at its longest.
function templateBound(t: string, digits: number, style: Style): number {
  const nameLen = Math.max(...style.names.map((n) => n.length));
  const objLen = Math.max(...style.objects.map((o) => o.length));
  const len: Record<string, number> = { P: nameLen, Q: nameLen, R: nameLen, o: objLen };
  return t.replace(/\{(\w)\}/g, (_, k: string) => "x".repeat(len[k] ?? digits)).length;
}

/**
 * Upper bounds, in characters, on the question and on the solution (lines
 * joined by `\n`, then `\n#### N`) of any problem with at most `maxSteps`
 * steps and these number ranges.
 */
export function wordProblemBounds(
  maxSteps: number,
  numbers: WordNumberOptions = {},
): { question: number; solution: number; answer: number } {
  const n = wordNumbers(numbers), digits = String(n.maxValue).length, st = STYLES[n.style];
  const most = (ts: readonly string[]) => Math.max(...ts.map((t) => templateBound(t, digits, st)));
  const step = most(st.wordings.filter((w) => !w.final).flatMap((w) => w.sentences));
  const finalQ = most([
    ...st.question,
    ...st.wordings.filter((w) => w.final).flatMap((w) => w.sentences),
  ]);
  const line = most(st.wordings.map((w) => w.solution));
  return {
    question: most(st.start) + maxSteps * (step + 1) + 1 + finalQ,
    solution: maxSteps * (line + 1) + 5 + digits,
    answer: digits,
  };
}
