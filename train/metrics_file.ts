/**
 * Writing a run's `metrics.jsonl`: one JSON object a line, appended with a
 * single write each. A crash or a full disk can cut the last line short;
 * {@linkcode repairMetrics} drops such a line on resume (with a note for the
 * caller) instead of failing, and cuts the lines the resumed steps redo.
 *
 * @module
 */
import { writeAtomic } from "./atomic_file.ts";

/** The log's name inside a run folder. */
export const METRICS_FILE = "metrics.jsonl";

/** Appends one record as a line of `dir/metrics.jsonl`. */
export async function appendMetrics(dir: string, record: Record<string, unknown>): Promise<void> {
  await Deno.writeTextFile(`${dir}/${METRICS_FILE}`, JSON.stringify(record) + "\n", {
    append: true,
  });
}

/** What {@linkcode repairMetrics} did. */
export interface MetricsRepair {
  /** Whether the last line was cut short (and dropped). */
  tornLastLine: boolean;
  /** Other lines dropped because they were not JSON objects with a numeric step. */
  unreadable: number;
  /** Lines dropped because they come after the checkpoint's step. */
  afterCheckpoint: number;
}

/**
 * Keeps the lines of `dir/metrics.jsonl` up to and including `step` (the
 * resumed checkpoint's), dropping a torn last line and any line that is not
 * a record; rewrites the file atomically when anything changed.
 */
export async function repairMetrics(dir: string, step: number): Promise<MetricsRepair> {
  const path = `${dir}/${METRICS_FILE}`;
  let text = "";
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const repair: MetricsRepair = { tornLastLine: false, unreadable: 0, afterCheckpoint: 0 };
  const lines = text.split("\n");
  const kept: string[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      record = null;
    }
    const at = (record as { step?: unknown } | null)?.step;
    // Only the last line can be cut short by an append; elsewhere it was edited.
    if (typeof at !== "number") {
      if (i === lines.length - 1) repair.tornLastLine = true;
      else repair.unreadable++;
    } else if (at > step) repair.afterCheckpoint++;
    else kept.push(line + "\n");
  });
  const repaired = kept.join("");
  if (repaired !== text) await writeAtomic(path, new TextEncoder().encode(repaired));
  return repair;
}
