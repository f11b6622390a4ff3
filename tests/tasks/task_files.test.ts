import { assert, assertEquals, assertThrows } from "@std/assert";
import { arithmeticTask, makeProblem } from "../../tasks/mod.ts";
import { chainTask } from "../../tasks/chain.ts";
import { mathTask } from "../../tasks/math/math_task.ts";
import { unfitReason } from "../../eval/fit.ts";

const line = (a: number, b: number) =>
  JSON.stringify({ expression: `${a} + ${b}`, num1: a, num2: b, sum: a + b, answer: a + b });

Deno.test("task files: arithmetic reads the paper's lines with their numbers, in its own format", () => {
  const text = `${line(12, 34)}\n\n${line(99, 1)}\n`;
  for (const reverse of [true, false]) {
    const entries = arithmeticTask({ digits: 2, reverse }).parseTestFile!(text, "t.jsonl");
    assertEquals(entries.map((e) => e.line), [1, 3]);
    assertEquals(entries[1].problem, makeProblem(99, 1, "+", { reverse }));
    assertEquals(entries[1].problem!.target, reverse ? " 001" : " 100");
  }
  assertThrows(
    () => arithmeticTask({ digits: 2 }).parseTestFile!(`${line(1, 2)}\n{"num1": 3}\n`, "t.jsonl"),
    Error,
    "t.jsonl:2",
  );
});

Deno.test("task files: unfit names the task's own limits, then the generic ones", () => {
  const add = arithmeticTask({ digits: 2 }), mul = arithmeticTask({ digits: 2, op: "*" });
  assertEquals(unfitReason(add, makeProblem(12, 34)), undefined);
  assert(unfitReason(add, makeProblem(123, 4))!.includes("operand 123 has 3 digits"));
  assert(unfitReason(mul, makeProblem(12, 34))!.includes('trained on "*"'));
  // A task without limits of its own: only the tokenizer and the length.
  const chain = chainTask({ stepsMax: 2, distractors: 0 });
  const [p] = chain.sample("test", 1, 1);
  assertEquals(chain.unfit, undefined);
  assertEquals(unfitReason(chain, p), undefined);
  assert(unfitReason(chain, { ...p, prompt: p.prompt.repeat(5) })!.includes("max_seq_len"));
  assert(unfitReason(chain, { ...p, prompt: "A" + p.prompt }) !== undefined);
});

Deno.test("task files: math reads JSON lines; a line its model cannot take has a reason", () => {
  const task = mathTask({ stepsMin: 2, stepsMax: 2, maxValue: 9 });
  const long = "x".repeat(task.seqLen + 10);
  const text = [
    JSON.stringify({ question: "What is 2 plus 3?", answer: "2+3=5\n#### 5" }),
    JSON.stringify({ question: long, answer: "#### 1" }),
  ].join("\n");
  const entries = task.parseTestFile!(text, "m.jsonl");
  assertEquals(entries.map((e) => e.line), [1, 2]);
  assertEquals(entries[0].problem!.answer, "5");
  assertEquals(entries[1].problem, undefined);
  assert(entries[1].reason!.length > 0 && !entries[1].reason!.startsWith("m.jsonl:2"));
  assertThrows(() => task.parseTestFile!("{not json", "m.jsonl"), Error, "m.jsonl:1");
  // The chain task reads no files.
  assertEquals(chainTask().parseTestFile, undefined);
});
