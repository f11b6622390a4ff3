/**
 * Greedy decoding that runs the loop one step at a time: each loop in its
 * own `tf.tidy` (so 100 loops keep only the cache, not every loop's
 * intermediates), each loop with its own key/value cache (as
 * {@linkcode greedyGenerate}), and optionally a read-out after every loop
 * so a policy can pick, per row and token, the loop whose prediction to
 * emit (adaptive exit).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { KVEntry } from "../models/layer.ts";
import { cacheTensors, type DecodeCache, emptyCache, type LoopedLM } from "../models/looped.ts";
import { argmax } from "./distribution.ts";
import type { LoopPoint } from "./exit.ts";
import { ioFloats, layerFloats } from "../models/memory.ts";

/** Everything read out while computing one token for a batch. */
export interface TokenTrace {
  /** Rows in the batch. */
  rows: number;
  /** Vocabulary size. */
  vocab: number;
  /** State width d. */
  width: number;
  /** Loops computed. */
  loops: number;
  /**
   * `logProbs[t]`, t = 0..loops: next-token log-probabilities [rows * vocab]
   * at the predicting (last) position after t loops; only `logProbs[loops]`
   * unless every loop is read out, and t = 0 only when loops is 0.
   */
  logProbs: (Float32Array | undefined)[];
  /** `states[t]`, t = 0..loops: h_t [rows * width] at the last position, when kept. */
  states: (Float32Array | undefined)[];
}

/** The token to emit per row and the loop it was read at. */
export interface TokenChoice {
  /** Token id per row. */
  ids: number[];
  /** Loop used per row (1..loops; 0 when loops is 0). */
  loops: number[];
}

/** Settings of {@linkcode decodeLoopwise}. */
export interface LoopwiseOptions {
  /** Read out after every loop, not only the last (default false). */
  everyLoop?: boolean;
  /**
   * Keep per-loop key/value caches (default true); false recomputes the
   * whole prefix for every token (the slow reference, still one loop per tidy).
   */
  cache?: boolean;
  /** Keep the last position's state after every loop (default false). */
  keepStates?: boolean;
  /** Picks each row's token; default: argmax after the last loop. */
  choose?: (trace: TokenTrace) => TokenChoice;
}

/** What {@linkcode decodeLoopwise} returns. */
export interface LoopwiseResult {
  /** Generated ids, one array per row. */
  tokens: number[][];
  /** The loop each generated token was read at, one array per row. */
  loopsUsed: number[][];
}

/** One row's trajectory (views after 0..loops loops) from a batch trace. */
export function rowTrajectory(trace: TokenTrace, row: number): LoopPoint[] {
  const { vocab: v, width: d } = trace;
  return Array.from({ length: trace.loops + 1 }, (_, t) => ({
    logProbs: trace.logProbs[t]?.subarray(row * v, (row + 1) * v),
    state: trace.states[t]?.subarray(row * d, (row + 1) * d),
  }));
}

/** The default choice: argmax of the read-out after the last loop. */
export function lastLoopChoice(trace: TokenTrace): TokenChoice {
  const last = trace.logProbs[trace.loops]!;
  const ids = Array.from(
    { length: trace.rows },
    (_, r) => argmax(last.subarray(r * trace.vocab, (r + 1) * trace.vocab)),
  );
  return { ids, loops: ids.map(() => trace.loops) };
}

function lastPosition(x: tf.Tensor3D): tf.Tensor2D {
  const t = x.shape[1];
  return x.slice([0, t - 1, 0], [-1, 1, -1]).squeeze([1]);
}

/**
 * Generates `count` tokens after equal-length prompts, running `loops`
 * loops per token with per-loop key/value caches. With `everyLoop`, every
 * loop t also gets its own coda cache, so the read-out after loop t is
 * exactly the prediction of a model run at t loops on the same prefix.
 * Emitted tokens (from `choose`) are fed back for the next position, whose
 * loops all run to `loops` (so every loop's cache stays complete).
 *
 * @example
 * ```ts
 * import { LoopedLM, PAPER_MODEL, useBackend } from "@stars/toolkit";
 * import { decodeLoopwise } from "@stars/toolkit/eval";
 * await useBackend("wasm");
 * const model = new LoopedLM({ ...PAPER_MODEL, d_model: 16, n_heads: 2, d_ff: 32 }, 1);
 * const { tokens } = await decodeLoopwise(model, [[1, 2, 10, 3, 4, 11]], 3, 8);
 * if (tokens[0].length > 8) throw new Error("at most 8 new tokens");
 * ```
 */
