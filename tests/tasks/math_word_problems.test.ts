import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  answersMatch,
  generateWordProblems,
  loadMathJsonl,
  mathTask,
  parseMathJsonl,
  toGsm8kJsonl,
  type WordProblem,
  type WordProblemStructure,
  wordSplitOf,
} from "../../tasks/math/mod.ts";

// Our own evaluation of a structure, independent of the generator's.
function evaluate(s: WordProblemStructure): number[] {
  const q = [s.start];
  for (const st of s.steps) {
    const x = "ref" in st.right ? q[st.right.ref] : st.right.value;
    const a = q[q.length - 1];
    const r = { "+": a + x, "-": a - x, "*": a * x, "/": a / x }[st.op];
    q.push(r);
  }
  return q;
}

const many = (split: "train" | "validation" | "test", steps: [number, number], count = 400) =>
  generateWordProblems({ count, seed: 7, split, stepsMin: steps[0], stepsMax: steps[1] });

Deno.test("word problems: answers recomputed from the structure; integers in range", () => {
  const opsSeen = new Set<string>();
  for (const p of many("train", [1, 6], 1500)) {
    const q = evaluate(p.structure);
    assertEquals(p.answer, q[q.length - 1], p.key);
    for (const v of q) assert(Number.isInteger(v) && v >= 0 && v <= 100, `${p.key}: ${v}`);
    p.structure.steps.forEach((st, i) => {
      opsSeen.add(st.op + ("ref" in st.right ? "q" : ""));
      if ("ref" in st.right) assert(st.right.ref < i, `${p.key}: ref to a later quantity`);
      if (st.op === "/") assert("value" in st.right && st.right.value >= 2);
    });
  }
  assertEquals([...opsSeen].sort(), ["*", "+", "+q", "-", "-q", "/"]);
});

Deno.test("word problems: the text states every given number, the solution checks out", () => {
  for (const p of many("train", [1, 5], 500)) {
    // Given numbers appear in the question in order.
    const given = [
      p.structure.start,
      ...p.structure.steps.flatMap((s) => "value" in s.right ? [s.right.value] : []),
    ];
    const inText = (p.question.match(/\d+/g) ?? []).map(Number);
    assertEquals(inText, given, p.question);
    // One solution line per step; each "a op b = c" is true arithmetic and chains.
    assertEquals(p.solutionLines.length, p.structure.steps.length);
    const q = evaluate(p.structure);
    p.solutionLines.forEach((line, i) => {
      const m = /(\d+) ([-+*/]) (\d+) = (\d+)/.exec(line);
      assert(m, line);
      const [a, op, b, c] = [Number(m[1]), m[2], Number(m[3]), Number(m[4])];
      assertEquals(a, q[i], line);
      assertEquals(c, q[i + 1], line);
      assertEquals(
        evaluate({ start: a, steps: [{ op: op as "+", right: { value: b } }] })[1],
        c,
        line,
      );
    });
    assert(/\?$/.test(p.question), p.question);
  }
}); // deno-fmt-ignore

Deno.test("word problems: the terse style has the same arithmetic, shorter text", () => {
  const terse = generateWordProblems({ count: 300, seed: 5, split: "train", stepsMin: 1, stepsMax: 4, style: "terse" });
  for (const p of terse) {
    const q = evaluate(p.structure);
    assertEquals(p.answer, q[q.length - 1], p.key);
    const given = [p.structure.start, ...p.structure.steps.flatMap((s) => "value" in s.right ? [s.right.value] : [])];
    assertEquals((p.question.match(/\d+/g) ?? []).map(Number), given, p.question);
    assert(/^[A-Z] has \d+\./.test(p.question) && p.question.endsWith("?"), p.question);
  }
  const longest = Math.max(...terse.map((p) => p.question.length));
  assert(longest < 130, `${longest}`);
}); // deno-fmt-ignore

