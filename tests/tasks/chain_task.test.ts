import { assert, assertEquals, assertNotEquals, assertRejects, assertThrows } from "@std/assert";
import { BACKEND } from "../_backend.ts";
import {
  CHAIN_TOKENIZER,
  type ChainProblem,
  chainTask,
  generateChainProblems,
} from "../../tasks/chain.ts";
import { ConfigError, DEFAULT_CONFIG, resolveConfig } from "../../train/config.ts";
import { heldOutProblems, modelConfigOf, taskOf, trainBatch } from "../../train/data.ts";
import { encodeBatch } from "../../tasks/batch.ts";
import { train } from "../../train/trainer.ts";

// Our own reading of a prompt, independent of the generator: the
// definitions, the queried name, each name's value (mod 10) and its
// dependency depth (edges to a literal), and a name- and order-free
// canonical form of the whole graph.
interface Parsed {
  defs: Map<string, { ref?: string; op?: string; d: number }>;
  query: string;
  value: (name: string) => number;
  depth: (name: string) => number;
  canonical: string;
}

function parse(prompt: string): Parsed {
  const m = /^(.*);\?([a-z])=$/.exec(prompt);
  assert(m, `prompt shape: ${prompt}`);
  const defs = new Map<string, { ref?: string; op?: string; d: number }>();
  for (const def of m[1].split(";")) {
    const lit = /^([a-z])=(\d)$/.exec(def), bin = /^([a-z])=([a-z])([+\-*])(\d)$/.exec(def);
    assert(lit || bin, `definition ${def} in ${prompt}`);
    const name = (lit ?? bin)![1];
    assert(!defs.has(name), `${name} defined twice in ${prompt}`);
    defs.set(name, lit ? { d: Number(lit[2]) } : { ref: bin![2], op: bin![3], d: Number(bin![4]) });
  }
  const value = (name: string, seen = 0): number => {
    assert(seen < 30, `cycle in ${prompt}`);
    const def = defs.get(name);
    assert(def, `${name} undefined in ${prompt}`);
    if (def.ref === undefined) return def.d;
    const x = value(def.ref, seen + 1);
    const v = def.op === "+" ? x + def.d : def.op === "-" ? x - def.d : x * def.d;
    return ((v % 10) + 10) % 10;
  };
  const depth = (name: string): number => {
    const def = defs.get(name)!;
    return def.ref === undefined ? 0 : 1 + depth(def.ref);
  };
  // Canonical: the query's chain from its literal, then every other name as
  // (its chain index or "literal") with its op, sorted.
  const chain: string[] = [];
  for (let n: string | undefined = m[2]; n !== undefined; n = defs.get(n)!.ref) chain.unshift(n);
  const onChain = new Map(chain.map((n, i) => [n, i]));
  const links = chain.map((n) => {
    const d = defs.get(n)!;
    return d.ref === undefined ? `${d.d}` : `${d.op}${d.d}`;
  });
  const others = [...defs].filter(([n]) => !onChain.has(n)).map(([, d]) => {
    assert(d.ref === undefined || onChain.has(d.ref), `distractor off a distractor: ${prompt}`);
    return d.ref === undefined ? `L${d.d}` : `B${onChain.get(d.ref)}${d.op}${d.d}`;
  }).sort();
  return { defs, query: m[2], value, depth, canonical: `${links.join(" ")} / ${others.join(" ")}` };
}

const draw = (split: "train" | "test", count: number, seed = 3, extra = {}): ChainProblem[] =>
  generateChainProblems({ count, seed, split, stepsMin: 1, stepsMax: 6, ...extra });

Deno.test("chain: seeded and deterministic", () => {
  const a = draw("train", 200), b = draw("train", 200);
  assertEquals(a, b);
  assertNotEquals(a.map((p) => p.prompt), draw("train", 200, 4).map((p) => p.prompt));
  const task = chainTask({ stepsMax: 6 });
  assertEquals(task.sample("test", 9, 50, true), task.sample("test", 9, 50, true));
});

