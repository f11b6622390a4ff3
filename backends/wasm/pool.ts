/**
 * Worker threads for the toolkit's SIMD matrix products on a shared wasm
 * heap (the threaded tfjs-wasm build's, `STARS_WASM_THREADS`): each product
 * is split into row blocks (or batch blocks), the calling thread runs the
 * first and the workers the rest, each block exactly as a single thread
 * would (so results are identical, bit for bit).
 *
 * Workers are `node:worker_threads` workers (unref'd, so an idle pool does
 * not keep Deno alive) running the same compiled module over the same
 * memory. They wait on a shared control block with `Atomics.wait`; the
 * calling thread writes each worker's arguments, bumps a sequence number,
 * runs its own block and waits until every worker has counted itself done.
 *
 * @module
 */
import { Worker } from "node:worker_threads";

/** The kernels a pool runs, by the index the workers switch on. */
export const POOL_KERNELS = ["gemm", "bmm", "bmmT"] as const;
/** One of {@linkcode POOL_KERNELS}. */
export type PoolKernel = typeof POOL_KERNELS[number];

const SEQ = 0, DONE = 1, FAILED = 2, READY = 3; // control words
const SLOTS = 4, SLOT = 12; // per worker: kernel index, then arguments
const STOP = -1, SKIP = -2; // kernel indices that are not kernels

// Runs in each worker (CommonJS, evaluated). Its slot is SLOTS + SLOT * index.
const WORKER = `
const { workerData } = require("node:worker_threads");
const { compiled, memory, control, names, slot } = workerData;
let kernels = null;
try {
  kernels = new WebAssembly.Instance(compiled, { env: { memory } }).exports;
} catch {
  Atomics.store(control, ${FAILED}, 1);
}
Atomics.add(control, ${READY}, 1);
Atomics.notify(control, ${READY});
let seen = 0;
while (kernels) {
  Atomics.wait(control, ${SEQ}, seen);
  seen = Atomics.load(control, ${SEQ});
  const kernel = control[slot];
  if (kernel === ${STOP}) break;
  if (kernel !== ${SKIP}) {
    const args = Array.from(control.subarray(slot + 1, slot + ${SLOT}));
    try {
      kernels[names[kernel]](...args);
    } catch {
      Atomics.store(control, ${FAILED}, 1);
    }
  }
  Atomics.add(control, ${DONE}, 1);
  Atomics.notify(control, ${DONE});
}
`;

// How long the calling thread waits for workers before giving up (a worker
// that died would otherwise leave it blocked forever).
const START_MS = 10_000, RUN_MS = 60_000;

/** Blocks until `control[index] >= target`, or throws after `ms`. */
function waitFor(control: Int32Array, index: number, target: number, ms: number, what: string) {
  const deadline = performance.now() + ms;
  for (let now = Atomics.load(control, index); now < target; now = Atomics.load(control, index)) {
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`kernel pool: ${what} (waited ${ms} ms)`);
    Atomics.wait(control, index, now, left);
  }
}

/** A pool of `workers` threads over one shared heap and compiled module. */
export class KernelPool {
  readonly #control: Int32Array;
  readonly #workers: Worker[];
  readonly #local: Record<PoolKernel, (...args: number[]) => void>;

  /**
   * Starts `workers` workers running `module` (which exports the kernels
   * named in {@linkcode POOL_KERNELS}) over `memory`, which must be shared,
   * and waits until they are ready (throws if they do not start).
   */
  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, workers: number) {
    this.#control = new Int32Array(new SharedArrayBuffer(4 * (SLOTS + SLOT * workers)));
    this.#local = new WebAssembly.Instance(module, { env: { memory } })
      .exports as unknown as Record<PoolKernel, (...args: number[]) => void>;
    this.#workers = Array.from({ length: workers }, (_, index) => {
      const worker = new Worker(WORKER, {
        eval: true,
        workerData: {
          compiled: module, // ("module" is taken in a CommonJS worker)
          memory,
          control: this.#control,
          names: POOL_KERNELS,
          slot: SLOTS + SLOT * index,
        },
      });
      worker.unref();
      return worker;
    });
    waitFor(this.#control, READY, workers, START_MS, "workers did not start");
    if (Atomics.load(this.#control, FAILED)) {
      this.close();
      throw new Error("kernel pool: a worker could not instantiate the kernels");
    }
  }

  /** Threads in all: the workers and the calling thread. */
  get threads(): number {
    return this.#workers.length + 1;
  }

  /**
   * Runs `kernel` once per argument list, the first on the calling thread
   * and the others on workers, and returns when all are done. At most
   * {@linkcode threads} lists.
   */
  run(kernel: PoolKernel, blocks: number[][]): void {
    const control = this.#control, workers = blocks.length - 1;
    if (workers > this.#workers.length) {
      throw new RangeError("kernel pool: more blocks than threads");
    }
    Atomics.store(control, DONE, 0);
    for (let w = 0; w < workers; w++) {
      const slot = SLOTS + SLOT * w;
      control[slot] = POOL_KERNELS.indexOf(kernel);
      control.set(blocks[w + 1], slot + 1);
    }
    // Workers without a block this time still wake and count themselves done.
    for (let w = workers; w < this.#workers.length; w++) control[SLOTS + SLOT * w] = SKIP;
    Atomics.add(control, SEQ, 1);
    Atomics.notify(control, SEQ);
    this.#local[kernel](...blocks[0]);
    waitFor(control, DONE, this.#workers.length, RUN_MS, "workers did not finish");
    if (Atomics.exchange(control, FAILED, 0)) {
      throw new Error("kernel pool: a worker's kernel failed");
    }
  }

  /** Stops the workers. */
  close(): void {
    this.#workers.forEach((_, w) => this.#control[SLOTS + SLOT * w] = STOP);
    Atomics.add(this.#control, SEQ, 1);
    Atomics.notify(this.#control, SEQ);
  }
}
