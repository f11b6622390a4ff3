/**
 * Runs `../shared/bench/torch_looped_ref.py` (Debian's python3-torch) for a
 * side-by-side figure, or reports why it cannot.
 */
import type { BenchConfig } from "./step_time.ts";

const SCRIPT = new URL("../../shared/bench/torch_looped_ref.py", import.meta.url).pathname;

/** PyTorch's median ms per step for a config: the better of 1 and 2 threads. */
export async function torchStepTime(
  b: BenchConfig,
  extra: string[] = [],
): Promise<{ ms: number; threads: number; impl: string } | { unavailable: string }> {
  let best: { ms: number; threads: number; impl: string } | undefined;
  for (const threads of [1, 2]) {
    const args = [
      SCRIPT,
      ...[
        "--d",
        b.d,
        "--heads",
        b.heads,
        "--ff",
        b.ff,
        "--batch",
        b.batch,
        "--seq",
        16,
        "--loops",
        b.loops,
      ]
        .map(String),
      "--threads",
      String(threads),
      "--steps",
      "10",
      ...extra,
    ];
    let out;
    try {
      out = await new Deno.Command("/usr/bin/python3", { args, stderr: "piped" }).output();
    } catch {
      return { unavailable: "/usr/bin/python3 not found" };
    }
    if (!out.success) {
      return {
        unavailable: new TextDecoder().decode(out.stderr).trim().split("\n").pop() ?? "failed",
      };
    }
    const r = JSON.parse(new TextDecoder().decode(out.stdout));
    if (!best || r.median_ms_per_step < best.ms) {
      best = { ms: r.median_ms_per_step, threads, impl: r.impl };
    }
  }
  return best!;
}
