/**
 * The full depth sweep as `deno task eval` runs it: a trained checkpoint of
 * the addition study (R-sd seed 1, committed in docs/results) on all 5 076
 * problems of the paper's test split at the 13 default loop counts, with
 * native products and with the wasm kernels only; with
 * `STARS_BENCH_DECODE=1` also decoded token by token (the sweep before
 * teacher forcing, about 5 minutes on 2 cores).
 *
 * @module
 */
import { setNativeBlas } from "../backends/native/blas.ts";
import { DEFAULT_DEPTH_GRID } from "../eval/sweep.ts";
import { evaluateCheckpoint, prepareCheckpointEvaluation } from "../train/evaluate_checkpoint.ts";
import { openWeights } from "../train/weights.ts";

const CHECKPOINT = new URL("../docs/results/addition-study/arms/R-sd/seed-1", import.meta.url)
  .pathname;
const DATA = new URL("../data/stars_addition_test_4digit.jsonl", import.meta.url).pathname;

/** Seconds and correct counts of one sweep over the checkpoint's test problems. */
async function timedSweep(backend: string, decode: boolean) {
  const weights = await openWeights(CHECKPOINT);
  const prepared = await prepareCheckpointEvaluation(CHECKPOINT, weights, {
    loops: DEFAULT_DEPTH_GRID,
    data: DATA,
    backend,
  });
  const t0 = performance.now();
  const report = await evaluateCheckpoint(prepared, { teacherForcing: !decode });
  return {
    s: Math.round((performance.now() - t0) / 100) / 10,
    correct: report.results.map((r) => r.correct),
  };
}

/** The full sweep's wall times per path, as one JSON-ready record. */
export async function fullSweepBench(backend: string): Promise<Record<string, unknown>> {
  const native = await timedSweep(backend, false);
  setNativeBlas("off");
  const wasm = await timedSweep(backend, false);
  setNativeBlas("auto");
  const decoded = Deno.env.get("STARS_BENCH_DECODE") === "1"
    ? await timedSweep(backend, true)
    : undefined;
  const same = [wasm, ...(decoded ? [decoded] : [])].every((r) =>
    r.correct.join() === native.correct.join()
  );
  return {
    bench: "full_sweep",
    measured: `deno task eval --checkpoint docs/results/addition-study/arms/R-sd/seed-1 ` +
      `--data data/stars_addition_test_4digit.jsonl (5 076 problems x ${DEFAULT_DEPTH_GRID.length} ` +
      "depths, teacher-forced), native products and wasm kernels only" +
      (decoded ? "; and decoded (--decode)" : ""),
    depths: DEFAULT_DEPTH_GRID,
    native_s: native.s,
    wasm_s: wasm.s,
    ...(decoded
      ? { decoded_s: decoded.s, speedup_vs_decoded: Math.round(decoded.s / native.s * 100) / 100 }
      : {}),
    correct: native.correct,
    same_results: same,
  };
}
