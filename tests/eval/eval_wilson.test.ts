import { assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { wilsonInterval } from "../../eval/wilson.ts";

// Expected values by the closed formula, worked by hand (z = 1.96, z^2 = 3.8416):
// 0/10:   denom 1.38416, centre 0.19208/1.38416 = 0.13877, half 0.13877 -> [0, 0.2775]
// 10/10:  mirror image of 0/10 -> [0.7225, 1]
// 5/10:   centre 0.5, half 1.96 sqrt(0.025 + 0.009604) / 1.38416 = 0.26341 -> [0.2366, 0.7634]
// 81/100: denom 1.038416, centre 0.829208/1.038416 = 0.79853,
//         half 1.96 sqrt(0.001539 + 0.00009604) / 1.038416 = 0.07632 -> [0.7222, 0.8749]
const CASES: [number, number, number, number][] = [
  [0, 10, 0, 0.2775],
  [10, 10, 0.7225, 1],
  [5, 10, 0.2366, 0.7634],
  [81, 100, 0.7222, 0.8749],
];

Deno.test("Wilson interval matches the closed formula at known points", () => {
  for (const [correct, total, low, high] of CASES) {
    const w = wilsonInterval(correct, total);
    assertAlmostEquals(w.low, low, 5e-5, `${correct}/${total} low`);
    assertAlmostEquals(w.high, high, 5e-5, `${correct}/${total} high`);
  }
  // Another quantile: z = 1 at 5/10 -> centre 0.5, half sqrt(0.025 + 0.0025) / 1.1 = 0.15076.
  const z1 = wilsonInterval(5, 10, 1);
  assertAlmostEquals(z1.low, 0.3492, 5e-5);
  assertAlmostEquals(z1.high, 0.6508, 5e-5);
});

Deno.test("Wilson interval edge cases and bad input", () => {
  assertEquals(wilsonInterval(0, 0), { low: 0, high: 1 });
  const w = wilsonInterval(0, 10);
  assertEquals(w.low, 0); // exactly 0, never -0 or a rounding error
  assertThrows(() => wilsonInterval(11, 10), RangeError, "correct");
  assertThrows(() => wilsonInterval(1.5, 10), RangeError, "correct");
  assertThrows(() => wilsonInterval(1, -1), RangeError, "total");
  assertThrows(() => wilsonInterval(1, 10, 0), RangeError, "z");
});
