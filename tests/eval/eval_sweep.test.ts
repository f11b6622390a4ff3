import * as tf from "@tensorflow/tfjs";
import { assert, assertAlmostEquals, assertEquals, assertRejects } from "@std/assert";
import { BACKEND } from "../_backend.ts";
import { cacheBatchSize, cacheFloats, decodeLoopwise } from "../../eval/decode.ts";
import { depthSweep, depthSweepByProblem, exitChoice, exitSweep } from "../../eval/sweep.ts";
import { wilsonInterval } from "../../eval/wilson.ts";
import { PAPER_MODEL } from "../../models/config.ts";
import { LoopedLM } from "../../models/looped.ts";
import { arithmeticTask } from "../../tasks/arithmetic_task.ts";
import type { Problem } from "../../tasks/arithmetic.ts";
import type { Task } from "../../tasks/task.ts";
import { loadCheckpoint } from "../../train/checkpoint.ts";
import { resolveConfig } from "../../train/config.ts";
import { taskOf } from "../../train/data.ts";

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

Deno.test(`depth sweep: teacher forcing gives decoding's counts, for a grid at once (${BACKEND})`, async () => {
  // A trained fixed-depth model of the addition study: right near its 4
  // training loops, wrong at varied positions elsewhere.
  const dir = new URL("../../docs/results/addition-study/arms/F-sd/seed-1", import.meta.url);
  const { model, manifest } = await loadCheckpoint(dir.pathname, { optimizer: false });
  const task = taskOf(resolveConfig(manifest.config as Record<string, unknown>));
  const text = await Deno.readTextFile(
    new URL("../../data/stars_addition_test_4digit.jsonl", import.meta.url),
  );
  const problems = task.parseTestFile!(text, "test").slice(0, 60).map((e) => e.problem!);
  const grid = [0, 1, 3, 3, 4, 6, 24];
  const before = tf.memory().numTensors;
  let forced = 0;
  const fast = await depthSweep(model, task, problems, grid, {
    onProblem: (o) => o.decoded === undefined && forced++,
  });
  const slow = await depthSweep(model, task, problems, grid, { teacherForcing: false });
  assertEquals(tf.memory().numTensors, before, "sweep leaked tensors");
  assertEquals(fast, slow);
  // Most verdicts come without decoding (rows whose first wrong argmax is PAD are decoded).
  assert(forced >= (grid.length / 2) * problems.length, `${forced}`);
  assert(fast.some((p) => p.correct === problems.length) && fast.some((p) => p.correct === 0));
  assert(fast.some((p) => p.correct > 0 && p.correct < problems.length));
  // Per problem: the same matrix both ways, each row summing to its point's count.
  const byFast = await depthSweepByProblem(model, task, problems, grid);
  const bySlow = await depthSweepByProblem(model, task, problems, grid, { teacherForcing: false });
  assertEquals(byFast.correct, bySlow.correct);
  byFast.correct.forEach((row, g) => assertEquals(row.filter(Boolean).length, fast[g].correct));
  model.dispose();
  // Untrained models: wrong answers everywhere, found without decoding.
  for (const seed of [1, 2]) {
    const random = new LoopedLM(CONFIG, seed);
    const small = arithmeticTask({ digits: 2 }), few = small.sample("test", seed, 30);
    assertEquals(
      await depthSweep(random, small, few, [1, 2, 5]),
      await depthSweep(random, small, few, [1, 2, 5], { teacherForcing: false }),
    );
    random.dispose();
  }
});

Deno.test(`depth sweep: rows whose first wrong argmax is PAD are decoded (${BACKEND})`, async () => {
  const task = arithmeticTask({ digits: 2 });
  const problems = task.sample("test", 4, 12);
  const model = new LoopedLM(CONFIG, 7);
  // The final norm's output made the tied head's PAD row, the longest row:
  // PAD then wins every argmax (row_PAD . row_k < |row_PAD|^2 for k != PAD).
  const tok = model.params.get("embed.tok")!;
  const values = tok.arraySync() as number[][];
  values[task.tokenizer.padId] = values[task.tokenizer.padId].map((x) => 50 * x);
  tok.assign(tf.tensor2d(values));
  const gain = model.params.get("final_norm.gain")!;
  gain.assign(tf.zerosLike(gain));
  model.params.get("final_norm.bias")!.assign(tf.tensor1d(values[task.tokenizer.padId]));
  const decodedRows: number[] = [];
  const fast = await depthSweep(model, task, problems, [1, 2], {
    onProblem: (o) => o.decoded !== undefined && decodedRows.push(o.index),
  });
  assertEquals(fast, await depthSweep(model, task, problems, [1, 2], { teacherForcing: false }));
  assertEquals(decodedRows.length, 2 * problems.length);
  // A task with its own check is always decoded.
  const own: Task<Problem> = { ...task, isCorrect: (p, d) => d === p.target };
  const seen: (string | undefined)[] = [];
  await depthSweep(new LoopedLM(CONFIG, 1), own, problems, [1], {
    onProblem: (o) => seen.push(o.decoded),
  });
  assert(seen.length === problems.length && seen.every((d) => typeof d === "string"));
  model.dispose();
});
