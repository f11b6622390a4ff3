/**
 * Reading a run's `metrics.jsonl` back: one line per optimiser step (with
 * `ms`, `loss`, `ce`, ...) and one per held-out evaluation (`eval_accuracy`).
 *
 * @module
 */

/** One optimiser step as the trainer logged it. */
export interface StepRecord {
  /** Steps done after this one. */
  step: number;
  /** Loops applied in this step. */
  loops: number;
  /** Wall time of the step in milliseconds. */
  ms: number;
  /** Total loss (cross-entropy plus the weighted penalty). */
  loss: number;
  /** Cross-entropy alone (absent in logs from before it was recorded). */
  ce?: number;
}

/** The step records of `dir/metrics.jsonl`, in order (evaluation lines are skipped). */
export async function readStepRecords(dir: string): Promise<StepRecord[]> {
  const text = await Deno.readTextFile(`${dir}/metrics.jsonl`);
  return text.split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line))
    .filter((r) => typeof r.ms === "number");
}

/** Total training wall time of the logged steps, in seconds. */
export function trainingSeconds(records: readonly StepRecord[]): number {
  return records.reduce((sum, r) => sum + r.ms, 0) / 1000;
}

/**
 * The cross-entropy averaged over consecutive windows of `window` steps, as
 * `[last step of the window, mean]` pairs: a loss curve small enough to keep.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { lossCurve } from "@stars/toolkit/train";
 * const records = [1, 2, 3, 4].map((step) => ({ step, loops: 4, ms: 1, loss: 5 - step }));
 * assertEquals(lossCurve(records, 2), [[2, 3.5], [4, 1.5]]);
 * ```
 */
export function lossCurve(records: readonly StepRecord[], window: number): [number, number][] {
  const curve: [number, number][] = [];
  for (let i = 0; i < records.length; i += window) {
    const chunk = records.slice(i, i + window);
    const mean = chunk.reduce((s, r) => s + (r.ce ?? r.loss), 0) / chunk.length;
    curve.push([chunk[chunk.length - 1].step, mean]);
  }
  return curve;
}
