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
    const args = [SCRIPT, ...scriptArgs(b, threads, device), "--steps", "10", ...extra];
    const out = await runPython(args);
    if ("unavailable" in out) return out;
    const r = JSON.parse(out.stdout);
    if (!best || r.median_ms_per_step < best.ms) {
      best = { ms: r.median_ms_per_step, threads, impl: r.impl };
    }
  }
  return best!;
}

function scriptArgs(b: BenchConfig, threads: number, device: string): string[] {
  const sizes = { d: b.d, heads: b.heads, ff: b.ff, batch: b.batch, seq: 16, loops: b.loops };
  return [
    ...Object.entries(sizes).flatMap(([k, v]) => [`--${k}`, String(v)]),
    ...["--threads", String(threads), "--device", device],
  ];
}

/** A PyTorch process that times steps on request (`torch_looped_ref.py --serve`). */
export interface TorchSteps {
  /** Threads PyTorch was given. */
  readonly threads: number;
  /** Runs `n` steps; their times in ms. */
  run(n: number): Promise<number[]>;
  /** Ends the process. */
  close(): Promise<void>;
}

/**
 * Starts PyTorch timing steps of a config on request (after its warm-up),
 * so a benchmark can alternate them with its own on the same machine
 * state; or why it cannot.
 */
export async function startTorchSteps(
  b: BenchConfig,
  threads: number,
  extra: string[] = [],
  device: "cpu" | "cuda" = "cpu",
): Promise<TorchSteps | { unavailable: string }> {
  let child;
  try {
    child = new Deno.Command(PYTHON, {
      args: [SCRIPT, ...scriptArgs(b, threads, device), "--serve", ...extra],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch {
    return { unavailable: `${PYTHON} not found` };
  }
  const writer = child.stdin.getWriter();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(splitLines())
    .getReader();
  // Why it stopped: the last line of its stderr (read once).
  let failure: Promise<{ unavailable: string }> | undefined;
  const failed = () =>
    failure ??= (async () => {
      await writer.close().catch(() => {});
      const err = await new Response(child.stderr).text();
      await child.status;
      return { unavailable: err.trim().split("\n").pop() || "failed" };
    })();
  const steps: TorchSteps = {
    threads,
    async run(n) {
      await writer.write(new TextEncoder().encode(`${n}\n`));
      const { value, done } = await lines.read();
      if (done) throw new Error(`PyTorch stopped: ${(await failed()).unavailable}`);
      return JSON.parse(value).ms;
    },
    async close() {
      await writer.close().catch(() => {});
      lines.releaseLock();
      await child.stdout.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
      await child.status;
    },
  };
  // One step answers whether it runs at all (and finishes its warm-up).
  try {
    await steps.run(1);
  } catch {
    return await failed();
  }
  return steps;
}

function splitLines(): TransformStream<string, string> {
  let rest = "";
  return new TransformStream({
    transform(chunk, out) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const line of parts) if (line.trim()) out.enqueue(line);
    },
    flush(out) {
      if (rest.trim()) out.enqueue(rest);
    },
  });
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
