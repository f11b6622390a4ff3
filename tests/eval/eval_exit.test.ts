import { assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { entropy, klDivergence } from "../../eval/distribution.ts";
import {
  criterionFires,
  exitLoop,
  type ExitRule,
  formatExitRule,
  type LoopPoint,
  parseExitRule,
} from "../../eval/exit.ts";

const log = (p: number[]) => p.map(Math.log);
/** A trajectory from next-token distributions at loops 1..L (loop 0 has none). */
const fromProbs = (ps: number[][]): LoopPoint[] => [{}, ...ps.map((p) => ({ logProbs: log(p) }))];

Deno.test("entropy and KL of known distributions", () => {
  assertAlmostEquals(entropy(log([0.25, 0.25, 0.25, 0.25])), Math.log(4), 1e-12);
  assertAlmostEquals(entropy(log([1, 0, 0])), 0, 1e-12);
  // KL([.5, .5] || [.25, .75]) = .5 ln 2 + .5 ln(2/3) = 0.1438410362
  assertAlmostEquals(klDivergence(log([0.5, 0.5]), log([0.25, 0.75])), 0.1438410362, 1e-9);
  assertAlmostEquals(klDivergence(log([0.2, 0.8]), log([0.2, 0.8])), 0, 1e-12);
});

Deno.test("kl fires at the first loop whose distribution barely moves", () => {
  // Loops 1..4 swap the top token (large KL); loop 5 repeats loop 4 (KL 0).
  const a = [0.8, 0.1, 0.1], b = [0.1, 0.8, 0.1];
  const traj = fromProbs([a, b, a, b, b, a]);
  assertEquals(exitLoop([{ kind: "kl", threshold: 1e-3 }], traj), 5);
  // A KL of exactly known size: KL([.5,.5] || [.25,.75]) = 0.1438 at loop 2.
  const near = fromProbs([[0.5, 0.5], [0.25, 0.75], [0.9, 0.1], [0.1, 0.9]]);
  assertEquals(exitLoop([{ kind: "kl", threshold: 0.144 }], near), 2);
  assertEquals(exitLoop([{ kind: "kl", threshold: 0.143 }], near), 4); // never fires: the cap
});

Deno.test("entropy fires when the entropy stops changing", () => {
  const traj = fromProbs([[0.5, 0.5], [0.7, 0.3], [0.9, 0.1], [0.99, 0.01], [0.99, 0.01], [
    0.5,
    0.5,
  ]]);
  assertEquals(exitLoop([{ kind: "entropy", threshold: 1e-3 }], traj), 5);
  // Swapping the argmax keeps the entropy: fires even though the prediction changed.
  assertEquals(
    exitLoop([{ kind: "entropy", threshold: 1e-3 }], fromProbs([[0.8, 0.2], [0.2, 0.8]])),
    2,
  );
});

Deno.test("argmax fires after the top token is unchanged for m loops", () => {
  const one = (k: number) => k === 0 ? [0.6, 0.4] : [0.4, 0.6];
  const tops = [0, 1, 0, 1, 1, 1, 1, 0];
  const traj = fromProbs(tops.map(one));
  assertEquals(exitLoop([{ kind: "argmax", loops: 3 }], traj), 7); // loops 4..7 agree
  assertEquals(exitLoop([{ kind: "argmax", loops: 1 }], traj), 5); // loops 4, 5 agree
  assertEquals(exitLoop([{ kind: "argmax", loops: 4 }], traj), 8); // never: the cap
});

Deno.test("delta fires when the relative latent change drops below the threshold", () => {
  const states = [[0, 1], [1, 1], [1.5, 1], [1.6, 1], [1.62, 1], [1.621, 1]];
  const traj: LoopPoint[] = states.map((state) => ({ state }));
  // Loop 3: 0.1 / |(1.6, 1)| = 0.053; loop 4: 0.02 / |(1.62, 1)| = 0.0105.
  assertEquals(exitLoop([{ kind: "delta", threshold: 0.03 }], traj), 4);
  assertEquals(exitLoop([{ kind: "delta", threshold: 0.06 }], traj), 3);
  assertEquals(criterionFires({ kind: "delta", threshold: 0.0105 }, traj, 4), false);
});

Deno.test("max, combined rules and the cap", () => {
  const a = [0.8, 0.2], b = [0.2, 0.8];
  const traj = fromProbs([a, b, a, b, a, b, b, b]);
  assertEquals(exitLoop([{ kind: "max", loops: 6 }], traj), 6);
  const rule: ExitRule = [{ kind: "kl", threshold: 1e-3 }, { kind: "max", loops: 3 }];
  assertEquals(exitLoop(rule, traj), 3); // max fires before kl (which would at 7)
  assertEquals(exitLoop([{ kind: "kl", threshold: 1e-3 }], traj), 7);
  assertEquals(exitLoop([{ kind: "kl", threshold: 1e-3 }], traj, 4), 4);
  assertThrows(() => exitLoop(rule, traj, 9), RangeError, "cap");
  // delta needs states.
  assertThrows(() => exitLoop([{ kind: "delta", threshold: 1 }], traj), RangeError, "state");
});

Deno.test("exit rules parse, print back and reject bad text", () => {
  assertEquals(parseExitRule("kl:1e-3"), [{ kind: "kl", threshold: 1e-3 }]);
  assertEquals(parseExitRule("delta:0.03+argmax:5"), [
    { kind: "delta", threshold: 0.03 },
    { kind: "argmax", loops: 5 },
  ]);
  assertEquals(formatExitRule(parseExitRule("entropy:0.001+max:32")), "entropy:0.001+max:32");
  for (
    const [bad, msg] of [
      ["foo:1", "unknown criterion"],
      ["kl", "unknown criterion"],
      ["kl:", "unknown criterion"],
      ["kl:-1", "threshold > 0"],
      ["kl:abc", "threshold > 0"],
      ["argmax:1.5", "integer"],
      ["max:0", "integer"],
      ["kl:1e-3+", "empty"],
    ]
  ) {
    assertThrows(() => parseExitRule(bad), RangeError, msg);
  }
});