Deno.test("word problems: difficulty is the step count", () => {
  const counts = new Map<number, number>();
  for (const p of many("train", [2, 4], 600)) {
    const n = p.structure.steps.length;
    counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  assertEquals([...counts.keys()].sort(), [2, 3, 4]);
  for (const n of [1, 3, 7]) {
    for (const p of many("test", [n, n], 30)) assertEquals(p.structure.steps.length, n);
  }
});

Deno.test("word problems: seeded, and splits never share a structure", () => {
  assertEquals(many("train", [2, 3], 50), many("train", [2, 3], 50));
  const other = generateWordProblems({
    count: 50,
    seed: 8,
    split: "train",
    stepsMin: 2,
    stepsMax: 3,
  });
  assert(JSON.stringify(other) !== JSON.stringify(many("train", [2, 3], 50)));
  const keys = (ps: WordProblem[]) => new Set(ps.map((p) => p.key));
  const small = { maxValue: 9, stepsMin: 2, stepsMax: 2, count: 3000 };
  const train = keys(generateWordProblems({ ...small, seed: 1, split: "train" }));
  const val = keys(generateWordProblems({ ...small, seed: 2, split: "validation" }));
  const test = keys(generateWordProblems({ ...small, seed: 3, split: "test" }));
  for (const k of val) assert(!train.has(k) && !test.has(k), k);
  for (const k of test) assert(!train.has(k), k);
  assert(
    train.size > 300 && val.size > 30 && test.size > 30,
    `${train.size} ${val.size} ${test.size}`,
  );
  for (const k of test) assertEquals(wordSplitOf(k), "test");
  // The shares are roughly as asked (10% test, 10% validation).
  const all = generateWordProblems({ count: 4000, seed: 4, split: "train", stepsMin: 3 });
  assertEquals(all.every((p) => wordSplitOf(p.key) === "train"), true);
  const keysOf = new Set<string>();
  let held = 0;
  for (let i = 0; i < 4000; i++) {
    const k = `${i}|+${i % 17}|*2`;
    keysOf.add(k);
    if (wordSplitOf(k) !== "train") held++;
  }
  assert(held > 650 && held < 950, `${held} of 4000 held out`);
});

Deno.test("word problems: unique draws, and a clear error when a split runs out", () => {
  const ps = generateWordProblems({
    count: 100,
    seed: 1,
    split: "test",
    unique: true,
    maxValue: 9,
  });
  assertEquals(new Set(ps.map((p) => p.key)).size, 100);
  assertThrows(
    () => generateWordProblems({ count: 5000, seed: 1, split: "test", unique: true, maxValue: 9 }),
    Error,
    "found only",
  );
});

Deno.test("word problems: a test set with more steps than training, disjoint from it", () => {
  const task = mathTask({ stepsMin: 2, stepsMax: 3, testStepsMin: 4, testStepsMax: 5 });
  const train = task.sample("train", 1, 500);
  const test = task.sample("test", 2, 200, true);
  assert(train.every((p) => p.steps! >= 2 && p.steps! <= 3));
  assert(test.every((p) => p.steps! >= 4 && p.steps! <= 5));
  assertEquals(new Set(test.map((p) => p.steps)).size, 2);
  const trainQ = new Set(train.map((p) => p.question));
  assert(test.every((p) => !trainQ.has(p.question)));
  // Validation keeps the training step range.
  assert(task.sample("validation", 3, 100).every((p) => p.steps! <= 3));
});

Deno.test("word problems: GSM8K output goes through the GSM8K loader and checker", async () => {
  const ps = many("test", [4, 6], 40);
  const text = toGsm8kJsonl(ps);
  const items = parseMathJsonl(text, "synthetic.jsonl", { format: "gsm8k" });
  assertEquals(items.length, 40);
  items.forEach((item, i) => {
    assertEquals(item.question, ps[i].question);
    assertEquals(item.solution, ps[i].solutionLines.join("\n"));
    assert(answersMatch(item.answer, String(ps[i].answer)));
  });
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  await Deno.writeTextFile(path, text);
  assertEquals(await loadMathJsonl(path), items);
  await Deno.remove(path);
});
