import { assert, assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { BACKEND } from "../_backend.ts";
import { chainTask } from "../../tasks/chain.ts";
import { LoopedLM } from "../../models/looped.ts";
import { PAPER_MODEL } from "../../models/config.ts";
import { depthSweep, depthSweepByProblem, type ProblemOutcome } from "../../eval/sweep.ts";
import { exitSweep } from "../../eval/sweep.ts";
import {
  problemSteps,
  stepsTable,
  stepsTableFromGroups,
  stepsTableMarkdown,
} from "../../eval/steps.ts";

Deno.test("steps table: a constructed per-problem sweep", () => {
  // 6 problems: steps 1, 1, 2, 2, 3, 3; loops 1, 2, 4.
  const problems = [1, 1, 2, 2, 3, 3].map((steps) => ({ steps }));
  const T = true, F = false;
  const t = stepsTable(problems, {
    points: [{ depth: 4 }, { depth: 1 }, { depth: 2 }], // any order: columns come sorted
    correct: [
      [T, T, T, T, T, F], // 4 loops
      [T, F, F, F, F, F], // 1 loop
      [T, T, T, F, F, F], // 2 loops
    ],
  });
  assertEquals(t.loops, [1, 2, 4]);
  assertEquals(t.steps, [1, 2, 3]);
  assertEquals(t.cells.map((r) => r.map((c) => c.accuracy)), [
    [0.5, 1, 1],
    [0, 0.5, 1],
    [0, 0, 0.5],
  ]);
  assertEquals(t.cells[2][2].correct, 1);
  assertEquals(t.cells[2][2].total, 2);
  assertEquals(t.overall.map((c) => c.correct), [1, 3, 5]);
  assertEquals(t.overall.map((c) => c.total), [6, 6, 6]);
  assertAlmostEquals(t.overall[2].accuracy, 5 / 6);
  assert(t.cells[0][0].low < 0.5 && t.cells[0][0].high > 0.5);
  const md = stepsTableMarkdown(t).split("\n");
  assertEquals(md[0], "| steps | problems | 1 loops | 2 loops | 4 loops |");
  assertEquals(md[2], "| 1 | 2 | 50.0% | **100.0%** | **100.0%** |");
  assertEquals(md[5], "| all | 6 | 16.7% | 50.0% | **83.3%** |");
});

Deno.test("steps table: from grouped counts; empty cells; checks", () => {
  const t = stepsTableFromGroups([
    { steps: 2, loops: 8, correct: 1, total: 4 },
    { steps: 1, loops: 8, correct: 3, total: 4 },
    { steps: 1, loops: 8, correct: 1, total: 4 }, // same key: added up
    { steps: 1, loops: 16, correct: 2, total: 2 },
  ]);
  assertEquals(t.cells[0].map((c) => [c.correct, c.total]), [[4, 8], [2, 2]]);
  assertEquals(t.cells[1].map((c) => [c.correct, c.total]), [[1, 4], [0, 0]]);
  assertEquals(t.cells[1][1].accuracy, 0);
  assertEquals(stepsTableMarkdown(t).split("\n")[3], "| 2 | 4 | **25.0%** | - |");
  assertEquals(t.overall.map((c) => c.accuracy), [5 / 12, 1]);
  assertThrows(
    () => stepsTableFromGroups([{ steps: 1, loops: 1, correct: 3, total: 2 }]),
    RangeError,
  );
  assertThrows(
    () => stepsTable([{ steps: 1 }, {}], { points: [{ depth: 1 }], correct: [[true, true]] }),
    RangeError,
    "problem 1",
  );
  assertThrows(
    () => stepsTable([{ steps: 1 }], { points: [{ depth: 1 }], correct: [[true, true]] }),
    RangeError,
    "2 outcomes",
  );
  assertEquals(problemSteps({ steps: 3 }), 3);
  assertEquals(problemSteps({ steps: "3" }), undefined);
  assertEquals(problemSteps(null), undefined);
});

Deno.test({
  name: "depthSweepByProblem: the same points as depthSweep, per-problem rows that add up",
  ignore: BACKEND !== "wasm",
  fn: async () => {
    const task = chainTask({ stepsMin: 1, stepsMax: 3, distractors: 1 });
    const model = new LoopedLM(
      {
        ...PAPER_MODEL,
        vocab_size: task.tokenizer.vocabSize,
        max_seq_len: task.seqLen,
        d_model: 16,
        n_heads: 2,
        d_ff: 32,
      },
      3,
    );
    try {
      const problems = task.sample("test", 1, 24, true);
      const grid = [1, 3, 3];
      const plain = await depthSweep(model, task, problems, grid, { batchSize: 7 });
      const seen: ProblemOutcome[] = [];
      // Decoded, so that every outcome carries its output and loops.
      const detailed = await depthSweepByProblem(model, task, problems, grid, {
        batchSize: 7,
        teacherForcing: false,
        onProblem: (o) => seen.push(o),
      });
      assertEquals(detailed.points, plain);
      assertEquals(seen.length, grid.length * problems.length);
      detailed.points.forEach((p, d) => {
        assertEquals(detailed.correct[d].filter((x) => x).length, p.correct);
      });
      for (const o of seen) {
        assertEquals(o.correct, task.isCorrect(problems[o.index], o.decoded!));
        assertEquals(o.loops, o.tokens! * o.depth);
      }
      const table = stepsTable(problems, detailed);
      assertEquals(table.loops, [1, 3]);
      assertEquals(table.overall[0].correct, plain[0].correct);
      assertEquals(table.overall[1].total, 2 * problems.length); // 3 swept twice
      // The exit sweep reports per-problem outcomes too, without changing its result.
      const exitSeen: ProblemOutcome[] = [];
      const rule = [{ kind: "argmax", loops: 1 }] as const;
      const a = await exitSweep(model, task, problems, rule, 3);
      const b = await exitSweep(model, task, problems, rule, 3, {
        onProblem: (o) => exitSeen.push(o),
      });
      assertEquals(a, b);
      assertEquals(exitSeen.filter((o) => o.correct).length, a.correct);
      const loops = exitSeen.reduce((s, o) => s + o.loops!, 0);
      const tokens = exitSeen.reduce((s, o) => s + o.tokens!, 0);
      assertAlmostEquals(loops / tokens, a.meanLoops);
    } finally {
      model.dispose();
    }
  },
});
