/**
 * `deno task bench`: step times as JSON lines, each next to PyTorch's on the
 * same machine (when Debian's python3-torch is installed) with the ratio.
 * Compare ratios within one run: the machines are shared and noisy.
 */
import { useBackend } from "../core/backend.ts";
import { BENCH_SMALL, stepTime } from "./step_time.ts";
import { torchStepTime } from "./torch_ref.ts";

const backend = await useBackend(
  (Deno.env.get("STARS_BACKEND") as "wasm" | undefined) ?? "wasm",
);

const ours = await stepTime(BENCH_SMALL, { steps: 10, warmup: 2 });
const torch = await torchStepTime(BENCH_SMALL);
console.log(JSON.stringify({
  bench: "train_step",
  config: BENCH_SMALL,
  backend,
  ms_per_step: Math.round(ours * 10) / 10,
  ...("ms" in torch
    ? {
      torch_ms_per_step: torch.ms,
      torch_threads: torch.threads,
      ratio_vs_torch: Math.round((ours / torch.ms) * 100) / 100,
    }
    : { torch: torch.unavailable }),
}));
