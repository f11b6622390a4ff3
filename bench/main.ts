/**
 * `deno task bench`: step times as JSON lines, each next to PyTorch's on the
 * same machine (when Debian's python3-torch is installed, or PyTorch for CUDA
 * on a GPU runner) with the ratio. Compare ratios within one run: the
 * machines are shared and noisy.
 *
 * On a real GPU (`STARS_BACKEND=webgpu`) PyTorch runs on CUDA and the paper's
 * configuration is timed too, with tfjs's matrix product and then with the
 * toolkit's tiled one (`backends/webgpu/matmul.ts`); on the CPU that one takes minutes a step, so it
 * runs only with `STARS_BENCH_PAPER=1`.
 */
import { hasRealGpu, useBackend } from "../backends/select.ts";
import { jacobianPenalty } from "../regularizers/jacobian_penalty.ts";
import { BENCH_SMALL, type BenchConfig, PAPER_BENCH, stepRunner, stepTime } from "./step_time.ts";
import { alternateRounds, type StepRunner } from "./alternate.ts";
import { matmulGflops, trainingFlops } from "./ceiling.ts";
import { sweepCacheBench } from "./sweep.ts";
import { fullSweepBench } from "./full_sweep.ts";
import { armStepTime } from "./arm_step.ts";
import { threadedStepTime } from "./threaded_step.ts";
import { startTorchSteps, torchMatmulGflops, type TorchSteps, torchStepTime } from "./torch_ref.ts";
import { simdPeakGflops } from "./simd_peak.ts";
import { webgpuMatMulBench } from "./webgpu_matmul.ts";
import { productPathStepTimes } from "./products.ts";
import { nativeBlasStatus } from "../backends/native/blas.ts";
import { registerWebgpuMatMul, webgpuMatMulFromEnv } from "../backends/webgpu/matmul.ts";

const backend = await useBackend(
  (Deno.env.get("STARS_BACKEND") as "wasm" | undefined) ?? "wasm",
);
const gpu = backend === "webgpu" && await hasRealGpu();
const device = gpu ? "cuda" : "cpu";
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const report = (record: Record<string, unknown>) => console.log(JSON.stringify(record));

// Toolkit and PyTorch steps alternate in rounds (alternate.ts): the
// machines are shared, and one contender's steps a minute after the other's
// can see another machine.
const ROUNDS = { rounds: 5, block: 3 };
const METHOD = `alternating rounds (${ROUNDS.rounds} x ${ROUNDS.block} steps each), medians`;

/** PyTorch timing a config's steps on request, at each thread count it is tried with. */
async function torchServers(config: BenchConfig, extra: string[] = [], threads?: number) {
  const servers: TorchSteps[] = [];
  for (const n of threads ? [threads] : device === "cpu" ? [1, 2] : [1]) {
    const server = await startTorchSteps(config, n, extra, device);
    if ("unavailable" in server) return { servers, unavailable: server.unavailable };
    servers.push(server);
  }
  return { servers, unavailable: undefined };
}

/**
 * One config's step time here and in PyTorch, reported and returned:
 * PyTorch's thread counts run a round each first, and the faster one then
 * alternates with the toolkit (on 2 cores, PyTorch's 2 threads oversubscribe
 * them: its own pool and OpenBLAS's, 3x slower, and its spinning threads
 * would weigh on whoever runs next).
 */
async function sideBySide(bench: string, config: BenchConfig, schedule = ROUNDS) {
  const ours = stepRunner(config);
  const { servers, unavailable } = await torchServers(config);
  const trial = await alternateRounds(
    Object.fromEntries(servers.map((s) => [String(s.threads), s.run])),
    { rounds: 1, block: schedule.block },
  );
  const byThreads = servers.map((s) => ({ threads: s.threads, ms: round(trial[s.threads]) }));
  const fastest = [...servers].sort((a, b) => trial[a.threads] - trial[b.threads])[0];
  await Promise.all(servers.filter((s) => s !== fastest).map((s) => s.close()));
  const medians = await alternateRounds(
    { ours: ours.run, ...(fastest ? { torch: fastest.run } : {}) } as Record<string, StepRunner>,
    schedule,
  );
  ours.dispose();
  await fastest?.close();
  const ms = medians.ours;
  const torch: { ms: number; threads: number } | { unavailable: string } = fastest
    ? { ms: round(medians.torch), threads: fastest.threads }
    : { unavailable: unavailable ?? "not run" };
  report({
    bench,
    config,
    backend,
    ...(backend === "wasm" ? { products: nativeBlasStatus() } : {}),
    method: `PyTorch's thread counts a round of ${schedule.block} steps each, then the faster ` +
      `and the toolkit in alternating rounds (${schedule.rounds} x ${schedule.block} steps ` +
      `each), medians`,
    ms_per_step: round(ms, 1),
    ...("ms" in torch
      ? {
        torch_device: device,
        torch_ms_per_step: torch.ms,
        torch_threads: torch.threads,
        torch_trial_ms_per_step_by_threads: Object.fromEntries(
          byThreads.map((t) => [t.threads, t.ms]),
        ),
        ratio_vs_torch: round(ms / torch.ms),
      }
      : { torch: unavailable }),
  });
  return { ms, torch };
}

