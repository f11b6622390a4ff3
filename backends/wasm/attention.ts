/**
 * The wasm kernels of the fused causal self-attention (ops/attention.ts):
 * the SIMD kernels of `simd_attention.ts`, for heads whose width is a
 * multiple of 4 (other shapes run the op's reference).
 * `STARS_FUSED_ATTENTION=off` leaves them unregistered, so attention runs
 * the reference, as it did before them.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { registerAttentionKernels } from "../../ops/attention.ts";
import { float32Bits } from "./simd_layer_norm.ts";
import { type SimdAttention, simdAttention } from "./simd_attention.ts";
import { offsetOf, perHeap, type WasmBackend } from "./heap.ts";
import { InputError } from "../../utils/errors.ts";

// One module per head width, per heap.
const modules = new Map<number, (backend: WasmBackend) => SimdAttention | null>();
function simdOf(backend: WasmBackend, dh: number): SimdAttention | null {
  if (!modules.has(dh)) modules.set(dh, perHeap((memory) => simdAttention(memory, dh)));
  return modules.get(dh)!(backend);
}

/** The sizes of `qkv [B, T, 3 d]` with `heads` heads. */
function sizes(qkv: tf.TensorInfo, heads: number) {
  const [batch, t, d3] = qkv.shape;
  return { batch, t, d: d3 / 3, dh: d3 / (3 * heads) };
}

function kernels(backend: WasmBackend, dh: number) {
  const simd = simdOf(backend, dh);
  if (!simd) throw new Error("wasm attention: the backend's heap is out of reach");
  return simd;
}

function forwardKernel(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { qkv } = args.inputs as Record<string, tf.TensorInfo>;
  const { heads } = args.attrs as unknown as { heads: number };
  const backend = args.backend as WasmBackend;
  const { batch, t, d, dh } = sizes(qkv, heads);
  const out = backend.makeOutput([batch, t, d], "float32");
  const probs = backend.makeOutput([batch, heads, t, t], "float32");
  // One row of scores, padded so the exponentials run four lanes at a time.
  const scratch = backend.makeOutput([4 * Math.ceil(t / 4)], "float32");
  const [pq, po, pp, ps] = [qkv, out, probs, scratch].map((x) => offsetOf(backend, x));
  kernels(backend, dh).forward(pq, po, pp, batch, heads, t, float32Bits(1 / Math.sqrt(dh)), ps);
  backend.disposeData(scratch.dataId);
  return [out, probs];
}

function backwardKernel(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { dy, qkv, probs } = args.inputs as Record<string, tf.TensorInfo>;
  const { heads } = args.attrs as unknown as { heads: number };
  const backend = args.backend as WasmBackend;
  const { batch, t, dh } = sizes(qkv, heads);
  const dqkv = backend.makeOutput(qkv.shape, "float32");
  const scratch = backend.makeOutput([t * t], "float32"); // one pair's dS
  const [pdy, pq, pp, pg, ps] = [dy, qkv, probs, dqkv, scratch].map((x) => offsetOf(backend, x));
  const scale = float32Bits(1 / Math.sqrt(dh));
  kernels(backend, dh).backward(pdy, pq, pp, pg, batch, heads, t, scale, ps);
  backend.disposeData(scratch.dataId);
  return dqkv;
}

/**
 * `STARS_FUSED_ATTENTION`: `on` (or unset, the default) or `off`; anything
 * else is an input error.
 */
export function fusedAttentionFromEnv(): "on" | "off" {
  let text: string | undefined;
  try {
    text = Deno.env.get("STARS_FUSED_ATTENTION");
  } catch {
    return "on"; // no env permission: the default
  }
  if (text === undefined || text === "" || text === "on") return "on";
  if (text === "off") return "off";
  throw new InputError(`STARS_FUSED_ATTENTION must be "on" or "off", got "${text}"`);
}

/**
 * Registers the fused attention's wasm kernels and the op's gradients
 * (idempotent), unless `STARS_FUSED_ATTENTION=off`. `useBackend("wasm")`
 * calls it through `useFastWasmKernels`.
 */
export function registerWasmAttention(): void {
  if (fusedAttentionFromEnv() === "off") return;
  registerAttentionKernels("wasm", {
    forward: forwardKernel,
    backward: backwardKernel,
    fits: ({ dh }) => dh % 4 === 0,
  });
}
