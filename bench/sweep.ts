/**
 * The depth sweep's wall time decoding with and without the per-loop
 * key/value cache, and scored from one teacher-forced pass per batch (the
 * default), on the same problems and depths, for `deno task bench` (one
 * JSON record). The model is untrained (decoding cost does not depend on the
 * weights); the problems are 4-digit additions from the test split.
 */
import { depthSweep } from "../eval/sweep.ts";
import { PAPER_MODEL } from "../models/config.ts";
import { LoopedLM } from "../models/looped.ts";
import { arithmeticTask } from "../tasks/arithmetic_task.ts";

/** What to measure. */
export interface SweepBenchOptions {
  /** Problems (default 1000). */
  problems?: number;
  /** Loop counts of the sweep (default 1, 10, 100). */
  depths?: number[];
  /** Model width (default 128, bench-small). */
  d?: number;
  /** Attention heads (default 4). */
  heads?: number;
  /** MLP width (default 256). */
  ff?: number;
  /** Most problems per batch (default 512; the cache budget may lower it). */
  batchSize?: number;
}

/** Times the sweep three ways (cached, uncached, teacher-forced); returns a JSON-ready record. */
export async function sweepCacheBench(
  options: SweepBenchOptions = {},
): Promise<Record<string, unknown>> {
  const n = options.problems ?? 1000;
  const depths = options.depths ?? [1, 10, 100];
  const d = options.d ?? 128, heads = options.heads ?? 4, ff = options.ff ?? 256;
  const batchSize = options.batchSize ?? 512;
  const task = arithmeticTask({ digits: 4 });
  const problems = task.sample("test", 1, n);
  const model = new LoopedLM(
    { ...PAPER_MODEL, d_model: d, n_heads: heads, d_ff: ff, dropout: 0 },
    1,
  );
  try {
    await depthSweep(model, task, problems.slice(0, 8), [1]); // warm-up
    const time = async (cache: boolean, teacherForcing: boolean) => {
      const t0 = performance.now();
      const points = await depthSweep(model, task, problems, depths, {
        cache,
        batchSize,
        teacherForcing,
      });
      return { s: (performance.now() - t0) / 1000, points };
    };
    const cached = await time(true, false);
    const uncached = await time(false, false);
    const forced = await time(true, true);
    const same = [uncached, forced].every((r) =>
      JSON.stringify(cached.points) === JSON.stringify(r.points)
    );
    const prompt = task.tokenizer.encode(problems[0].prompt).length;
    return {
      bench: "sweep_cache",
      measured:
        `depth sweep at loops ${depths.join(",")} (each token decoded at that many loops) ` +
        `on ${n} 4-digit addition problems (${prompt}-token prompts, ${
          task.seqLen + 1 - prompt
        } generated tokens each), untrained model d ${d}, ${heads} heads, ff ${ff}, ` +
        `batch up to ${batchSize}; decoded with per-loop KV caches, decoded recomputing the ` +
        "prefix per token, and scored from one teacher-forced pass per batch for all depths",
      problems: n,
      depths,
      model: { d, heads, ff },
      cached_s: Math.round(cached.s * 10) / 10,
      uncached_s: Math.round(uncached.s * 10) / 10,
      speedup: Math.round(uncached.s / cached.s * 100) / 100,
      teacher_forced_s: Math.round(forced.s * 10) / 10,
      teacher_forced_speedup: Math.round(cached.s / forced.s * 100) / 100,
      same_results: same,
    };
  } finally {
    model.dispose();
  }
}

if (import.meta.main) {
  const { useBackend } = await import("../backends/select.ts");
  const backend = await useBackend(
    (Deno.env.get("STARS_BACKEND") as "wasm" | undefined) ?? "wasm",
  );
  const problems = Number(Deno.args[0] ?? 1000);
  const depths = (Deno.args[1] ?? "1,10,100").split(",").map(Number);
  console.log(JSON.stringify({ ...(await sweepCacheBench({ problems, depths })), backend }));
}
