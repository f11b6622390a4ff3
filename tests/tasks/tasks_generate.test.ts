import {
  assert,
  assertEquals,
  assertGreater,
  assertLess,
  assertNotEquals,
  assertThrows,
} from "@std/assert";
import { generateProblems, makeProblem, type Problem, splitOf } from "../../tasks/mod.ts";

const pairs = (ps: Problem[]) => ps.map((p) => `${p.a},${p.b}`);

Deno.test("generate: deterministic per seed, seeds differ", () => {
  const o = { digits: 4, count: 50, split: "train" } as const;
  const a = generateProblems({ ...o, seed: 1 });
  assertEquals(a, generateProblems({ ...o, seed: 1 }));
  assertNotEquals(pairs(a), pairs(generateProblems({ ...o, seed: 2 })));
  assertEquals(a.length, 50);
  for (const p of a) {
    assert(p.a >= 1000 && p.a <= 9999 && p.b >= 1000 && p.b <= 9999);
    assertEquals(p, makeProblem(p.a, p.b));
  }
});

Deno.test("generate: train and test are disjoint on a large draw", () => {
  const train = generateProblems({
    digits: 2,
    count: 20000,
    seed: 3,
    split: "train",
  });
  const test = generateProblems({
    digits: 2,
    count: 20000,
    seed: 4,
    split: "test",
  });
  const trainSet = new Set(pairs(train));
  const testSet = new Set(pairs(test));
  for (const k of testSet) assert(!trainSet.has(k), k);
  // 8100 pairs: both splits are nearly exhausted, and about 10% are test.
  assertGreater(trainSet.size, 6500);
  assertGreater(testSet.size, 500);
  assertLess(testSet.size, 1100);
  for (const p of test) assertEquals(splitOf(p.a, p.b), "test");
});

Deno.test("generate: 1 digit uses 0-9, unique draws exhaust the split", () => {
  const all = generateProblems({
    digits: 1,
    count: 10,
    seed: 5,
    split: "train",
    testFraction: 0,
    unique: true,
  });
  assertEquals(new Set(pairs(all)).size, 10);
  const many = generateProblems({
    digits: 1,
    count: 2000,
    seed: 5,
    split: "train",
    testFraction: 0,
  });
  assertEquals(Math.min(...many.map((p) => p.a)), 0);
  assertEquals(Math.max(...many.map((p) => p.b)), 9);
  assertThrows(
    () =>
      generateProblems({
        digits: 1,
        count: 101,
        seed: 5,
        split: "train",
        testFraction: 0,
        unique: true,
      }),
    Error,
    "found only 100 of 101",
  );
});

Deno.test("generate: exclusions, multiplication and no reversal", () => {
  const exclude = [{ a: 5, b: 7 }];
  const ps = generateProblems({
    digits: 1,
    count: 500,
    seed: 6,
    split: "train",
    testFraction: 0,
    exclude,
    op: "*",
    reverse: false,
  });
  assert(!pairs(ps).includes("5,7"));
  for (const p of ps) {
    assertEquals(p.prompt, `${p.a}*${p.b}=`);
    assertEquals(p.target, ` ${p.a * p.b}`);
  }
});
