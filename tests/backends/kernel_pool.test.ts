/**
 * The worker pool of the SIMD matrix products (backends/wasm/pool.ts): a
 * product split across threads equals the single-threaded one bit for bit,
 * and a worker's failure is an error on the calling thread, not a hang.
 */
import { assertEquals, assertThrows } from "@std/assert";
import { KernelPool } from "../../backends/wasm/pool.ts";
import {
  compileSimdMatMul,
  gemmScratchBytes,
  simdMatMul,
} from "../../backends/wasm/simd_matmul.ts";

function sharedHeap(): { memory: WebAssembly.Memory; heap: Float32Array } {
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 64, shared: true });
  const heap = new Float32Array(memory.buffer);
  for (let i = 0; i < 40_000; i++) heap[i] = Math.sin(i * 0.37) * Math.cos(i * 0.011);
  return { memory, heap };
}

Deno.test("kernel pool: products split across threads equal single-threaded ones", () => {
  const { memory, heap } = sharedHeap();
  const pool = new KernelPool(compileSimdMatMul(true), memory, 2);
  const single = simdMatMul(memory);
  try {
    const [m, k, n] = [36, 20, 16], a = 0, b = 4 * 10_000, c1 = 4 * 20_000, c2 = 4 * 30_000;
    // gemm by rows: 12 rows a thread on three threads, each with its own scratch.
    const scratch = (t: number) => 4 * 36_000 + t * gemmScratchBytes(k, 6);
    single.gemm(a, b, c1, m, k, n, 4 * k, 4, 6, scratch(0));
    pool.run(
      "gemm",
      [0, 12, 24].map((
        r,
        t,
      ) => [a + 4 * r * k, b, c2 + 4 * r * n, 12, k, n, 4 * k, 4, 6, scratch(t)]),
    );
    assertEquals(heap.slice(c2 / 4, c2 / 4 + m * n), heap.slice(c1 / 4, c1 / 4 + m * n));
    // bmmT by batches: 3 matrices, one a thread.
    const [g, mm, kk, nn] = [3, 5, 7, 6];
    single.bmmT(a, b, c1, g, mm, kk, nn);
    pool.run(
      "bmmT",
      [0, 1, 2].map((i) => [
        a + 4 * i * mm * kk,
        b + 4 * i * nn * kk,
        c2 + 4 * i * mm * nn,
        1,
        mm,
        kk,
        nn,
      ]),
    );
    assertEquals(
      heap.slice(c2 / 4, c2 / 4 + g * mm * nn),
      heap.slice(c1 / 4, c1 / 4 + g * mm * nn),
    );
  } finally {
    pool.close();
  }
});

Deno.test("kernel pool: a worker's failing kernel is an error on the calling thread", () => {
  const { memory } = sharedHeap();
  const pool = new KernelPool(compileSimdMatMul(true), memory, 1);
  try {
    // The worker's block reads far past the end of the memory: a trap there.
    const outside = 64 * 65_536 + 4096;
    const block = (a: number) => [a, 0, 4096, 1, 4, 8, 16, 4, 6, 8192];
    assertThrows(
      () => pool.run("gemm", [block(0), block(outside)]),
      Error,
      "a worker's kernel failed",
    );
    // The pool still works afterwards.
    pool.run("gemm", [block(0), block(0)]);
  } finally {
    pool.close();
  }
});
