/**
 * Causal multi-head self-attention over a fused `qkv` projection, as one
 * tfjs op with a kernel per backend (`StarsAttention`, `StarsAttentionGrad`)
 * and gradients shared by all of them.
 *
 * Built from tfjs ops ({@linkcode attentionReference}), attention is about
 * 12 kernels forward (the heads' transpose and split, two batched products,
 * scale, mask, softmax, the merge) and twice that backward; on the short
 * sequences of the toolkit's tasks each is a small call whose dispatch costs
 * more than its arithmetic. A backend's fused kernel does all of it in one
 * call each way (backends/wasm/attention.ts), saving the probabilities for
 * the backward one. {@linkcode causalSelfAttention} runs it where the active
 * backend has one that fits the shapes, the reference elsewhere; decoding
 * with a key/value cache (models/layer.ts) uses the pieces
 * ({@linkcode splitHeads}, {@linkcode attend}, {@linkcode mergeHeads}).
 *
 * The fused kernel sums in another order than the reference, so results
 * agree within float32 rounding, not bit for bit: {@linkcode setFusedAttention}
 * (false) or `STARS_FUSED_ATTENTION=off` replays runs made before it.
 *
 * Second order: the backward kernel's gradient with respect to its incoming
 * gradient is the forward map's Jacobian-vector product, written in tfjs
 * ops (exact, so `jvpExact` through the model stays exact); with respect to
 * `qkv` it is not written and raises an error (no estimator needs it: the
 * penalties differentiate the finite-difference `jvp`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type KernelImpl, registerOpKernels } from "./kernels.ts";
import { matmul, matmulTransposed } from "./matmul.ts";

/** The forward kernel's name: input `qkv [B, T, 3d]`, attribute `heads`; outputs `[out [B, T, d], probs [B, H, T, T]]`. */
export const ATTENTION = "StarsAttention";
/** The backward kernel's name: inputs `dy [B, T, d]`, `qkv`, `probs`, attribute `heads`; output `dqkv`. */
export const ATTENTION_GRAD = "StarsAttentionGrad";

const FORWARD = ATTENTION;
const BACKWARD = ATTENTION_GRAD;

/**
 * Additive causal mask [Tq, Tk] for queries at positions `offset .. offset+Tq-1`
 * over keys at positions `0 .. Tk-1`: 0 where the key is not after the
 * query, -1e9 where it is.
 */
export function causalMask(tq: number, tk = tq, offset = tk - tq): tf.Tensor2D {
  // Filled here and uploaded: built from tfjs ops it cost five kernels per
  // loop (wasm's Greater alone ~0.6 ms on [16, 16]).
  const values = new Float32Array(tq * tk);
  for (let i = 0; i < tq; i++) {
    values.fill(-1e9, i * tk + Math.max(0, offset + i + 1), (i + 1) * tk);
  }
  return tf.tensor2d(values, [tq, tk]);
}

/**
 * `qkv [B, T, 3d]` split into queries, keys and values of `[H*B, T, dh]`
 * each, head-major: head `h` of each is columns `h dh .. (h+1) dh` of its
 * third of `qkv`.
 */
export function splitHeads(qkv: tf.Tensor, heads: number): tf.Tensor[] {
  const [b, t, d3] = qkv.shape;
  const dh = d3 / (3 * heads);
  // [B, T, 3H, dh] -> [3H, B, T, dh], split into q, k, v of [H*B, T, dh].
  // Head-major, so the split takes three contiguous blocks (wasm slices
  // strided blocks row by row, ~10x slower), and a rank-4 transpose (wasm's
  // rank-5 transpose is ~600x slower). Attention is per (head, batch) pair,
  // so the order of that axis is free.
  const all = tf.transpose(qkv.reshape([b, t, 3 * heads, dh]), [2, 0, 1, 3]);
  return tf.split(all, 3, 0).map((z) => z.reshape([heads * b, t, dh]));
}

/** `[H*B, T, dh]` (head-major) back to `[B, T, H*dh]`. */
export function mergeHeads(mixed: tf.Tensor, heads: number, b: number): tf.Tensor {
  const [, t, dh] = mixed.shape;
  return tf.transpose(mixed.reshape([heads, b, t, dh]), [1, 2, 0, 3]).reshape([b, t, heads * dh]);
}

/**
 * `softmax(q k^T / sqrt(dh) + mask) v` for `[H*B, T, dh]` queries over
 * `[H*B, Tk, dh]` keys and values (the last `T` of `Tk` positions query;
 * one query sees every key), with `dropProbs` applied to the probabilities.
 */
export function attend(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  dropProbs?: (p: tf.Tensor) => tf.Tensor,
): tf.Tensor {
  const t = q.shape[1]!, tk = k.shape[1]!, dh = q.shape[2]!;
  const scores = tf.mul(matmulTransposed(q, k), 1 / Math.sqrt(dh));
  const masked = t === 1 ? scores : tf.add(scores, causalMask(t, tk));
  const probs = tf.softmax(masked);
  return matmul(dropProbs ? dropProbs(probs) : probs, v);
}

/** Causal self-attention from tfjs ops: the reference the kernels are tested against. */
export function attentionReference(qkv: tf.Tensor, heads: number): tf.Tensor {
  const [q, k, v] = splitHeads(qkv, heads);
  return mergeHeads(attend(q, k, v), heads, qkv.shape[0]);
}

