/**
 * Runs `bench/torch_looped_ref.py` (Debian's python3-torch, or any
 * PyTorch for CUDA) for a side-by-side figure, or reports why it cannot.
 * `STARS_PYTHON` names the interpreter (default `/usr/bin/python3`) and
 * `STARS_TORCH_REF` the script, for machines where they live elsewhere.
 */
import type { BenchConfig } from "./step_time.ts";

const SCRIPT = Deno.env.get("STARS_TORCH_REF") ??
  new URL("./torch_looped_ref.py", import.meta.url).pathname;
const PYTHON = Deno.env.get("STARS_PYTHON") ?? "/usr/bin/python3";

/** Runs the interpreter with `args`: its stdout, or why it could not run (the last line of stderr). */
async function runPython(args: string[]): Promise<{ stdout: string } | { unavailable: string }> {
  let out;
  try {
    out = await new Deno.Command(PYTHON, { args, stderr: "piped" }).output();
  } catch {
    return { unavailable: `${PYTHON} not found` };
  }
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  if (!out.success) return { unavailable: text(out.stderr).trim().split("\n").pop() ?? "failed" };
  return { stdout: text(out.stdout) };
}

/**
 * PyTorch's median ms per step for a config: on the CPU the better of 1 and 2
 * threads, on CUDA one run.
 */
export async function torchStepTime(
  b: BenchConfig,
  extra: string[] = [],
  device: "cpu" | "cuda" = "cpu",
): Promise<{ ms: number; threads: number; impl: string } | { unavailable: string }> {
  let best: { ms: number; threads: number; impl: string } | undefined;
  for (const threads of device === "cpu" ? [1, 2] : [1]) {
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
      "--device",
      device,
      ...extra,
    ];
    const out = await runPython(args);
    if ("unavailable" in out) return out;
    const r = JSON.parse(out.stdout);
    if (!best || r.median_ms_per_step < best.ms) {
      best = { ms: r.median_ms_per_step, threads, impl: r.impl };
    }
  }
  return best!;
}

// Best of 30 `torch.mm` calls on `threads` threads, in GFLOP/s.
const MATMUL_SNIPPET = `
import sys, time, torch
m, k, n, threads = map(int, sys.argv[1:])
torch.set_num_threads(threads)
a, b = torch.randn(m, k), torch.randn(k, n)
best = 1e9
for _ in range(30):
    t0 = time.perf_counter(); torch.mm(a, b); best = min(best, time.perf_counter() - t0)
print(2 * m * k * n / best / 1e9)
`;

/**
 * PyTorch's CPU matmul speed for an `[m, k] x [k, n]` product on `threads`
 * threads (GFLOP/s), or why it cannot be measured: native BLAS against the
 * backend's own kernels, shape for shape.
 */
export async function torchMatmulGflops(
  m: number,
  k: number,
  n: number,
  threads = 1,
): Promise<{ gflops: number } | { unavailable: string }> {
  const out = await runPython(["-c", MATMUL_SNIPPET, ...[m, k, n, threads].map(String)]);
  return "unavailable" in out ? out : { gflops: Number(out.stdout.trim()) };
}