// 1. The training step on bench-small, against PyTorch.
const { ms: plain, torch: torchPlain } = await sideBySide("train_step", BENCH_SMALL);

// 1b. The same step on each product path (wasm SIMD only, native BLAS with
//     its default threads and with one), alternating, against PyTorch.
if (backend === "wasm") {
  const paths = await productPathStepTimes(BENCH_SMALL);
  const torchMs = "ms" in torchPlain ? torchPlain.ms : undefined;
  const vsTorch = (ms: number | null) =>
    ms !== null && torchMs !== undefined ? round(ms / torchMs) : undefined;
  report({
    bench: "train_step_products",
    config: BENCH_SMALL,
    backend,
    products: nativeBlasStatus(),
    ms_per_step_wasm: round(paths.wasm, 1),
    ms_per_step_native: paths.native === null ? undefined : round(paths.native, 1),
    ms_per_step_native_1_thread: paths.native1 === null ? undefined : round(paths.native1, 1),
    native_threads: paths.threads,
    torch_ms_per_step: torchMs,
    ratio_wasm_vs_torch: vsTorch(paths.wasm),
    ratio_native_vs_torch: vsTorch(paths.native),
    ratio_native_1_thread_vs_torch: vsTorch(paths.native1),
  });
}

// 2. The ceiling: bench-small's matmul FLOPs at this backend's matmul speed
//    on the step's largest product (the MLP's [B*T, d] x [d, ff]), next to
//    wasm SIMD's arithmetic peak on one core and PyTorch's matmul on one
//    thread (native BLAS, wider vectors) for the same product.
const flops = trainingFlops(BENCH_SMALL, 16);
const shape = [BENCH_SMALL.batch * 16, BENCH_SMALL.d, BENCH_SMALL.ff] as const;
const peak = await matmulGflops(...shape);
const simdPeak = backend === "wasm" ? simdPeakGflops() : undefined;
const torchMatmul = device === "cpu" ? await torchMatmulGflops(...shape, 1) : undefined;
report({
  bench: "step_ceiling",
  config: BENCH_SMALL,
  backend,
  step_gflop: round(flops / 1e9),
  matmul_gflops: round(peak, 1),
  floor_ms_per_step: round(flops / (peak * 1e6), 1),
  step_gflops: round(flops / (plain * 1e6), 1),
  ...("ms" in torchPlain ? { torch_step_gflops: round(flops / (torchPlain.ms * 1e6), 1) } : {}),
  ...(simdPeak ? { wasm_simd_peak_gflops_per_core: round(simdPeak, 1) } : {}),
  ...(torchMatmul && "gflops" in torchMatmul
    ? { torch_matmul_gflops_1_thread: round(torchMatmul.gflops, 1) }
    : {}),
});

// 3. The paper's configuration: a GPU job.
let paperMs: number | undefined;
if (gpu || Deno.env.get("STARS_BENCH_PAPER") === "1") {
  // Seconds a step on a CPU: fewer rounds.
  paperMs = (await sideBySide("paper_config", PAPER_BENCH, { rounds: 3, block: 2 })).ms;
} else {
  report({
    bench: "paper_config",
    config: PAPER_BENCH,
    skipped: "no GPU (about 20 s a step in PyTorch on 2 CPU cores); STARS_BENCH_PAPER=1 runs it",
  });
}