Deno.test("chain: answers and steps recomputed from the prompt alone", () => {
  const byStepsTrain = new Map<number, number>();
  for (const split of ["train", "test"] as const) {
    for (const p of draw(split, 1500, 5, { ops: ["+", "-", "*"], distractors: 3 })) {
      const q = parse(p.prompt);
      assertEquals(q.query, p.query);
      assertEquals(String(q.value(q.query)), p.answer, p.prompt);
      assertEquals(p.target, p.answer);
      assertEquals(q.depth(q.query), p.steps, p.prompt);
      assertEquals(q.defs.size, p.steps + 1 + 3, p.prompt);
      assert(p.steps >= 1 && p.steps <= 6);
      if (split === "train") byStepsTrain.set(p.steps, (byStepsTrain.get(p.steps) ?? 0) + 1);
    }
  }
  // Uniform over steps: every count within a third of the mean.
  assertEquals([...byStepsTrain.keys()].sort(), [1, 2, 3, 4, 5, 6]);
  for (const n of byStepsTrain.values()) assert(Math.abs(n - 250) < 85, `${n}`);
});

Deno.test("chain: every step matters (each op is a bijection mod 10)", () => {
  // Changing the chain's literal changes the answer, whatever the steps.
  for (const p of draw("train", 300, 8, { ops: ["+", "-", "*"] })) {
    const q = parse(p.prompt);
    let start = q.query;
    while (q.defs.get(start)!.ref !== undefined) start = q.defs.get(start)!.ref!;
    const lit = q.defs.get(start)!;
    const answers = new Set<number>();
    for (let k = 0; k < 10; k++) {
      lit.d = k;
      answers.add(q.value(q.query));
    }
    assertEquals(answers.size, 10, p.prompt);
  }
});

Deno.test("chain: train and test share no structure (recomputed from the prompts)", () => {
  const train = draw("train", 4000, 1), test = draw("test", 600, 2);
  const trainKeys = new Set(train.map((p) => parse(p.prompt).canonical));
  const testKeys = new Set(test.map((p) => parse(p.prompt).canonical));
  for (const k of testKeys) assert(!trainKeys.has(k), `structure in both splits: ${k}`);
  // The generator's own key agrees with ours on what a structure is.
  const pairs = new Map<string, string>();
  for (const p of [...train, ...test]) {
    const ours = parse(p.prompt).canonical;
    if (pairs.has(p.key)) assertEquals(pairs.get(p.key), ours);
    pairs.set(p.key, ours);
  }
  assertEquals(new Set(pairs.values()).size, pairs.size);
  // Roughly the configured share of structures is test: draws of either split are
  // rejected when they fall on the other side, so both splits fill.
  assert(test.every((p) => p.steps >= 1 && p.steps <= 6));
});

Deno.test("chain: unique test problems; names distinct; steps ranges per split", () => {
  const task = chainTask({ stepsMin: 2, stepsMax: 3, testStepsMax: 7, distractors: 1 });
  const test = task.sample("test", 1, 400, true);
  assertEquals(new Set(test.map((p) => p.prompt)).size, 400);
  assertEquals(new Set(test.map((p) => p.steps)), new Set([2, 3, 4, 5, 6, 7]));
  assert(task.sample("train", 1, 400).every((p) => p.steps === 2 || p.steps === 3));
  for (const p of test) {
    const ids = task.tokenizer.encode(p.prompt + p.target);
    assert(ids.length <= task.seqLen, `${ids.length} > ${task.seqLen}`);
  }
  // The longest case fits exactly: 7 steps + 1 distractor, all branches.
  assertEquals(task.seqLen, 4 + 6 * 8 + 3 + 1);
  assertEquals(task.name, "chain-2-3-test-2-7-d1");
});

Deno.test("chain: the tokenizer round-trips every problem; 44 ids", () => {
  assertEquals(CHAIN_TOKENIZER.vocabSize, 44);
  for (const p of draw("test", 200, 6, { ops: ["+", "-", "*"] })) {
    const text = p.prompt + p.target;
    const ids = CHAIN_TOKENIZER.encode(text);
    assertEquals(CHAIN_TOKENIZER.decode([...ids, CHAIN_TOKENIZER.eosId, 3]), text);
    assert(ids.every((id) => id < CHAIN_TOKENIZER.padId));
  }
  const task = chainTask();
  const [p] = task.sample("train", 1, 1);
  assert(task.isCorrect(p, p.target));
  assert(!task.isCorrect(p, String((Number(p.target) + 1) % 10)));
  assert(!task.isCorrect(p, p.target + "0"));
});

Deno.test("chain: bad options are errors naming them", () => {
  assertThrows(() => chainTask({ stepsMin: 3, stepsMax: 2 }), Error, "stepsMin");
  assertThrows(() => chainTask({ stepsMax: 20, distractors: 6 }), Error, "letters");
  assertThrows(() => chainTask({ ops: [] }), Error, "ops");
});

