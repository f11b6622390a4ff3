/**
 * Estimates of the memory a model needs, so that a configuration too large
 * for the backend stops before any work with a message naming the key to
 * lower, instead of `Array buffer allocation failed` or a bare `Aborted()`
 * from the wasm heap. Training's estimate (train/memory.ts) and the
 * evaluations' (eval/decode.ts, eval/dynamics.ts) are built from these.
 *
 * The estimates count float32 tensors and are meant to be within a small
 * factor of the truth, not exact.
 *
 * @module
 */
import type { ModelConfig } from "./config.ts";
import { paramSpecs } from "./params.ts";

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

/** An estimate from its parts (sorted largest first in place). */
export function memoryEstimate(parts: MemoryPart[]): MemoryEstimate {
  parts.sort((a, b) => b.bytes - a.bytes);
  return { bytes: parts.reduce((s, p) => s + p.bytes, 0), parts };
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
