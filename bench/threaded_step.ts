/**
 * The bench-small step on the threaded wasm build, in a process of its own
 * (the threaded build must start before anything else touches wasm):
 * `STARS_WASM_THREADS=N deno run -A bench/threaded_step.ts` prints
 * `{"threads": N, "ms_per_step": ...}`. `bench/main.ts` runs it.
 */
import { useBackend } from "../backends/select.ts";
import { wasmKernelThreads } from "../backends/wasm/threads.ts";
import { BENCH_SMALL, stepTime } from "./step_time.ts";

/** Runs this file in a child process with `threads` threads; its step time in ms. */
export async function threadedStepTime(threads: number): Promise<number> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname],
    env: { STARS_WASM_THREADS: String(threads), NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(code === 0 ? stdout : stderr);
  if (code !== 0) throw new Error(`threaded step benchmark failed: ${text}`);
  return JSON.parse(text).ms_per_step;
}

if (import.meta.main) {
  await useBackend("wasm");
  const ms = await stepTime(BENCH_SMALL, { steps: 10, warmup: 2 });
  console.log(JSON.stringify({ threads: wasmKernelThreads(), ms_per_step: ms }));
}
