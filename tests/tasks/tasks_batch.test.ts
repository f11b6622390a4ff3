import { assertEquals, assertThrows } from "@std/assert";
import {
  ARITHMETIC_TOKENIZER,
  arithmeticTask,
  encodeBatch,
  encodePrompts,
  EOS_ID,
  generateProblems,
  makeProblem,
  maxSeqLen,
  MULTIPLICATION_TOKENIZER,
  PAD_ID,
} from "../../tasks/mod.ts";

const A = ARITHMETIC_TOKENIZER;

const P = PAD_ID;
const E = EOS_ID;

Deno.test("batch: hand-checked rows and loss mask", () => {
  // 1234+5678= 2196<eos>: 16 tokens, 15 positions, padded to 16.
  // 9999+9999= 89991<eos>: 17 tokens, 16 positions.
  const b = encodeBatch([makeProblem(1234, 5678), makeProblem(9999, 9999)], A);
  assertEquals([b.batch, b.seqLen], [2, 16]);
  assertEquals(b.promptLengths, [10, 10]);
  const row = (a: ArrayLike<number>, i: number) => Array.from(a).slice(i * 16, i * 16 + 16);
  assertEquals(row(b.inputs, 0), [
    1,
    2,
    3,
    4,
    10,
    5,
    6,
    7,
    8,
    11,
    12,
    2,
    1,
    9,
    6,
    P,
  ]);
  assertEquals(row(b.targets, 0), [
    2,
    3,
    4,
    10,
    5,
    6,
    7,
    8,
    11,
    12,
    2,
    1,
    9,
    6,
    E,
    P,
  ]);
  // The mask covers the targets " ", 2, 1, 9, 6, EOS: positions 9-14.
  assertEquals(row(b.mask, 0), [
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
    1,
    1,
    1,
    1,
    1,
    0,
  ]);
  assertEquals(row(b.targets, 1).slice(9), [12, 8, 9, 9, 9, 1, E]);
  assertEquals(row(b.mask, 1), [
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
  ]);
});

Deno.test("batch: the arithmetic task's seqLen is 16 for any 4-digit addition batch", () => {
  const task = arithmeticTask({ digits: 4 });
  const ps = generateProblems({ digits: 4, count: 64, seed: 1, split: "test" });
  assertEquals(task.seqLen, 16);
  assertEquals(encodeBatch(ps, A, task.seqLen).seqLen, 16);
  // Even when no sum has 5 digits: the shape, not the sums, sets it.
  assertEquals(maxSeqLen(makeProblem(1000, 1000)), 16);
  assertEquals(encodeBatch([makeProblem(1000, 1000)], A, task.seqLen).seqLen, 16);
  // Without a seqLen, a batch is as long as its longest row: "1000+1000= 0002" + EOS, less 1.
  assertEquals(encodeBatch([makeProblem(1000, 1000)], A).seqLen, 15);
  // "3+4=" + space + up to 2 digits (9+9=18) + EOS, less 1.
  assertEquals(maxSeqLen(makeProblem(3, 4)), 7);
});

Deno.test("batch: explicit seqLen pads, too short is an error", () => {
  const p = makeProblem(1234, 5678);
  const b = encodeBatch([p], ARITHMETIC_TOKENIZER, 20);
  assertEquals(b.seqLen, 20);
  assertEquals(Array.from(b.inputs.slice(15)), [P, P, P, P, P]);
  assertEquals(Array.from(b.mask).reduce((s, x) => s + x, 0), 6);
  assertEquals(encodeBatch([p], ARITHMETIC_TOKENIZER, 15).seqLen, 15);
  assertThrows(
    () => encodeBatch([p], ARITHMETIC_TOKENIZER, 14),
    Error,
    "seqLen 14 is too short",
  );
  assertThrows(() => encodeBatch([], A), Error);
});

Deno.test("batch: multiplication needs its tokenizer", () => {
  const p = makeProblem(12, 34, "*");
  assertThrows(() => encodeBatch([p], A), Error, '"*"');
  const b = encodeBatch([p], MULTIPLICATION_TOKENIZER, maxSeqLen(p));
  assertEquals(b.seqLen, 11); // 12*34= + space + up to 4 digits + EOS, less 1
  assertEquals(Array.from(b.inputs.slice(0, 3)), [1, 2, 15]);
});

Deno.test("batch: prompts for greedy decoding", () => {
  const e = encodePrompts([makeProblem(1234, 5678), makeProblem(9999, 9999)], A);
  assertEquals(e.prompts[0], [1, 2, 3, 4, 10, 5, 6, 7, 8, 11]);
  assertEquals(e.answerLengths, [6, 7]);
});