Deno.test("chain config: keys with defaults, taskOf, checks only for the chain task", () => {
  const c = resolveConfig({ task: "chain", chain_steps_max: 3, chain_test_steps_max: 6 });
  const task = taskOf(c);
  assertEquals(task.name, "chain-1-3-test-1-6-d2");
  assertEquals(modelConfigOf(c, task).vocab_size, 44);
  assertEquals(modelConfigOf(c, task).max_seq_len, task.seqLen);
  assertEquals(taskOf(resolveConfig({ task: "chain" })).name, "chain-1-4-d2");
  assertEquals(
    heldOutProblems({ ...c, eval_size: 50 }, task).map((p) => (p as ChainProblem).steps)
      .filter((s) => s > 3).length > 0,
    true,
  );
  assertEquals(trainBatch({ ...c, batch_size: 4 }, 0, task).inputs.length, 4 * task.seqLen);
  assertThrows(
    () => resolveConfig({ task: "chain", chain_steps_min: 5, chain_steps_max: 4 }),
    ConfigError,
    "chain_steps_min",
  );
  assertThrows(
    () => resolveConfig({ task: "chain", chain_steps_max: 20, chain_distractors: 10 }),
    ConfigError,
    "chain_distractors",
  );
  // Other tasks ignore the chain keys (and keep their own defaults).
  assertEquals(
    taskOf(resolveConfig({ chain_steps_min: 5, chain_steps_max: 4 })).name,
    "addition-4",
  );
  assertEquals(DEFAULT_CONFIG.task, "addition");
});

Deno.test({
  name: "chain training: a few steps run from the config",
  ignore: BACKEND !== "wasm",
  fn: async () => {
    const r = await train({
      task: "chain",
      chain_steps_max: 2,
      d_model: 16,
      n_heads: 2,
      d_ff: 32,
      steps: 2,
      batch_size: 4,
      eval_size: 4,
      eval_every: 0,
      checkpoint_every: 0,
    });
    try {
      assertEquals(r.status, "done");
      assert(Number.isFinite(r.last!.loss));
      assertEquals(r.model.config.vocab_size, 44);
    } finally {
      r.model.dispose();
    }
  },
});

