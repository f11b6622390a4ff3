/**
 * The WebAssembly SIMD arithmetic peak of one core: multiply-adds on
 * 4-lane registers with no memory traffic, as many independent
 * accumulators as hide the instruction's latency. No matrix product in
 * wasm can beat it, so it bounds what the CPU backend can reach; native
 * BLAS runs 256- or 512-bit vectors and is bounded by a multiple of it.
 */
import {
  accumulate,
  defineKernel,
  forLoop,
  get,
  i32,
  kernelModule,
  set,
  v128Store,
  v128Zero,
  vConst,
} from "../backends/wasm/asm.ts";

const ACCUMULATORS = 12, UNROLL = 4;

/** `peak(iterations)`: `iterations * UNROLL * ACCUMULATORS` 4-lane multiply-adds. */
function peakModule(fused: boolean): Uint8Array<ArrayBuffer> {
  const peak = defineKernel("peak", ["iterations"] as const, (f, { iterations }) => {
    const [it] = f.locals("i32", 1);
    const acc = f.locals("v128", ACCUMULATORS);
    const [x, y] = f.locals("v128", 2);
    const code = [...vConst(1.0001), ...set(x), ...vConst(0.9999), ...set(y)];
    for (const a of acc) code.push(...v128Zero, ...set(a));
    const body: number[] = [];
    for (let u = 0; u < UNROLL; u++) {
      for (const a of acc) body.push(...accumulate(a, get(x), get(y), fused));
    }
    code.push(...forLoop(it, iterations, body));
    // Store the sums so the loop is not dead code.
    acc.forEach((a, q) => code.push(...v128Store(i32(16 * q), get(a))));
    return code;
  });
  return kernelModule([peak], false);
}

/**
 * Best-of-`reps` GFLOP/s (a multiply-add counts two) of the register-only
 * loop on this thread, with relaxed SIMD's fused multiply-add where the
 * runtime has it.
 *
 * @example
 * ```ts
 * import { simdPeakGflops } from "./simd_peak.ts";
 * simdPeakGflops(); // about 56 on one core of an AMD EPYC (Zen 4) at 3.5 GHz
 * ```
 */
export function simdPeakGflops(iterations = 1_000_000, reps = 5): number {
  const memory = new WebAssembly.Memory({ initial: 1 });
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(peakModule(true));
  } catch {
    module = new WebAssembly.Module(peakModule(false));
  }
  const { peak } = new WebAssembly.Instance(module, { env: { memory } }).exports as {
    peak: (iterations: number) => void;
  };
  peak(1000);
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    peak(iterations);
    best = Math.min(best, performance.now() - t0);
  }
  return 2 * 4 * ACCUMULATORS * UNROLL * iterations / (best * 1e6);
}