/**
 * `J w` of `qkv -> attention(qkv)` at `qkv` (with its probabilities
 * `probs [B, H, T, T]`), for a direction `w` shaped like `qkv`: the
 * backward kernel's gradient with respect to its incoming gradient.
 */
export function attentionJvp(
  qkv: tf.Tensor,
  probs: tf.Tensor,
  w: tf.Tensor,
  heads: number,
): tf.Tensor {
  const [b, t] = qkv.shape;
  const [q, k, v] = splitHeads(qkv, heads);
  const [dq, dk, dv] = splitHeads(w, heads);
  const p = tf.transpose(probs, [1, 0, 2, 3]).reshape([heads * b, t, t]);
  const scale = 1 / Math.sqrt(q.shape[2]!);
  const ds = tf.mul(tf.add(tf.matMul(dq, k, false, true), tf.matMul(q, dk, false, true)), scale);
  const dp = tf.mul(p, tf.sub(ds, tf.sum(tf.mul(p, ds), -1, true)));
  return mergeHeads(tf.add(tf.matMul(dp, v), tf.matMul(p, dv)), heads, b);
}

let gradientsRegistered = false;

/** Registers the op's gradients (idempotent; shared by every backend's kernels). */
export function registerAttentionGradients(): void {
  if (gradientsRegistered) return;
  tf.registerGradient({
    kernelName: FORWARD,
    inputsToSave: ["qkv"],
    outputsToSave: [false, true],
    gradFunc: (dys, [qkv, probs], attrs) => ({
      qkv: () =>
        tf.engine().runKernel(
          BACKWARD,
          { dy: (dys as tf.Tensor[])[0], qkv, probs },
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor,
    }),
  });
  const notWritten = (input: string) => () => {
    throw new Error(
      `attention: the second derivative through the fused attention with respect to ${input} is not written; ` +
        "differentiate the finite-difference jvp (the penalties do), or turn the fused kernel off (setFusedAttention(false))",
    );
  };
  tf.registerGradient({
    kernelName: BACKWARD,
    inputsToSave: ["qkv", "probs"],
    gradFunc: (w, [qkv, probs], attrs) => ({
      dy: () => attentionJvp(qkv, probs, w as tf.Tensor, (attrs as { heads: number }).heads),
      qkv: notWritten("qkv"),
      probs: notWritten("its saved probabilities"),
    }),
  });
  gradientsRegistered = true;
}

/** Which `[B, T, 3d]` inputs a backend's fused kernel takes. */
export type AttentionFits = (shape: { t: number; heads: number; dh: number }) => boolean;

const FITS = new Map<string, AttentionFits>();
let enabled = true;

/**
 * Registers a backend's attention kernels, the shapes they take, and the
 * op's gradients (idempotent).
 */
export function registerAttentionKernels(
  backend: string,
  kernels: { forward: KernelImpl; backward: KernelImpl; fits: AttentionFits },
): void {
  registerOpKernels(backend, { [FORWARD]: kernels.forward, [BACKWARD]: kernels.backward });
  if (!FITS.has(backend)) FITS.set(backend, kernels.fits);
  registerAttentionGradients();
}

/**
 * Turns the fused kernels on (the default) or off: off, every backend runs
 * {@linkcode attentionReference}, which replays runs made before the fused
 * kernel bit for bit.
 */
export function setFusedAttention(on: boolean): void {
  enabled = on;
}

/** Whether {@linkcode causalSelfAttention} runs a fused kernel for `qkv`'s shape on the active backend. */
export function fusedAttentionFits(shape: readonly number[], heads: number): boolean {
  const fits = FITS.get(tf.getBackend());
  if (!enabled || !fits || shape.length !== 3) return false;
  const [, t, d3] = shape;
  const dh = d3 / (3 * heads);
  return Number.isInteger(dh) && fits({ t, heads, dh });
}

/** Which path attention takes on the active backend: `fused` where a kernel is registered and on. */
export function attentionPath(): "fused" | "reference" {
  return enabled && FITS.has(tf.getBackend()) ? "fused" : "reference";
}

/**
 * Causal self-attention of `qkv [B, T, 3d]` (queries, keys, values side by
 * side) with `heads` heads, to `[B, T, d]`: one fused kernel where the
 * active backend has one for the shape, {@linkcode attentionReference}
 * elsewhere.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { causalSelfAttention } from "@stars/toolkit/ops";
 * // One position: it attends to itself alone, so the output is its value.
 * const qkv = tf.tensor3d([[[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]]]);
 * const out = causalSelfAttention(qkv, 1).dataSync();
 * if (out.join() !== "9,10,11,12") throw new Error("one position returns its value");
 * ```
 */
export function causalSelfAttention(qkv: tf.Tensor, heads: number): tf.Tensor {
  if (!fusedAttentionFits(qkv.shape, heads) || qkv.dtype !== "float32") {
    return attentionReference(qkv, heads);
  }
  const [out, probs] = tf.engine().runKernel(
    FORWARD,
    { qkv } as unknown as tf.NamedTensorMap,
    { heads },
  ) as tf.Tensor[];
  probs.dispose(); // the tape keeps its own copy when recording
  return out;
}