Deno.test({
  name: "resume: a checkpoint saved before the chain keys existed resumes (their defaults)",
  ignore: BACKEND !== "wasm",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "chain-resume-" });
    const config = {
      digits: 2,
      d_model: 16,
      n_heads: 2,
      d_ff: 32,
      batch_size: 4,
      eval_size: 4,
      eval_every: 0,
      checkpoint_every: 0,
    };
    try {
      (await train({ ...config, steps: 2 }, { outDir: dir })).model.dispose();
      // As an older toolkit wrote it: no chain_* keys in the saved config.
      const path = `${dir}/checkpoint.json`;
      const manifest = JSON.parse(await Deno.readTextFile(path));
      for (const k of Object.keys(manifest.config)) {
        if (k.startsWith("chain_")) delete manifest.config[k];
      }
      await Deno.writeTextFile(path, JSON.stringify(manifest));
      // The finished run is reported again (before, it was "trained with different chain_*").
      const r = await train({ ...config, steps: 2 }, { outDir: dir });
      r.model.dispose();
      assertEquals([r.status, r.step], ["done", 2]);
      // A key the checkpoint has, changed, is still refused.
      await assertRejects(
        () => train({ ...config, steps: 2, lr: 1e-2 }, { outDir: dir }),
        ConfigError,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("chain order: ordered writes each definition after the one it reads; same problems", () => {
  const opts = { ops: ["+", "-", "*"] as const, distractors: 3 };
  const ordered = draw("train", 800, 6, { ...opts, order: "ordered" });
  for (const p of ordered) {
    const q = parse(p.prompt);
    assertEquals(String(q.value(q.query)), p.answer, p.prompt);
    assertEquals(q.depth(q.query), p.steps, p.prompt);
    const defs = p.prompt.slice(0, p.prompt.lastIndexOf(";")).split(";");
    const seen = new Set<string>();
    for (const def of defs) {
      const ref = /^[a-z]=([a-z])/.exec(def)?.[1];
      assert(ref === undefined || seen.has(ref), `${def} before ${ref}'s definition: ${p.prompt}`);
      seen.add(def[0]);
    }
  }
  // The order is drawn after the structure: a draw's first problem is the same problem.
  const [first] = draw("train", 1, 6, opts);
  assertEquals([ordered[0].key, ordered[0].answer], [first.key, first.answer]);
  assertNotEquals(ordered[0].prompt, first.prompt);
  for (const p of draw("test", 300, 6, { ...opts, order: "ordered" })) {
    assert(!new Set(ordered.map((q) => q.key)).has(p.key), "a test structure in training");
  }
  assertEquals(resolveConfig({}).chain_order, "shuffled");
  assertEquals(
    (taskOf(resolveConfig({ task: "chain", chain_order: "ordered" })).sample(
      "train",
      1,
      1,
    )[0] as ChainProblem).prompt,
    draw("train", 1, 1, { order: "ordered" })[0].prompt,
  );
  assertThrows(() => resolveConfig({ chain_order: "sorted" }), ConfigError, "chain_order");
});

Deno.test("chain_ops: +-* draws multiplications by 3, 7 or 9; the default only + and -", () => {
  const opsOf = (chain_ops: "+-" | "+-*") =>
    new Set(
      (taskOf(resolveConfig({ task: "chain", chain_ops })).sample(
        "train",
        2,
        300,
      ) as ChainProblem[])
        .flatMap((p) => p.structure.steps.map((s) => `${s.op}${s.op === "*" ? s.operand : ""}`)),
    );
  const withMul = opsOf("+-*");
  for (const m of ["*3", "*7", "*9"]) assert(withMul.has(m), m);
  assertEquals([...opsOf("+-")].sort(), ["+", "-"]);
  assertThrows(() => resolveConfig({ chain_ops: "*" }), ConfigError, "chain_ops");
});

Deno.test("chain questions: the last link first, then other variables, answers from the prompt", () => {
  const plain = draw("train", 300, 6);
  const asked = draw("train", 300, 6, { questions: 0 });
  const three = draw("train", 300, 6, { questions: 3 });
  for (const [i, p] of asked.entries()) {
    const q = parse(p.prompt);
    // The first question is the one a single-question problem asks.
    assertEquals(String(q.value(q.query)), p.target, p.prompt);
    assertEquals(p.followUps?.length, q.defs.size - 1, p.prompt);
    const names = p.followUps!.map((f) => {
      const m = /^;\?([a-z])=$/.exec(f.prompt);
      assert(m, f.prompt);
      assertEquals(f.target, String(q.value(m[1])), `${p.prompt} ${f.prompt}`);
      return m[1];
    });
    // Every other variable once; never the first question again.
    assertEquals(new Set(names).size, names.length);
    assert(!names.includes(q.query));
    assertEquals(three[i].followUps?.length, 2);
    // Follow-ups are drawn after the problem: the same problems as one question.
    assertEquals(three[i].prompt, plain[i].prompt);
    assertEquals(p.prompt, plain[i].prompt);
  }
  assertEquals(plain[0].followUps, undefined);
  // Orders vary: the first follow-up is not always the same kind of variable.
  assert(new Set(asked.map((p) => p.followUps![0].target)).size > 5);
});

Deno.test("chain questions: test problems ask one; seqLen covers the longest training row", () => {
  const task = chainTask({ stepsMax: 4, distractors: 2, questions: 0 });
  assertEquals(task.name, "chain-1-4-d2-q0");
  for (const p of task.sample("test", 1, 100)) assertEquals(p.followUps, undefined);
  const rows = task.sample("train", 1, 400);
  assert(rows.every((p) => p.followUps !== undefined));
  const longest = Math.max(
    ...rows.map((p) =>
      (p.prompt + p.target + p.followUps!.map((f) => f.prompt + f.target).join("")).length
    ),
  );
  assertEquals(task.seqLen, longest); // the EOS is the last target: rows need length exactly
  assertEquals(task.seqLen, 4 + 6 * 6 + 4 + 5 * 6);
  assertThrows(() => chainTask({ questions: -1 }), Error, "questions");
  assertThrows(() => resolveConfig({ chain_questions: 27 }), ConfigError, "chain_questions");
});

Deno.test("chain questions: each follow-up's answer and the EOS are scored, not its question", () => {
  const c = resolveConfig({ task: "chain", chain_questions: 3, chain_distractors: 1 });
  const task = taskOf(c);
  const batch = trainBatch({ ...c, batch_size: 2 }, 0, task);
  const [p] = task.sample("train", 0, 1); // not the batch's draw: only the layout matters
  assert(p.followUps?.length === 2);
  for (let r = 0; r < 2; r++) {
    const row = Array.from(batch.targets.subarray(r * task.seqLen, (r + 1) * task.seqLen));
    const mask = Array.from(batch.mask.subarray(r * task.seqLen, (r + 1) * task.seqLen));
    const text = CHAIN_TOKENIZER.decode(row.filter((id) => id !== CHAIN_TOKENIZER.eosId));
    // Scored: the three one-digit answers and the EOS, nothing else.
    const scored = row.filter((_, t) => mask[t] === 1);
    assertEquals(scored.length, 4, text);
    assertEquals(scored[3], CHAIN_TOKENIZER.eosId);
    for (const id of scored.slice(0, 3)) assert(id >= 0 && id <= 9, text);
    // Each scored digit follows an "=" of a question.
    const inputs = Array.from(batch.inputs.subarray(r * task.seqLen, (r + 1) * task.seqLen));
    mask.forEach((m, t) => {
      if (m === 1 && row[t] !== CHAIN_TOKENIZER.eosId) {
        assertEquals(CHAIN_TOKENIZER.decode([inputs[t]]), "=");
        assertEquals(CHAIN_TOKENIZER.decode([inputs[t - 2]]), "?");
      }
    });
  }
});

Deno.test("max_seq_len: 0 is the task's need; more keeps a bigger shape; fewer is an error", () => {
  const c = resolveConfig({ task: "chain" });
  const need = taskOf(c).seqLen;
  assertEquals(modelConfigOf(c).max_seq_len, need);
  assertEquals(modelConfigOf({ ...c, max_seq_len: need + 50 }).max_seq_len, need + 50);
  // The batches stay as long as the task needs.
  assertEquals(trainBatch({ ...c, max_seq_len: need + 50, batch_size: 2 }, 0).seqLen, need);
  assertThrows(() => modelConfigOf({ ...c, max_seq_len: need - 1 }), ConfigError, "max_seq_len");
  assertThrows(() => resolveConfig({ max_seq_len: -1 }), ConfigError, "max_seq_len");
});

Deno.test("chain hidden answers: every answer still predicted, but read back as PAD", () => {
  const hidden = resolveConfig({
    task: "chain",
    chain_questions: 0,
    chain_distractors: 1,
    chain_hide_answers: true,
  });
  const task = taskOf(hidden);
  assertEquals(task.name, "chain-1-4-d1-q0-hidden");
  const rows = task.sample("train", 5, 40) as ChainProblem[];
  assert(rows.some((p) => p.answersHidden === true));
  // The same rows with their answers shown: same targets and mask; the inputs
  // differ only at answers, and not at a row's last one (only EOS follows it).
  const shownRows = rows.map(({ answersHidden: _, ...p }) => p);
  const b = encodeBatch(rows, CHAIN_TOKENIZER, task.seqLen);
  const a = encodeBatch(shownRows, CHAIN_TOKENIZER, task.seqLen);
  assertEquals(a.targets, b.targets);
  assertEquals(a.mask, b.mask);
  const pad = CHAIN_TOKENIZER.padId, eos = CHAIN_TOKENIZER.eosId;
  let hiddenCount = 0;
  for (let t = 0; t < a.inputs.length; t++) {
    const isAnswer = t % a.seqLen !== 0 && a.mask[t - 1] === 1 && a.targets[t - 1] !== eos;
    const last = isAnswer && a.targets[t] === eos;
    if (isAnswer && !last) {
      hiddenCount++;
      assertEquals(b.inputs[t], pad);
      assertEquals(a.inputs[t], a.targets[t - 1]); // shown: the answer itself
    } else assertEquals(b.inputs[t], a.inputs[t]);
  }
  assert(hiddenCount >= 20, `${hiddenCount}`);
  // Test problems are untouched.
  for (const p of task.sample("test", 1, 20)) assertEquals(p.answersHidden, undefined);
  // Rows ask a random number of follow-ups, none included (then the row ends after its answer).
  const counts = new Set(
    (task.sample("train", 2, 300) as ChainProblem[]).map((p) => p.followUps?.length ?? 0),
  );
  for (const k of [0, 1, 2, 3]) assert(counts.has(k), `no row with ${k} follow-ups`);
});
