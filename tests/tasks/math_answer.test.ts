import { assertEquals } from "@std/assert";
import {
  answersMatch,
  extractBoxed,
  extractFinalAnswer,
  extractHashAnswer,
  normalizeAnswer,
} from "../../tasks/math/mod.ts";

Deno.test("math answers: the number after the last ####", () => {
  const table: [string, string | undefined][] = [
    ["48/2 = 24\n#### 72", "72"],
    ["#### 1,000  \n", "1,000"],
    ["a #### 1\nb #### -3", "-3"],
    ["####", undefined],
    ["no marker", undefined],
  ];
  for (const [text, want] of table) assertEquals(extractHashAnswer(text), want, text);
});

Deno.test("math answers: the content of the last \\boxed / \\fbox, nested braces", () => {
  const table: [string, string | undefined][] = [
    ["\\boxed{5}", "5"],
    ["first \\boxed{3} then \\boxed{4}", "4"],
    ["$\\boxed{\\frac{3}{4}}$", "\\frac{3}{4}"],
    ["\\boxed{\\dfrac{\\sqrt{2}}{2}} end", "\\dfrac{\\sqrt{2}}{2}"],
    ["\\fbox{\\{1,2\\}}", "\\{1,2\\}"], // escaped braces do not count
    ["\\boxed{1} and \\fbox{2}", "2"],
    ["\\boxed 7$", "7"],
    ["\\boxed{unclosed", undefined],
    ["nothing", undefined],
    ["\\boxedfoo{1}", undefined], // another command
  ];
  for (const [text, want] of table) assertEquals(extractBoxed(text), want, text);
  assertEquals(extractFinalAnswer(" so \\boxed{2}"), "2");
  assertEquals(extractFinalAnswer("\\boxed{2}\n#### 3"), "3");
  assertEquals(extractFinalAnswer("  42 "), "42");
});

Deno.test("math answers: normalisation table", () => {
  const table: [string, string][] = [
    ["72", "72"],
    ["1,000", "1000"],
    ["1,234,567.50", "1234567.5"],
    ["1{,}000", "1000"],
    ["3.50", "3.5"],
    ["5.0", "5"],
    ["5.", "5"],
    [".5", "0.5"],
    ["007", "7"],
    ["+5", "5"],
    ["-0", "0"],
    ["-0.00", "0"],
    ["-12", "-12"],
    ["3/4", "3/4"],
    ["6/8", "3/4"],
    ["4/2", "2"],
    ["-6/8", "-3/4"],
    ["\\frac{3}{4}", "3/4"],
    ["\\dfrac{6}{8}", "3/4"],
    ["\\tfrac12", "1/2"],
    ["-\\frac{1}{2}", "-1/2"],
    ["\\frac{\\sqrt{2}}{2}", "\\frac{\\sqrt{2}}{2}"],
    ["50%", "50"],
    ["50\\%", "50"],
    ["$1,000", "1000"],
    ["\\$1,000.00", "1000"],
    ["6 €", "6"],
    ["£5", "5"],
    ["$\\frac{1}{2}$", "1/2"],
    ["5 apples", "5"],
    ["10 cm", "10"],
    ["1,000 dollars", "1000"],
    ["12\\text{ cm}", "12"],
    ["\\text{(C)}", "(C)"],
    ["\\textbf{5}", "5"],
    ["90^\\circ", "90"],
    ["90^{\\circ}", "90"],
    ["90°", "90"],
    ["x = 5", "5"],
    ["\\boxed{7}", "7"],
    [" 4 2 ", "42"],
    ["\\left( 1, 2 \\right)", "(1,2)"],
    ["1,2", "1,2"], // a list, not a thousands separator
    ["2\\sqrt{3}", "2\\sqrt{3}"],
    ["5.", "5"],
    ["3\\,000", "3000"],
  ];
  for (const [raw, want] of table) assertEquals(normalizeAnswer(raw), want, JSON.stringify(raw));
});

Deno.test("math answers: exact match on normalised answers, fractions by value", () => {
  const yes: [string, string][] = [
    ["0.75", "3/4"],
    ["0.75", "\\frac{3}{4}"],
    ["2.50", "5/2"],
    ["$1,000", "1000"],
    ["+5", "5"],
    ["-0", "0"],
    ["50\\%", "50%"],
    ["1.5", "\\dfrac{3}{2}"],
    ["10/4", "5/2"],
    ["5 apples", "5"],
    ["(1,2)", "\\left(1, 2\\right)"],
  ];
  const no: [string, string][] = [
    ["0.333", "1/3"],
    ["72", "27"],
    ["1,2", "12"],
    ["0.5", "50%"],
    ["", ""],
    ["1/0", "2/0"],
    ["\\sqrt{2}", "\\sqrt{3}"],
  ];
  for (const [a, b] of yes) assertEquals(answersMatch(a, b), true, `${a} ~ ${b}`);
  for (const [a, b] of no) assertEquals(answersMatch(a, b), false, `${a} !~ ${b}`);
});
