/**
 * Median wall time of one training step of the toolkit's looped model, on
 * whichever backend is active, for a config in the side-by-side benchmark's
 * terms (d, heads, ff, batch, seq, loops).
 */
import { LoopedLM } from "../models/looped.ts";
import { PAPER_MODEL } from "../models/config.ts";
import { AdamW } from "../train/adamw.ts";
import { resolveConfig } from "../train/config.ts";
import { trainBatch } from "../train/data.ts";
import { type Penalty, type StepResult, trainStep } from "../train/step.ts";

/** A benchmark configuration, named as in `torch_looped_ref.py`. */
export interface BenchConfig {
  /** Name printed with the result. */
  name: string;
  /** Model width. */
  d: number;
  /** Attention heads. */
  heads: number;
  /** MLP width. */
  ff: number;
  /** Batch size. */
  batch: number;
  /** Loops per step. */
  loops: number;
}

/** The bench-small configuration of docs/design.md, section 5. */
export const BENCH_SMALL: BenchConfig = {
  name: "bench-small",
  d: 128,
  heads: 4,
  ff: 256,
  batch: 64,
  loops: 8,
};

/** The paper's addition configuration (docs/design.md, section 1), for GPU runners. */
export const PAPER_BENCH: BenchConfig = {
  name: "paper",
  d: 512,
  heads: 8,
  ff: 1024,
  batch: 512,
  loops: 8,
};

/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** A model, optimiser and fixed batch for timing training steps of a config. */
export function benchSetup(b: BenchConfig): {
  run: (step: number, penalty?: Penalty) => Promise<StepResult>;
  dispose: () => void;
} {
  // 4-digit addition gives seq 16, the benchmark's sequence length.
  const config = resolveConfig({ digits: 4, batch_size: b.batch, dropout: 0 });
  const model = new LoopedLM(
    { ...PAPER_MODEL, max_seq_len: 16, d_model: b.d, n_heads: b.heads, d_ff: b.ff, dropout: 0 },
    1,
  );
  const optimizer = new AdamW(model.params);
  const batch = trainBatch(config, 0);
  const draw = { total: b.loops, noGrad: 0, withGrad: b.loops };
  return {
    run: (step, penalty) =>
      trainStep(model, optimizer, batch, draw, step, {
        ...config,
        lr: 1e-4,
        grad_clip: 0,
        penalty,
      }),
    dispose: () => {
      model.dispose();
      optimizer.dispose();
    },
  };
}

/** Times `steps` training steps (after `warmup`) and returns the median ms. */
export async function stepTime(
  b: BenchConfig,
  options: { steps: number; warmup: number; penalty?: Penalty },
): Promise<number> {
  const runner = stepRunner(b, options);
  try {
    return median(await runner.run(options.steps));
  } finally {
    runner.dispose();
  }
}

/**
 * A config's training steps to run a few at a time (one model and
 * optimiser throughout, after `warmup` untimed steps), for
 * `alternate.ts`; dispose when done.
 */
export function stepRunner(
  b: BenchConfig,
  options: { warmup?: number; penalty?: Penalty } = {},
): { run: (n: number) => Promise<number[]>; dispose: () => void } {
  const setup = benchSetup(b);
  let step = 0, warm = false;
  const timed = async () => {
    const t0 = performance.now();
    await setup.run(step++, options.penalty);
    return performance.now() - t0;
  };
  return {
    run: async (n) => {
      if (!warm) { for (warm = true; step < (options.warmup ?? 3);) await timed(); }
      const times: number[] = [];
      for (let i = 0; i < n; i++) times.push(await timed());
      return times;
    },
    dispose: setup.dispose,
  };
}
