import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import {
  accuracyAt,
  armMetrics,
  compareArms,
  dropFromPeak,
  type FinetuneRun,
  metricsMarkdown,
  peakOf,
  runMetrics,
  stepsTableSpread,
} from "../../repro/finetune_metrics.ts";
import { stepsTableFromGroups } from "../../eval/steps.ts";

const LOOPS = [1, 2, 4, 8, 16, 64];
const curve = (accs: number[]) => LOOPS.map((loops, i) => ({ loops, accuracy: accs[i] }));

// Constructed tables: SFT peaks at 4 loops and collapses, STARS peaks later and holds.
const RUNS: FinetuneRun[] = [
  {
    arm: "SFT",
    seed: 1,
    curve: curve([0.1, 0.4, 0.7, 0.5, 0.2, 0.0]),
    exits: [{ rule: "kl:0.001", accuracy: 0.6, meanLoops: 3 }],
  },
  {
    arm: "SFT",
    seed: 2,
    curve: curve([0.1, 0.5, 0.6, 0.4, 0.3, 0.1]),
    exits: [{ rule: "kl:0.001", accuracy: 0.5, meanLoops: 5 }],
  },
  {
    arm: "STARS",
    seed: 2,
    curve: curve([0.1, 0.3, 0.7, 0.75, 0.7, 0.7]),
    exits: [{ rule: "kl:0.001", accuracy: 0.7, meanLoops: 6 }],
  },
  {
    arm: "STARS",
    seed: 1,
    curve: curve([0.1, 0.3, 0.7, 0.7, 0.7, 0.65]), // tie at 4, 8 and 16: the first is the peak
    exits: [{ rule: "kl:0.001", accuracy: 0.8, meanLoops: 4 }],
  },
];

Deno.test("finetune metrics: peak, its loops, drops in points", () => {
  assertEquals(peakOf(RUNS[0].curve), { loops: 4, accuracy: 0.7 });
  assertEquals(peakOf(RUNS[3].curve), { loops: 4, accuracy: 0.7 });
  assertAlmostEquals(dropFromPeak(RUNS[0].curve, 8)!, 20);
  assertAlmostEquals(dropFromPeak(RUNS[0].curve, 64)!, 70);
  assertEquals(dropFromPeak(RUNS[0].curve, 4), 0);
  assertEquals(dropFromPeak(RUNS[0].curve, 32), null);
  assertEquals(accuracyAt(RUNS[0].curve, 3), null);
  // The paper's numbers: 70.46% at the peak, 52.97% at 8 loops.
  assertAlmostEquals(
    dropFromPeak([{ loops: 4, accuracy: 0.7046 }, { loops: 8, accuracy: 0.5297 }], 8)!,
    17.49,
    1e-9,
  );
  const m = runMetrics(RUNS[2]);
  assertEquals(m.peak, { loops: 8, accuracy: 0.75 });
  assertEquals(m.drops.map((d) => d.loops), [8, 16, 64]);
  assertAlmostEquals(m.drops[1].drop!, 5);
  assertEquals(m.exits, [{ rule: "kl:0.001", accuracy: 0.7, meanLoops: 6 }]);
  assertThrows(() => peakOf([]), RangeError);
});

Deno.test("finetune metrics: per arm over seeds (mean and spread), and the comparison", () => {
  const [sft, stars] = armMetrics(RUNS);
  assertEquals(sft.arm, "SFT");
  assertEquals(stars.runs.map((r) => r.seed), [1, 2]); // sorted by seed
  assertAlmostEquals(sft.peak.mean, 0.65);
  assertAlmostEquals(sft.peak.sd, Math.sqrt(0.005));
  assertEquals(sft.peakLoops.mean, 4);
  assertEquals(stars.peakLoops.mean, 6); // 4 and 8
  // SFT drops 20 and 20 points at 8 loops; STARS 0 and 0.
  assertAlmostEquals(sft.drops[0].drop!.mean, 20);
  assertAlmostEquals(stars.drops[0].drop!.mean, 0);
  assertAlmostEquals(sft.drops[2].drop!.mean, 60); // 70 and 50
  assertAlmostEquals(sft.curve[3].accuracy.mean, 0.45);
  assertAlmostEquals(stars.exits[0].accuracy.mean, 0.75);
  assertAlmostEquals(stars.exits[0].meanLoops.mean, 5);
  const c = compareArms(stars, sft);
  assertAlmostEquals(c.peakGain.diff, 7.5); // 72.5% against 65%
  assertAlmostEquals(c.peakGain.sd, 100 * Math.sqrt(0.00125));
  assertEquals(c.peakGain.separated, false); // 70-75% against 60-70%: they touch at 70%
  assertAlmostEquals(c.dropChange[0].change!.diff, -20);
  assertAlmostEquals(c.dropChange[2].change!.diff, 5 - 60);
  assert(c.dropChange[2].change!.separated);
  const md = metricsMarkdown([sft, stars]).split("\n");
  assertEquals(md.length, 4);
  assert(md[0].includes("drop at 8 (points)") && md[0].includes("exit kl:0.001"));
  assert(md[2].startsWith("| SFT | 2 | 65.0% ± 7.1% | 4.0 ± 0.0 | 20.0 ± 0.0 |"), md[2]);
  // Runs of one arm swept at other loop counts are an error.
  assertThrows(
    () => armMetrics([RUNS[0], { ...RUNS[1], curve: RUNS[1].curve.slice(1) }]),
    RangeError,
    "other loop counts",
  );
});

Deno.test("finetune metrics: steps x loops tables over seeds", () => {
  const table = (a: number, b: number) =>
    stepsTableFromGroups([
      { steps: 1, loops: 4, correct: a, total: 10 },
      { steps: 2, loops: 4, correct: b, total: 10 },
    ]);
  const s = stepsTableSpread([table(8, 2), table(10, 4)]);
  assertEquals(s.steps, [1, 2]);
  assertAlmostEquals(s.cells[0][0].mean, 0.9);
  assertAlmostEquals(s.cells[1][0].mean, 0.3);
  assertAlmostEquals(s.overall[0].mean, 0.6);
  assertEquals(s.cells[1][0].n, 2);
  assertThrows(
    () =>
      stepsTableSpread([
        table(1, 1),
        stepsTableFromGroups([{ steps: 1, loops: 4, correct: 1, total: 2 }]),
      ]),
    RangeError,
  );
});
