/**
 * The training step of the reproduction's arm C (log-normal loop counts,
 * sandwich_dual) under the `full` profile: the run's own config, model and
 * loop draws, steps timed from a fixed seed; PyTorch's step at the draws'
 * mean loop count stands beside it (a step's cost grows linearly in its
 * loops, so the mean of the draws' costs is the cost at the mean).
 *
 * @module
 */
import { LoopedLM } from "../models/looped.ts";
import { sampleLoops } from "../regularizers/loop_sampler.ts";
import { armConfig, ARMS } from "../repro/arms.ts";
import { AdamW } from "../train/adamw.ts";
import { resolveConfig } from "../train/config.ts";
import { loopSpecOf, modelConfigOf, taskOf, trainBatch } from "../train/data.ts";
import { trainStep } from "../train/step.ts";
import type { BenchConfig } from "./step_time.ts";

/** Mean ms per step over `steps` draws (after `warmup`), with the draws' mean loops. */
export async function armStepTime(
  armId = "C",
  steps = 20,
  warmup = 3,
): Promise<{ ms: number; meanLoops: number; config: BenchConfig }> {
  const arm = ARMS.find((a) => a.id === armId)!;
  const config = resolveConfig(armConfig("full", arm, 1));
  const task = taskOf(config);
  const model = new LoopedLM(modelConfigOf(config, task), config.seed);
  const optimizer = new AdamW(model.params);
  const spec = loopSpecOf(config);
  let ms = 0, loops = 0;
  try {
    for (let step = 0; step < warmup + steps; step++) {
      const draw = sampleLoops(spec, config.seed, step);
      const t0 = performance.now();
      await trainStep(model, optimizer, trainBatch(config, step, task), draw, step, {
        ...config,
        lr: 1e-4,
      });
      if (step >= warmup) {
        ms += performance.now() - t0;
        loops += draw.total;
      }
    }
  } finally {
    model.dispose();
    optimizer.dispose();
  }
  const meanLoops = loops / steps;
  return {
    ms: ms / steps,
    meanLoops,
    config: {
      name: `repro-full-arm-${armId}`,
      d: config.d_model,
      heads: config.n_heads,
      ff: config.d_ff,
      batch: config.batch_size,
      loops: Math.max(1, Math.round(meanLoops)),
    },
  };
}
