/**
 * Opt-in multi-threaded wasm: runs tfjs-backend-wasm's threaded SIMD build
 * (Emscripten pthreads, XNNPACK thread pool) under Deno.
 *
 * Deno loads the package's Node bundle, where tfjs reports no thread support
 * (`WASM_HAS_MULTITHREAD_SUPPORT` is false whenever `IS_NODE`). Forcing the
 * flag alone fails: Emscripten's Node path hands a `blob:` URL to
 * `node:worker_threads` (ERR_WORKER_PATH), and its worker script expects a
 * classic worker (`importScripts`). {@linkcode useWasmThreads} bridges both
 * while the backend starts:
 *
 * - `globalThis.Worker` is replaced for the duration of the start-up, so each
 *   of Emscripten's 8 pool workers becomes a `node:worker_threads` worker
 *   (which Emscripten can `unref`, so an idle pool does not keep Deno alive)
 *   running a small prelude: it reads the worker script and the main script
 *   from their blob URLs, defines a synchronous `importScripts` over them,
 *   hides `process` so Emscripten takes its web-worker path, and feeds the
 *   pthread messages to Emscripten's handler in order. Deno passes the
 *   `WebAssembly.Module` and the shared `WebAssembly.Memory` to workers as
 *   they are.
 * - XNNPACK's own thread pool is kept at one thread. The toolkit's kernels
 *   do the heavy work (`backends/wasm/pool.ts` splits the matrix products
 *   across `threads` threads of its own); XNNPACK's pool, which would split
 *   tfjs's remaining small kernels, made them slower (`Add` took 32 ms a
 *   bench-small step on 2 threads against 10 ms on 1) and competed with the
 *   toolkit's workers for the same cores.
 *
 * `Worker` is restored before the function returns.
 *
 * @example
 * ```ts ignore
 * import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
 * import { useWasmThreads } from "@stars/toolkit/backends";
 * setWasmPaths(wasmFolder); // as for the single-threaded backend
 * await useWasmThreads(2); // instead of tf.setBackend("wasm"); returns 2
 * ```
 */
import * as tf from "@tensorflow/tfjs";
import { setThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { Worker as NodeWorker } from "node:worker_threads";
import { InputError } from "../../utils/errors.ts";

/** Most threads: tfjs pre-creates 8 pool workers and caps XNNPACK's pool at 8. */
export const MAX_WASM_THREADS = 8;

/** Environment variable naming a thread count for the wasm backend. */
export const WASM_THREADS_ENV = "STARS_WASM_THREADS";

/**
 * The thread count asked for by `STARS_WASM_THREADS`: 0 when unset or empty
 * (or when the environment may not be read), else an integer in
 * 1..{@linkcode MAX_WASM_THREADS}; anything else throws a RangeError.
 */
export function wasmThreadsFromEnv(): number {
  let text: string | undefined;
  try {
    text = Deno.env.get(WASM_THREADS_ENV);
  } catch {
    return 0;
  }
  if (text === undefined || text.trim() === "") return 0;
  const n = Number(text);
  checkThreads(n, WASM_THREADS_ENV);
  return n;
}

function checkThreads(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
    throw new InputError(
      `${what} must be an integer from 1 to ${MAX_WASM_THREADS}, got ${n}`,
    );
  }
}

// Runs inside each pool worker (a node:worker_threads worker, CommonJS).
// WORKER_URL (prepended) is the blob URL of Emscripten's worker script.
const PRELUDE = `
"use strict";
const { parentPort } = require("node:worker_threads");
delete globalThis.process;
globalThis.self = globalThis;
globalThis.postMessage = (msg, transfer) => parentPort.postMessage(msg, transfer);
const sources = new Map();
globalThis.importScripts = (...urls) => {
  for (const url of urls) {
    if (!sources.has(url)) throw new Error("importScripts: not preloaded: " + url);
    (0, eval)(sources.get(url) + "\\n//# sourceURL=" + url);
  }
};
const preload = async (url) => {
  if (!sources.has(url)) sources.set(url, await (await fetch(url)).text());
};
let handler = null;
const boot = async () => {
  await preload(WORKER_URL);
  importScripts(WORKER_URL);
  handler = globalThis.onmessage;
  globalThis.onmessage = null;
};
const dispatch = async (data) => {
  if (data && data.cmd === "load" && typeof data.urlOrBlob === "string") {
    await preload(data.urlOrBlob);
  }
  handler({ data });
};
let queue = boot();
parentPort.on("message", (data) => {
  queue = queue.then(() => dispatch(data)).catch((e) => setTimeout(() => { throw e; }));
});
`;

/** Stands in for `Worker` while Emscripten builds its pool (called with `new`). */
function PoolWorker(url: string | URL): NodeWorker {
  const src = `const WORKER_URL = ${JSON.stringify(String(url))};\n${PRELUDE}`;
  const worker = new NodeWorker(src, { eval: true });
  const post = worker.postMessage.bind(worker);
  worker.postMessage = (msg: unknown, transfer?: Parameters<NodeWorker["postMessage"]>[1]) => {
    const m = msg as { cmd?: string; urlOrBlob?: unknown };
    // The worker cannot read a Blob synchronously; give it a URL to fetch.
    if (m?.cmd === "load" && m.urlOrBlob instanceof Blob) {
      msg = { ...m, urlOrBlob: URL.createObjectURL(m.urlOrBlob) };
    }
    post(msg, transfer);
  };
  // Emscripten refs a worker while it runs a pthread, and XNNPACK's threads
  // never end: keep them unref'd so that Deno can exit.
  worker.ref = () => {};
  return worker;
}

/**
 * Starts tfjs's wasm backend on its multi-threaded SIMD build (a shared
 * heap) and makes it the active backend, like `tf.setBackend("wasm")`; the
 * toolkit's matrix products then run on `threads` threads (the calling
 * thread counts as one), tfjs's own kernels on one. Call `setWasmPaths`
 * first, and call this before anything else starts the wasm backend.
 * Returns `threads`.
 */
export async function useWasmThreads(threads: number): Promise<number> {
  checkThreads(threads, "threads");
  // (tf.findBackend would start the backend as a side effect.)
  if ("wasm" in tf.engine().registry) {
    throw new Error(
      'wasm_threads: the wasm backend has already started; call useWasmThreads before tf.setBackend("wasm")',
    );
  }
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
  setThreadsCount(1); // XNNPACK's pool (see the module notes)
  const worker = Object.getOwnPropertyDescriptor(globalThis, "Worker");
  Object.defineProperty(globalThis, "Worker", {
    configurable: true,
    get: () => PoolWorker,
    set: () => {}, // Emscripten's Node path assigns node's Worker here.
  });
  try {
    if (!(await tf.setBackend("wasm"))) {
      throw new Error("wasm_threads: could not start the threaded wasm backend");
    }
    await tf.ready();
  } finally {
    if (worker) Object.defineProperty(globalThis, "Worker", worker);
  }
  kernelThreads = threads;
  return threads;
}

let kernelThreads = 1;

/**
 * Threads the toolkit's wasm kernels split their work across: the count
 * given to {@linkcode useWasmThreads}, or 1 on the single-threaded build.
 */
export function wasmKernelThreads(): number {
  return kernelThreads;
}
