import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import {
  loadArithmeticJsonl,
  makeProblem,
  parseArithmeticJsonl,
  reverseString,
} from "../../tasks/mod.ts";

const PAPER_FILE = new URL(
  "../../data/stars_addition_test_4digit.jsonl",
  import.meta.url,
);

Deno.test("paper data: the 4-digit test file matches our format", async () => {
  const problems = await loadArithmeticJsonl(PAPER_FILE);
  assertEquals(problems.length, 5076);
  const lines = (await Deno.readTextFile(PAPER_FILE)).trim().split("\n");
  lines.forEach((line, i) => {
    const rec = JSON.parse(line);
    const p = problems[i];
    assertEquals([p.a, p.b], [rec.num1, rec.num2]);
    // The file's answer is the plain sum; our target is it reversed.
    assertEquals(p.target, " " + reverseString(String(rec.answer)));
    assertEquals(p, makeProblem(rec.num1, rec.num2));
    assert(p.a >= 1000 && p.a <= 9999 && p.b >= 1000 && p.b <= 9999);
  });
  assertEquals(problems[0].prompt, "1750+4733=");
  assertEquals(problems[0].target, " 3846");
});

const GOOD = '{"num1": 12, "num2": 34, "sum": 46, "expression": "12 + 34", "answer": 46}';

function errorOf(text: string): string {
  return assertThrows(() => parseArithmeticJsonl(text, "data.jsonl"), Error).message;
}

Deno.test("paper data: blank lines are fine", () => {
  const ps = parseArithmeticJsonl(`${GOOD}\r\n\n${GOOD}\n\n`, "x");
  assertEquals(ps.map((p) => p.target), [" 64", " 64"]);
});

Deno.test("paper data: malformed lines name the file and line", () => {
  const at3 = (bad: string) => errorOf([GOOD, "", bad, GOOD].join("\n"));
  assertEquals(at3("{oops").startsWith("data.jsonl:3: bad JSON"), true);
  assertEquals(at3("[1, 2]"), "data.jsonl:3: line is not a JSON object");
  assertEquals(
    at3(GOOD.replace('"sum": 46', '"sum": "46"')),
    'data.jsonl:3: field "sum" must be a non-negative integer, got "46"',
  );
  assertEquals(
    at3(GOOD.replace('"num2": 34, ', "")),
    'data.jsonl:3: missing field "num2"',
  );
  assertEquals(
    at3(GOOD.replace('"num1": 12', '"num1": 1.5')),
    'data.jsonl:3: field "num1" must be a non-negative integer, got 1.5',
  );
  assertEquals(
    at3(GOOD.replace('"12 + 34"', '"12 + 35"')),
    'data.jsonl:3: expression "12 + 35" does not match num1 12 + num2 34',
  );
  assertEquals(
    at3(GOOD.replace('"12 + 34"', "1234")),
    'data.jsonl:3: field "expression" must be a string',
  );
  assertEquals(
    at3(GOOD.replace('"sum": 46', '"sum": 47').replace("46}", "47}")),
    "data.jsonl:3: sum 47 != num1 + num2 = 46",
  );
  assertEquals(
    at3(GOOD.replace("46}", "64}")),
    "data.jsonl:3: answer 64 != sum 46",
  );
});

Deno.test("paper data: a fixture file reports its path", async () => {
  const url = new URL("../fixtures/tasks_bad.jsonl", import.meta.url);
  const err = await assertRejects(() => loadArithmeticJsonl(url), Error);
  assert(err.message.endsWith("tasks_bad.jsonl:2: sum 5 != num1 + num2 = 4"));
  assert(err.message.includes("/tests/fixtures/"));
});