// 4. The same step on the threaded wasm build (STARS_WASM_THREADS), in child
//    processes run back to back with N threads and with 1 (same build, same
//    machine state), and against this process's single-threaded build.
if (backend === "wasm") {
  const threads = Math.min(8, Math.max(2, navigator.hardwareConcurrency));
  const threaded = await threadedStepTime(threads);
  const oneThread = await threadedStepTime(1);
  report({
    bench: "train_step_threads",
    config: BENCH_SMALL,
    backend,
    threads,
    ms_per_step: round(threaded, 1),
    ms_per_step_threaded_build_one_thread: round(oneThread, 1),
    speedup: round(oneThread / threaded),
    ms_per_step_default_build: round(plain, 1),
    speedup_vs_default: round(plain / threaded),
  });
}

// 5. The STARS penalty's overhead (K = 1), as a ratio within each framework:
//    with and without it, here and in PyTorch (at its better thread count
//    in 1.), all four in alternating rounds.
const penalty = { weight: 0.1, compute: jacobianPenalty({ iters: 1, mode: "jvp" }) };
{
  const without = stepRunner(BENCH_SMALL), withPenalty = stepRunner(BENCH_SMALL, { penalty });
  const threads = "threads" in torchPlain ? torchPlain.threads : undefined;
  const torch = threads ? (await torchServers(BENCH_SMALL, [], threads)).servers[0] : undefined;
  const torchWith = threads
    ? (await torchServers(BENCH_SMALL, ["--reg-iters", "1"], threads)).servers[0]
    : undefined;
  const medians = await alternateRounds({
    without: without.run,
    with: withPenalty.run,
    ...(torch && torchWith ? { torch_without: torch.run, torch_with: torchWith.run } : {}),
  } as Record<string, StepRunner>, ROUNDS);
  without.dispose();
  withPenalty.dispose();
  await Promise.all([torch, torchWith].map((server) => server?.close()));
  report({
    bench: "penalty_overhead",
    config: { ...BENCH_SMALL, reg_iters: 1, reg_mode: "jvp" },
    backend,
    method: METHOD,
    ms_per_step: round(medians.with, 1),
    ms_per_step_without: round(medians.without, 1),
    overhead_ratio: round(medians.with / medians.without),
    ...(medians.torch_with
      ? {
        torch_threads: threads,
        torch_ms_per_step: round(medians.torch_with),
        torch_ms_per_step_without: round(medians.torch_without),
        torch_overhead_ratio: round(medians.torch_with / medians.torch_without),
      }
      : {}),
  });
}

// 6. The depth sweep with and without the per-loop KV cache, on a subset of
//    depths and problems (the uncached sweep at 1, 10, 100 loops on 1000
//    problems would take about a quarter of an hour on 2 cores); the record
//    says exactly what was measured.
report({ ...(await sweepCacheBench({ problems: 100, depths: [1, 10, 100] })), backend });

// 7. The full depth sweep of a trained checkpoint, as `deno task eval` runs it.
report({ ...(await fullSweepBench(backend)), backend });

// 8. The reproduction's arm C step (full profile): its own model, config and
//    loop draws, beside PyTorch's step at the draws' mean loop count.
const armC = await armStepTime("C");
const torchArmC = await torchStepTime(armC.config, [], device);
report({
  bench: "repro_arm_c_step",
  config: armC.config,
  backend,
  mean_loops: round(armC.meanLoops, 1),
  ms_per_step: round(armC.ms, 1),
  ...("ms" in torchArmC
    ? {
      torch_ms_per_step_at_mean_loops: torchArmC.ms,
      torch_threads: torchArmC.threads,
      ratio_vs_torch: round(armC.ms / torchArmC.ms),
    }
    : { torch: torchArmC.unavailable }),
});

// 9. On WebGPU, the toolkit's tiled matrix product against tfjs's: the
//    paper's products one by one, then the paper's step with the tiled
//    product registered (last: it stays registered for the process).
if (backend === "webgpu" && paperMs !== undefined) {
  for (const record of await webgpuMatMulBench()) report(record);
  if (webgpuMatMulFromEnv() === "tfjs") {
    registerWebgpuMatMul();
    const ms = await stepTime(PAPER_BENCH, { steps: 10, warmup: 3 });
    report({
      bench: "paper_config_toolkit_matmul",
      config: PAPER_BENCH,
      backend,
      ms_per_step: round(ms, 1),
      ms_per_step_tfjs_matmul: round(paperMs, 1),
      speedup: round(paperMs / ms),
    });
  }
}
