import * as tf from "@tensorflow/tfjs";
import { assert, assertAlmostEquals, assertEquals, assertRejects } from "@std/assert";
import { BACKEND } from "./_backend.ts";
import { cacheBatchSize, cacheFloats, decodeLoopwise } from "../eval/decode.ts";
import { depthSweep, exitChoice, exitSweep } from "../eval/sweep.ts";
import { wilsonInterval } from "../eval/wilson.ts";
import { PAPER_MODEL } from "../models/config.ts";
import { LoopedLM } from "../models/looped.ts";
import { arithmeticTask } from "../tasks/arithmetic_task.ts";
import type { Problem } from "../tasks/arithmetic.ts";
import type { Task } from "../tasks/task.ts";

const CONFIG = { ...PAPER_MODEL, d_model: 16, n_heads: 2, d_ff: 32, dropout: 0, init_std: 0.3 };

Deno.test("cache size and the batch that fits the budget", () => {
  const c = { ...PAPER_MODEL, n_layers: 2, prelude_layers: 1, coda_layers: 1 };
  // (1 + 100 * 2 + 1) layers x 2 (k, v) x 8 rows x 16 positions x 512 floats
  assertEquals(cacheFloats(c, 100, 8, 16), 202 * 2 * 8 * 16 * 512);
  assertEquals(cacheFloats(c, 100, 8, 16, true), 301 * 2 * 8 * 16 * 512);
  const perRow = 202 * 2 * 16 * 512;
  assertEquals(cacheBatchSize(c, 100, 16, 512, 10 * perRow), 10);
  assertEquals(cacheBatchSize(c, 100, 16, 512, 10 * perRow - 1), 9);
  assertEquals(cacheBatchSize(c, 1, 16, 512, 1e12), 512);
  assertEquals(cacheBatchSize(c, 100, 16, 512, 1), 1);
  // The default 64M-float budget at the paper's size and 100 loops.
  assertEquals(
    cacheBatchSize(PAPER_MODEL, 100, 16, 512),
    Math.floor(64 * 2 ** 20 / (101 * 2 * 16 * 512)),
  );
});

// A task whose answers are what the model itself decodes at 3 loops, so
// accuracy is high at 3 loops and the exit rules have something to find.
async function selfTask(model: LoopedLM): Promise<{ task: Task<Problem>; problems: Problem[] }> {
  const base = arithmeticTask({ digits: 2 });
  const problems = base.sample("test", 9, 20);
  const prompts = problems.map((p) => base.tokenizer.encode(p.prompt));
  const genLen = base.seqLen + 1 - prompts[0].length;
  const out = await decodeLoopwise(model, prompts, genLen, 3);
  const answers = out.tokens.map((t) => base.tokenizer.decode(t));
  const task: Task<Problem> = {
    ...base,
    isCorrect: (p, decoded) => decoded === answers[problems.indexOf(p)],
  };
  return { task, problems };
}

Deno.test(`depth sweep: cached = uncached, batch size irrelevant, Wilson bands (${BACKEND})`, async () => {
  const model = new LoopedLM(CONFIG, 5);
  const { task, problems } = await selfTask(model);
  const before = tf.memory().numTensors;
  const grid = [1, 3, 6];
  const cached = await depthSweep(model, task, problems, grid, { batchSize: 7 });
  const uncached = await depthSweep(model, task, problems, grid, { cache: false });
  const tiny = await depthSweep(model, task, problems, grid, { cacheBudget: 1 }); // batches of 1
  assertEquals(tf.memory().numTensors, before, "sweep leaked tensors");
  assertEquals(cached, uncached);
  assertEquals(cached, tiny);
  assertEquals(cached.map((p) => p.depth), grid);
  assertEquals(cached[1].correct, problems.length); // 3 loops decodes the answers by construction
  assert(cached[0].correct < problems.length || cached[2].correct < problems.length);
  for (const p of cached) {
    assertEquals(p.total, problems.length);
    assertAlmostEquals(p.accuracy, p.correct / p.total, 1e-12);
    assertEquals({ low: p.low, high: p.high }, wilsonInterval(p.correct, p.total));
  }
  await assertRejects(() => depthSweep(model, task, problems, []), RangeError, "grid is empty");
  await assertRejects(() => depthSweep(model, task, problems, [1.5]), RangeError, "integers");
  model.dispose();
});

Deno.test(`adaptive exit: max:N reproduces depth N; mean loops (${BACKEND})`, async () => {
  const model = new LoopedLM(CONFIG, 5);
  const { task, problems } = await selfTask(model);
  const fixed = await depthSweep(model, task, problems, [3]);
  const atThree = await exitSweep(model, task, problems, [{ kind: "max", loops: 3 }], 6);
  assertEquals(atThree.correct, fixed[0].correct);
  assertEquals(atThree.meanLoops, 3);
  assertEquals(atThree.rule, "max:3");
  assertEquals(atThree.maxLoops, 6);
  // Token level: exiting at loop 3 of 6 emits what 3 fixed loops emit.
  const prompts = problems.map((p) => task.tokenizer.encode(p.prompt));
  const three = await decodeLoopwise(model, prompts, 5, 3);
  const viaExit = await decodeLoopwise(model, prompts, 5, 6, {
    everyLoop: true,
    choose: exitChoice([{ kind: "max", loops: 3 }]),
  });
  assertEquals(viaExit.tokens, three.tokens);
  // A rule that never fires exits at the cap: the fixed sweep at the cap.
  const never = await exitSweep(model, task, problems, [{ kind: "kl", threshold: 1e-30 }], 6);
  const six = await depthSweep(model, task, problems, [6]);
  assertEquals(never.correct, six[0].correct);
  assertEquals(never.meanLoops, 6);
  // An eager rule exits early on average.
  const eager = await exitSweep(model, task, problems, [{ kind: "delta", threshold: 10 }], 6);
  assertEquals(eager.meanLoops, 1);
  model.dispose();
});
