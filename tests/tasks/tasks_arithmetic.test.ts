import { assert, assertEquals, assertThrows } from "@std/assert";
import { isCorrect, makeProblem, operandRange, parseAnswer } from "../../tasks/mod.ts";

Deno.test("arithmetic: the paper's format for 1234+5678", () => {
  const p = makeProblem(1234, 5678);
  assertEquals(p.prompt, "1234+5678=");
  assertEquals(p.answer, "6912");
  assertEquals(p.target, " 2196");
  assertEquals(p.op, "+");
  assertEquals(makeProblem(9999, 9999).target, " 89991"); // 19998
  assertEquals(makeProblem(1000, 1000).target, " 0002"); // 2000
});

Deno.test("arithmetic: reversal off gives the plain sum", () => {
  const p = makeProblem(1234, 5678, "+", { reverse: false });
  assertEquals(p.target, " 6912");
  assert(isCorrect(p, " 6912"));
  assert(!isCorrect(p, " 2196"));
});

Deno.test("arithmetic: multiplication", () => {
  const p = makeProblem(12, 34, "*");
  assertEquals(p.prompt, "12*34=");
  assertEquals(p.answer, "408");
  assertEquals(p.target, " 804");
  assert(isCorrect(p, " 804"));
});

Deno.test("arithmetic: answers parse back and match exactly", () => {
  const p = makeProblem(1234, 5678);
  assertEquals(parseAnswer(" 2196"), "6912");
  assertEquals(parseAnswer(" 2196", false), "2196");
  assert(isCorrect(p, " 2196"));
  for (const bad of ["2196", " 21960", " 219", " 2196 ", " 21a6", "", " "]) {
    assert(!isCorrect(p, bad), JSON.stringify(bad));
  }
  assertEquals(parseAnswer("x"), null);
});

Deno.test("arithmetic: operand ranges and bad operands", () => {
  assertEquals(operandRange(1), [0, 9]);
  assertEquals(operandRange(4), [1000, 9999]);
  assertThrows(() => operandRange(0), Error, "digits");
  assertThrows(() => makeProblem(-1, 2), Error, "-1");
  assertThrows(() => makeProblem(1.5, 2), Error, "1.5");
});
