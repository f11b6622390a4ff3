import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { encodeBatch, encodePrompts } from "../../tasks/batch.ts";
import {
  isMathTask,
  loadMathDataTaskSync,
  loadMathJsonlSync,
  mathDataTask,
  mathTask,
  parseMathJsonl,
} from "../../tasks/math/mod.ts";
import { arithmeticTask } from "../../tasks/arithmetic_task.ts";

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url).pathname;

Deno.test("math task: prompt, short target, checker", () => {
  const task = mathTask({ stepsMin: 2, stepsMax: 3 });
  assertEquals(task.name, "gsm8k-synthetic-2-3");
  assertEquals(task.tokenizer.vocabSize, 98);
  const ps = task.sample("train", 1, 50);
  for (const p of ps) {
    assert(p.prompt.endsWith("?\nA:"), p.prompt);
    assertEquals(p.target, ` ${p.answer}`);
    assert(task.isCorrect(p, p.target));
    assert(task.isCorrect(p, `${p.answer}.00`));
    assert(!task.isCorrect(p, ` ${Number(p.answer) + 1}`));
    assert(!task.isCorrect(p, ""));
  }
  assertEquals(task.sample("train", 1, 50), ps);
  assert(isMathTask(task));
  assert(!isMathTask(arithmeticTask({ digits: 2 })));
});

Deno.test("math task: seqLen fits every problem of every split, char and BPE", () => {
  for (const tokenizer of ["char", "bpe"] as const) {
    for (const target of ["answer", "solution"] as const) {
      const task = mathTask({ stepsMin: 1, stepsMax: 4, testStepsMax: 6, tokenizer, target });
      for (const split of ["train", "validation", "test"] as const) {
        const ps = task.sample(split, 3, 300);
        const b = encodeBatch(ps, task.tokenizer, task.seqLen); // throws if a row does not fit
        assertEquals(b.seqLen, task.seqLen);
        // The loss mask covers exactly the target and EOS.
        const maskSum = b.mask.reduce((a, x) => a + x, 0);
        const want = ps.reduce((a, p) => a + task.tokenizer.encode(p.target).length + 1, 0);
        assertEquals(maskSum, want);
      }
    }
  }
  // The bound is not loose: the longest of many 2-step problems comes near it.
  const task = mathTask({ stepsMin: 2, stepsMax: 2 });
  const ps = task.sample("train", 4, 3000);
  const longest = Math.max(...ps.map((p) => (p.prompt + p.target).length));
  assert(longest <= task.seqLen && longest > 0.85 * task.seqLen, `${longest} of ${task.seqLen}`);
});

Deno.test("math task: the whole solution as target, checked on its #### line", () => {
  const task = mathTask({ stepsMin: 2, stepsMax: 2, target: "solution" });
  const [p] = task.sample("train", 5, 1);
  assert(p.target.startsWith(" ") && p.target.endsWith(`\n#### ${p.answer}`), p.target);
  assertEquals(p.target.split("\n").length, 3);
  assert(task.isCorrect(p, p.target));
  assert(task.isCorrect(p, `whatever\n#### ${p.answer}`));
  assert(!task.isCorrect(p, `${p.answer}\n#### ${Number(p.answer) + 1}`));
});

Deno.test("math task: a task over a loaded file, disjoint hash splits", () => {
  const items = loadMathJsonlSync(fixture("math_gsm8k.jsonl"), { skipMalformed: true });
  const task = mathDataTask(items, { splits: "all", file: "g.jsonl" });
  const ps = task.sample("test", 1, 4, true);
  assertEquals(ps.map((p) => p.line).sort(), [1, 2, 4, 7]);
  const p4 = ps.find((p) => p.line === 4)!;
  assertEquals(p4.target, " 5000");
  assert(task.isCorrect(p4, " 5,000"));
  assertEquals(task.seqLen, Math.max(...ps.map((p) => (p.prompt + p.target).length)));
  encodeBatch(ps, task.tokenizer, task.seqLen);
  assertThrows(() => task.sample("test", 1, 5, true), Error, "has 4 problems, 5 asked");

  // Hash splits: a question is in exactly one split.
  const many = Array.from({ length: 200 }, (_, i) => ({
    format: "prompt_answer" as const,
    question: `What is ${i} + 1?`,
    solution: "",
    answer: String(i + 1),
    line: i + 1,
  }));
  const hashed = mathDataTask(many);
  const bySplit = (["train", "validation", "test"] as const).map((s) =>
    new Set(hashed.sample(s, 1, 1000).map((p) => p.line))
  );
  const sizes = bySplit.map((s) => s.size);
  assertEquals(sizes[0] + sizes[1] + sizes[2], 200, String(sizes));
  assert(sizes[1] > 5 && sizes[2] > 5, String(sizes));
});

Deno.test("math task: loaded text outside ASCII grows the char vocabulary; BPE works as is", () => {
  const text = `{"prompt":"Café: 3 € each, 2 bought — total?","answer":"6 €"}\n` +
    `{"prompt":"What is 1/2 as a decimal?","answer":"0.5"}\n`;
  const items = parseMathJsonl(text, "u.jsonl");
  const char = mathDataTask(items, { splits: "all" });
  assertEquals(char.tokenizer.vocabSize, 98 + 3); // é, €, —
  assertEquals([char.tokenizer.padId, char.tokenizer.eosId], [96, 97]);
  const bpe = mathDataTask(items, { splits: "all", tokenizer: "bpe" });
  assertEquals(bpe.tokenizer.vocabSize, 50258);
  for (const task of [char, bpe]) {
    const ps = task.sample("train", 1, 2, true);
    const b = encodePrompts(ps, task.tokenizer);
    assert(b.prompts.every((ids) => ids.length <= task.seqLen));
    const first = ps.find((p) => p.line === 1)!;
    assertEquals(first.target, " 6");
    assert(
      task.isCorrect(
        first,
        task.tokenizer.decode([...task.tokenizer.encode(" 6"), task.tokenizer.eosId]),
      ),
    );
  }
});

Deno.test("math task: problems from another file must fit the task, errors name the line", async () => {
  const task = mathTask({ stepsMin: 2, stepsMax: 2 });
  const ok = await task.load(fixture("math_prompt_answer.jsonl"), { skipMalformed: true });
  assertEquals(ok.map((p) => p.target), [" 4", " 5", " 3/2", " 1000"]);
  const long = `{"prompt":"${"x".repeat(task.seqLen)}","answer":"1"}\n`;
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  await Deno.writeTextFile(path, `{"prompt":"ok","answer":"1"}\n${long}`);
  await assertRejects(() => task.load(path), Error, `${path}:2: needs`);
  await Deno.writeTextFile(path, `{"prompt":"tab\\there","answer":"1"}\n`);
  await assertRejects(() => task.load(path), Error, `${path}:1: unknown character`);
  await Deno.remove(path);
  const fileTask = loadMathDataTaskSync(fixture("math_math.jsonl"), {
    skipMalformed: true,
    splits: "all",
  });
  assertEquals(fileTask.name, "math-data-math_math.jsonl");
  const half = fileTask.sample("test", 1, 5, true).find((p) => p.line === 1)!;
  assertEquals(half.target, " 3/4");
  assert(fileTask.isCorrect(half, " 0.75"));
  assertThrows(() => loadMathDataTaskSync(fixture("math_math.jsonl")), Error, "math_math.jsonl:5:");
});
