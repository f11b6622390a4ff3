/**
 * A short training run on 2-step word problems must beat chance on
 * held-out problems. To fit a tiny model and a CPU budget of about a
 * minute, the problems are in the generator's `terse` wording (e.g.
 * `A has 5. B has 3 more than A. B?`) with every quantity a single digit
 * (maxValue 9). They reach the trainer as a GSM8K file through the `data`
 * key, as real data would; held-out problems come from the generator's
 * test split (no structure shared with training) through the same loader.
 * Chance is the accuracy of always answering the most common answer of the
 * training file (about 15%; an untrained model scores about 0%).
 */
import { assertGreater } from "@std/assert";
import "../_backend.ts";
import { exactMatch } from "../../eval/greedy.ts";
import { generateWordProblems, type MathTask, toGsm8kJsonl } from "../../tasks/math/mod.ts";
import { taskOf } from "../../train/data.ts";
import { resolveConfig } from "../../train/config.ts";
import { train } from "../../train/trainer.ts";

Deno.test("math training: 2-step single-digit problems, held-out accuracy above chance", async () => {
  const numbers = { stepsMin: 2, stepsMax: 2, maxValue: 9, style: "terse" as const };
  const trainSet = generateWordProblems({ ...numbers, count: 8000, seed: 1, split: "train" });
  const heldOut = generateWordProblems({
    ...numbers,
    count: 120,
    seed: 2,
    split: "test",
    unique: true,
  });
  const dir = await Deno.makeTempDir();
  const trainPath = `${dir}/train.jsonl`, testPath = `${dir}/test.jsonl`;
  await Deno.writeTextFile(trainPath, toGsm8kJsonl(trainSet));
  await Deno.writeTextFile(testPath, toGsm8kJsonl(heldOut));

  // Chance: always answer the training set's most common answer.
  const counts = new Map<number, number>();
  for (const p of trainSet) counts.set(p.answer, (counts.get(p.answer) ?? 0) + 1);
  const mode = [...counts].sort((a, b) => b[1] - a[1])[0][0];
  const chance = heldOut.filter((p) => p.answer === mode).length / heldOut.length;

  const config = {
    task: "gsm8k-synthetic" as const,
    data: trainPath,
    d_model: 32,
    n_heads: 2,
    d_ff: 64,
    loops: 1,
    batch_size: 32,
    steps: 400,
    lr: 5e-3,
    warmup_steps: 20,
    eval_size: 1,
    eval_every: 0,
    checkpoint_every: 0,
  };
  const { model } = await train(config);
  const task = taskOf(resolveConfig(config)) as MathTask;
  const problems = await task.load(testPath);
  const { accuracy } = await exactMatch(model, task, problems, 1);
  model.dispose();
  await Deno.remove(dir, { recursive: true });
  assertGreater(accuracy, chance + 0.05, `held-out ${accuracy} vs chance ${chance}`);
});
