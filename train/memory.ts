/**
 * Estimates of the memory a training run or an evaluation needs, so that a
 * configuration too large for the backend stops before any work with a
 * message naming the key to lower, instead of `Array buffer allocation
 * failed` or a bare `Aborted()` from the wasm heap.
 *
 * The estimates count float32 tensors: parameters (with their gradients and
 * AdamW's two moments), the activations the gradient tape keeps for every
 * backpropagated loop, and the largest transient of one forward. They are
 * meant to be within a small factor of the truth, not exact.
 *
 * @module
 */
import type { ModelConfig } from "../models/config.ts";
import { paramSpecs } from "../models/params.ts";
import { DEFAULT_CONFIG, type TrainConfig } from "./config.ts";

/** Bytes the wasm backend can hold: its heap stops growing just under 4 GiB. */
export const WASM_HEAP_BYTES = 4294901760;

/**
 * The memory a backend can give tensors: the wasm heap's ceiling, else
 * (WebGPU, cpu) the machine's total memory.
 */
export function memoryLimit(backend: string): number {
  if (backend === "wasm") return WASM_HEAP_BYTES;
  try {
    return Deno.systemMemoryInfo().total;
  } catch {
    return 16 * 2 ** 30;
  }
}

/** The number of parameters a model config has (counted from its shapes, nothing allocated). */
export function paramCount(c: ModelConfig): number {
  let n = 0;
  for (const [, shape] of paramSpecs(c)) n += shape.reduce((a, b) => a * b, 1);
  return n;
}

/**
 * Floats one transformer layer keeps per row and position in a forward
 * pass: projections, attention scores over `keys` positions, the MLP's
 * hidden layer, norms and residuals.
 */
export function layerFloats(c: ModelConfig, keys: number): number {
  return 20 * c.d_model + 3 * c.n_heads * keys + 3 * c.d_ff;
}

/** Floats the embedding and the read-out keep per row and position (one-hot, logits, softmax). */
export function ioFloats(c: ModelConfig): number {
  return 4 * c.vocab_size + 4 * c.d_model;
}

/** The most loops a training step backpropagates through under a config. */
export function backpropLoops(t: TrainConfig): number {
  let loops: number;
  if (t.loop_sampler === "fixed") loops = t.loops;
  else if (t.loop_sampler === "poisson_lognormal") loops = t.loop_backprop;
  else loops = t.loop_max;
  // The penalty's power iteration evaluates the loop again, 2 per step (JVP).
  if (t.reg_weight > 0) loops += 2 * (t.reg_kind === "spectral" ? t.reg_iters : t.reg_samples) + 1;
  return loops;
}

/** One part of an estimate and the config key that scales it. */
export interface MemoryPart {
  /** What it is. */
  what: string;
  /** Bytes. */
  bytes: number;
  /** The key (or flag) to lower to shrink it. */
  key: string;
}

/** A memory estimate: its parts, largest first, and their sum. */
export interface MemoryEstimate {
  /** Total bytes. */
  bytes: number;
  /** The parts, largest first. */
  parts: MemoryPart[];
}

function estimate(parts: MemoryPart[]): MemoryEstimate {
  parts.sort((a, b) => b.bytes - a.bytes);
  return { bytes: parts.reduce((s, p) => s + p.bytes, 0), parts };
}

/**
 * The memory of one training step: parameters x 4 (weights, gradients,
 * AdamW's m and v) plus activations for `batch_size` rows of `max_seq_len`
 * positions through every backpropagated loop (x 4 for the backward
 * pass and the tape's own copies, as measured on wasm), plus the embedding
 * and read-out.
 */
export function trainingMemory(t: TrainConfig, m: ModelConfig): MemoryEstimate {
  const rows = t.batch_size, len = m.max_seq_len;
  const layers = m.prelude_layers + m.coda_layers + backpropLoops(t) * m.n_layers;
  const loopKey = t.loop_sampler === "fixed"
    ? "loops"
    : t.loop_sampler === "poisson_lognormal"
    ? "loop_backprop"
    : "loop_max";
  return estimate([
    {
      what: "parameters, gradients and AdamW moments",
      bytes: 16 * paramCount(m),
      key: largest(t, ["d_model", "d_ff", "n_layers", "prelude_layers", "coda_layers"], "d_model"),
    },
    {
      what: `activations (${rows} rows x ${len} positions x ${layers} layer passes)`,
      bytes: 4 * 4 * rows * len * layers * layerFloats(m, len),
      key: largest(t, ["batch_size", "d_model", "d_ff", loopKey, "n_layers"], "batch_size"),
    },
    {
      what: `embedding and read-out (${rows} rows x ${len} positions x ${m.vocab_size} tokens)`,
      bytes: 2 * 4 * rows * len * ioFloats(m),
      key: t.tokenizer === "bpe" && t.task === "gsm8k-synthetic"
        ? "batch_size (or use tokenizer char)"
        : "batch_size",
    },
  ]);
}

// The key furthest above its default (the likeliest culprit), with its value.
function largest(t: TrainConfig, keys: (keyof TrainConfig)[], fallback: string): string {
  const ratio = (k: keyof TrainConfig) =>
    (t[k] as number) / Math.max(1, DEFAULT_CONFIG[k] as number);
  const top = [...keys].sort((a, b) => ratio(b) - ratio(a))[0];
  const key = ratio(top) > 1 ? top : fallback;
  return `${key} (${t[key as keyof TrainConfig]})`;
}

/** Bytes as text: `1.5 GB`, `320 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e15) return `${bytes.toExponential(1)} bytes`;
  const units = ["bytes", "kB", "MB", "GB", "TB"];
  let u = 0;
  while (bytes >= 1000 && u < units.length - 1) {
    bytes /= 1000;
    u++;
  }
  return `${bytes.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

/**
 * A message when `e` exceeds `limit` bytes (else undefined): the total, the
 * limit, the largest part and the key to lower, e.g. `needs about 12.3 GB
 * (activations ...: 12.1 GB), more than the wasm backend's 4.3 GB; lower
 * batch_size`.
 */
export function overLimit(
  e: MemoryEstimate,
  limit: number,
  backend: string,
  keyName: (key: string) => string = (k) => k,
): string | undefined {
  if (e.bytes <= limit) return undefined;
  const top = e.parts[0];
  return `needs about ${formatBytes(e.bytes)} (${top.what}: ${formatBytes(top.bytes)}), ` +
    `more than the ${backend} backend's ${formatBytes(limit)}; lower ${keyName(top.key)}`;
}
