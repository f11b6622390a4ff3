import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import {
  loadMathJsonl,
  loadMathJsonlSync,
  MathFormatError,
  newLoadStats,
  parseMathJsonl,
  parseMathLine,
  readLines,
  streamMathJsonl,
  streamMathLines,
} from "../../tasks/math/mod.ts";

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url);
const GSM8K = fixture("math_gsm8k.jsonl");
const MATH = fixture("math_math.jsonl");
const GENERIC = fixture("math_prompt_answer.jsonl");

Deno.test("math load: GSM8K fixture, first bad line is an error naming file and line", async () => {
  const err = await assertRejects(() => loadMathJsonl(GSM8K), MathFormatError);
  assertEquals(err.line, 5);
  assertEquals(err.message.startsWith(`${GSM8K.pathname}:5: bad JSON`), true, err.message);
  assertThrows(() => loadMathJsonlSync(GSM8K), MathFormatError, `${GSM8K.pathname}:5: bad JSON`);
});

Deno.test("math load: GSM8K fixture with skipMalformed, every bad line counted", async () => {
  const stats = newLoadStats();
  const items = await loadMathJsonl(GSM8K, { skipMalformed: true, stats });
  assertEquals(items.map((i) => [i.line, i.answer]), [[1, "72"], [2, "10"], [4, "5,000"], [
    7,
    "2",
  ]]);
  assertEquals(stats.skipped.map((e) => e.line), [5, 6]);
  assertEquals(stats.skipped[1].reason, `field "answer" has no final "#### <number>" line`);
  assertEquals([stats.lines, stats.problems, stats.format], [7, 4, "gsm8k"]);
  assertEquals(items[0].format, "gsm8k");
  assertEquals(
    items[0].solution,
    "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n" +
      "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.",
  );
  assertEquals(items[0].question.startsWith("Natalia sold clips"), true);
  // The synchronous parser agrees line for line.
  const sync = loadMathJsonlSync(GSM8K, { skipMalformed: true });
  assertEquals(sync, items);
});

Deno.test("math load: MATH fixture: last \\boxed, nested braces, \\fbox, answer field", async () => {
  const stats = newLoadStats();
  const items = await loadMathJsonl(MATH, { skipMalformed: true, stats });
  assertEquals(
    items.map((i) => [i.line, i.answer]),
    [[1, "\\frac{3}{4}"], [2, "4"], [3, "\\{1,2\\}"], [4, "90^\\circ"], [
      7,
      "\\dfrac{\\sqrt{2}}{2}",
    ]],
  );
  assertEquals(stats.skipped.map((e) => [e.line, e.reason]), [
    [5, `field "solution" has no \\boxed{...} answer`],
    [6, "line is not a JSON object"],
  ]);
  assertEquals(items[0].format, "math");
  await assertRejects(() => loadMathJsonl(MATH), MathFormatError, `${MATH.pathname}:5:`);
});

Deno.test("math load: generic {prompt, answer} fixture", async () => {
  const stats = newLoadStats();
  const items = await loadMathJsonl(GENERIC, { skipMalformed: true, stats });
  assertEquals(items.map((i) => [i.line, i.question, i.answer]), [
    [1, "What is 2+2?", "4"],
    [2, "What is 10% of 50?", "5"],
    [3, "Half of 3?", "3/2"],
    [6, "Price?", "$1,000"],
  ]);
  assertEquals(stats.skipped.map((e) => [e.line, e.reason]), [
    [4, `missing field "answer"`],
    [5, `field "answer" must be a string, got null`],
  ]);
});

Deno.test("math load: explicit format and auto-detection", () => {
  const g = `{"question":"q","answer":"s\\n#### 3"}`;
  const m = `{"problem":"p","solution":"\\\\boxed{2}"}`;
  assertEquals(parseMathLine(g, "f", 1).format, "gsm8k");
  assertEquals(parseMathLine(m, "f", 1).format, "math");
  assertEquals(parseMathLine(`{"prompt":"p","answer":"1"}`, "f", 1).format, "prompt_answer");
  // A GSM8K line read as MATH is an error, not a guess.
  assertThrows(
    () => parseMathLine(g, "f", 9, "math"),
    MathFormatError,
    `f:9: missing field "problem"`,
  );
  assertThrows(
    () => parseMathLine(`{"x":1}`, "f", 2),
    MathFormatError,
    "f:2: cannot tell the format",
  );
  // Auto-detection fixes the format at the first line: a MATH line later is an error.
  assertThrows(
    () => parseMathJsonl(`${g}\n\n${m}\n`, "mixed.jsonl"),
    MathFormatError,
    `mixed.jsonl:3: missing field "question"`,
  );
  assertEquals(parseMathJsonl(`${g}\r\n${g}`, "crlf").map((i) => i.line), [1, 2]);
});

Deno.test("math load: parses as lines arrive (an endless stream) and stops cleanly", async () => {
  const line = new TextEncoder().encode(`{"prompt":"p","answer":"1"}\n`);
  let pulls = 0, cancelled = false;
  const endless = new ReadableStream<Uint8Array>({
    pull(c) {
      pulls++;
      c.enqueue(line);
    },
    cancel() {
      cancelled = true;
    },
  });
  const seen: number[] = [];
  for await (const item of streamMathLines(endless, "endless")) {
    seen.push(item.line);
    if (item.line === 3) break;
  }
  assertEquals(seen, [1, 2, 3]);
  assertEquals(cancelled, true);
  assertEquals(pulls < 10, true, `${pulls} chunks read`);
});

Deno.test("math load: a file stream stopped early closes the file", async () => {
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  await Deno.writeTextFile(path, `{"prompt":"${"x".repeat(200)}","answer":"1"}\n`.repeat(5000));
  let n = 0;
  for await (const item of streamMathJsonl(path)) {
    n++;
    if (item.line === 3) break;
  }
  assertEquals(n, 3); // the test's resource sanitizer fails if the file stayed open
  await Deno.remove(path);
});

Deno.test("math load: readLines splits chunks at any byte", async () => {
  const bytes = new TextEncoder().encode("ab\r\nc€d\n\nlast");
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (const b of bytes) c.enqueue(new Uint8Array([b])); // one byte per chunk
      c.close();
    },
  });
  const lines: string[] = [];
  for await (const l of readLines(stream)) lines.push(l);
  assertEquals(lines, ["ab", "c€d", "", "last"]);
});