export async function decodeLoopwise(
  model: LoopedLM,
  prompts: number[][],
  count: number,
  loops: number,
  options: LoopwiseOptions = {},
): Promise<LoopwiseResult> {
  if (!Number.isInteger(loops) || loops < 0) {
    throw new RangeError(`decode: loops must be an integer >= 0, got ${loops}`);
  }
  const c = model.config;
  const cache = emptyCache(c);
  const codas = new Map<number, KVEntry[]>();
  const codaFor = (t: number) => {
    if (!codas.has(t)) {
      codas.set(t, Array.from({ length: c.coda_layers }, () => ({ k: null, v: null })));
    }
    return codas.get(t)!;
  };
  const held = () =>
    [
      ...cacheTensors(cache),
      ...[...codas.values()].flat().flatMap((e) => [e.k, e.v]).filter((x) => x !== null),
    ] as tf.Tensor[];
  // Runs fn in a tidy, keeping the cache's new tensors and freeing the ones they replace.
  const tidyCache = <T extends tf.Tensor>(fn: () => T): T => {
    const before = new Set(held());
    const out = tf.tidy(() => {
      const r = fn();
      held().forEach((x) => tf.keep(x));
      return r;
    });
    const now = new Set(held());
    before.forEach((x) => now.has(x) || x.dispose());
    return out;
  };
  const choose = options.choose ?? lastLoopChoice;
  const rows = prompts.length;
  const out: LoopwiseResult = { tokens: prompts.map(() => []), loopsUsed: prompts.map(() => []) };
  const cached = options.cache ?? true;
  const opts = cached ? { cache } : {};
  let input = prompts;
  try {
    for (let i = 0; i < count; i++) {
      const trace: TokenTrace = {
        rows,
        vocab: c.vocab_size,
        width: c.d_model,
        loops,
        logProbs: new Array(loops + 1).fill(undefined),
        states: new Array(loops + 1).fill(undefined),
      };
      const e = tidyCache(() => model.embed(tf.tensor2d(input, undefined, "int32"), opts));
      let h = tf.tidy(() => model.initialState(e));
      const keepState = async (t: number) => {
        const last = tf.tidy(() => lastPosition(h));
        trace.states[t] = await last.data() as Float32Array;
        last.dispose();
      };
      try {
        for (let t = 0; t <= loops; t++) {
          if (t > 0) {
            const next = tidyCache(() => model.step(h, e, opts, t - 1));
            if (h !== e) h.dispose();
            h = next;
          }
          if ((options.everyLoop && t > 0) || t === loops) {
            const view: DecodeCache = {
              ...cache,
              coda: options.everyLoop ? codaFor(t) : codaFor(0),
            };
            const lp = tidyCache(() =>
              tf.logSoftmax(lastPosition(model.readout(h, cached ? { cache: view } : {})))
            );
            trace.logProbs[t] = await lp.data() as Float32Array;
            lp.dispose();
          }
          if (options.keepStates) await keepState(t);
        }
      } finally {
        if (h !== e) h.dispose();
        e.dispose();
      }
      if (cached) cache.length += input[0].length;
      const picked = choose(trace);
      picked.ids.forEach((id, r) => {
        out.tokens[r].push(id);
        out.loopsUsed[r].push(picked.loops[r]);
      });
      input = cached
        ? picked.ids.map((id) => [id])
        : input.map((row, r) => [...row, picked.ids[r]]);
    }
  } finally {
    tf.dispose(held());
  }
  return out;
}

/**
 * Floats held by the key/value caches when decoding `rows` sequences of up
 * to `seqLen` positions at `loops` loops: every attention layer keeps keys
 * and values `[rows, seqLen, d]`; with `everyLoop` the coda is cached per loop.
 */
export function cacheFloats(
  config: LoopedLM["config"],
  loops: number,
  rows: number,
  seqLen: number,
  everyLoop = false,
): number {
  const layers = config.prelude_layers + loops * config.n_layers +
    (everyLoop ? loops : 1) * config.coda_layers;
  return layers * 2 * rows * seqLen * config.d_model;
}

/** Default cache budget of the sweep: 64M floats (256 MB in float32). */
export const DEFAULT_CACHE_BUDGET = 64 * 2 ** 20;

/**
 * The largest batch (at most `maxRows`, at least 1) whose caches fit in
 * `budget` floats (see {@linkcode cacheFloats}).
 */
export function cacheBatchSize(
  config: LoopedLM["config"],
  loops: number,
  seqLen: number,
  maxRows: number,
  budget: number = DEFAULT_CACHE_BUDGET,
  everyLoop = false,
): number {
  const perRow = cacheFloats(config, loops, 1, seqLen, everyLoop);
  return Math.max(1, Math.min(maxRows, Math.floor(budget / perRow)));
}

/**
 * Floats one row's transient tensors take in one loop of a decoding step:
 * a layer's activations and the read-out over up to `seqLen` positions (the
 * prompt's first step, or every step without the cache).
 */
export function stepFloatsPerRow(config: LoopedLM["config"], seqLen: number): number {
  return seqLen * (layerFloats(config, seqLen) + ioFloats(config));
}

/** Default budget of one decoding step's transient tensors: 256M floats (1 GiB in float32). */
export const DEFAULT_STEP_BUDGET = 256 * 2 ** 20;

/**
 * Bytes one decoded row needs at `loops` loops: its key/value caches (see
 * {@linkcode cacheFloats}) and one loop's transient tensors.
 */
export function decodeMemoryPerRow(
  config: LoopedLM["config"],
  loops: number,
  seqLen: number,
  everyLoop = false,
): number {
  return 4 * (cacheFloats(config, loops, 1, seqLen, everyLoop) + stepFloatsPerRow(config, seqLen));
}

/**
 * The batch a decoding sweep uses: {@linkcode cacheBatchSize}, further
 * capped so that one loop's transient tensors of the whole batch stay under
 * `stepBudget` floats (a single forward of many rows cannot exhaust the
 * wasm heap). At least 1.
 */
export function decodeBatchSize(
  config: LoopedLM["config"],
  loops: number,
  seqLen: number,
  maxRows: number,
  budget: number = DEFAULT_CACHE_BUDGET,
  everyLoop = false,
  stepBudget: number = DEFAULT_STEP_BUDGET,
): number {
  const rows = cacheBatchSize(config, loops, seqLen, maxRows, budget, everyLoop);
  return Math.max(1, Math.min(rows, Math.floor(stepBudget / stepFloatsPerRow(config, seqLen))));
}
