/**
 * One transformer layer: causal multi-head self-attention and a GELU MLP,
 * each a residual branch wrapped by the configured norm placement.
 */
import * as tf from "@tensorflow/tfjs";
import type { ModelConfig } from "./config.ts";
import { norm, type NormParams, residual } from "./norm.ts";
import { gelu } from "../ops/gelu.ts";
import { attend, causalSelfAttention, mergeHeads, splitHeads } from "../ops/attention.ts";
import { dense, dropout } from "./ops.ts";
import type { Params } from "./params.ts";

/** Per-call settings shared by every layer of a forward pass. */
export interface LayerContext {
  /** Whether dropout is active. */
  training: boolean;
  /** Returns a fresh dropout seed for each dropout site, in call order. */
  nextSeed: () => number;
  /**
   * Where attention's dropout goes: its branch output (default) or its
   * probabilities (as the STARS reference implementation does).
   */
  dropoutAt?: "output" | "probs";
}

/** Reads a parameter, failing loudly on a name the config does not have. */
export function param(params: Params, name: string): tf.Variable {
  const p = params.get(name);
  if (!p) throw new Error(`model: missing parameter "${name}"`);
  return p;
}

/** The norm parameters stored under `name`. */
export function normParams(params: Params, name: string): NormParams {
  return { gain: param(params, `${name}.gain`), bias: params.get(`${name}.bias`) };
}

/**
 * Keys and values of earlier positions for one attention layer at one loop
 * ([H*B, T, dh] each, head-major), so decoding a new token costs one position. The
 * attention call replaces them with the extended tensors; the caller owns
 * their memory.
 */
export interface KVEntry {
  /** Cached keys, or null before the first call. */
  k: tf.Tensor | null;
  /** Cached values, or null before the first call. */
  v: tf.Tensor | null;
}

/** Causal multi-head self-attention over x [B, T, d] (extending `cache` if given). */
export function attention(
  c: ModelConfig,
  params: Params,
  prefix: string,
  x: tf.Tensor,
  cache?: KVEntry,
  dropProbs?: (p: tf.Tensor) => tf.Tensor,
): tf.Tensor {
  const h = c.n_heads;
  const qkv = dense(x, param(params, `${prefix}.wqkv`), param(params, `${prefix}.bqkv`));
  const wo = param(params, `${prefix}.wo`), bo = param(params, `${prefix}.bo`);
  if (!cache && !dropProbs) return dense(causalSelfAttention(qkv, h), wo, bo);
  let [q, k, v] = splitHeads(qkv, h);
  if (cache) {
    if (cache.k && cache.v) {
      k = tf.concat([cache.k, k], 1);
      v = tf.concat([cache.v, v], 1);
    }
    cache.k = k;
    cache.v = v;
  }
  return dense(mergeHeads(attend(q, k, v, dropProbs), h, x.shape[0]), wo, bo);
}

/** The GELU MLP `W2 gelu(W1 x + b1) + b2`. */
export function mlp(params: Params, prefix: string, x: tf.Tensor): tf.Tensor {
  const hidden = gelu(dense(x, param(params, `${prefix}.w1`), param(params, `${prefix}.b1`)));
  return dense(hidden, param(params, `${prefix}.w2`), param(params, `${prefix}.b2`));
}

/**
 * One full transformer layer `x -> x'` named by `prefix` (e.g. `block.0`),
 * extending `cache` with this call's keys and values when given.
 */
export function transformerLayer(
  c: ModelConfig,
  params: Params,
  prefix: string,
  x: tf.Tensor,
  ctx: LayerContext,
  cache?: KVEntry,
): tf.Tensor {
  const drop = (y: tf.Tensor) => ctx.training ? dropout(y, c.dropout, ctx.nextSeed()) : y;
  const normAt = (name: string) => (y: tf.Tensor) =>
    norm(c.norm_type, y, normParams(params, `${prefix}.${name}`));
  const onProbs = ctx.dropoutAt === "probs";
  const afterAttn = residual(
    c.norm_placement,
    x,
    (y) =>
      onProbs
        ? attention(c, params, `${prefix}.attn`, y, cache, drop)
        : drop(attention(c, params, `${prefix}.attn`, y, cache)),
    normAt("attn_pre"),
    normAt("attn_post"),
  );
  return residual(
    c.norm_placement,
    afterAttn,
    (y) => drop(mlp(params, `${prefix}.mlp`, y)),
    normAt("mlp_pre"),
    normAt("mlp_post"),
  );
}
