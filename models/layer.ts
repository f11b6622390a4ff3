/**
 * One transformer layer: causal multi-head self-attention and a GELU MLP,
 * each a residual branch wrapped by the configured norm placement.
 */
import * as tf from "@tensorflow/tfjs";
import type { ModelConfig } from "./config.ts";
import { norm, type NormParams, residual } from "./norm.ts";
import { dense, dropout, gelu, matmul, transposeLast } from "./ops.ts";
import type { Params } from "./params.ts";

/** Per-call settings shared by every layer of a forward pass. */
export interface LayerContext {
  /** Whether dropout is active. */
  training: boolean;
  /** Returns a fresh dropout seed for each dropout site, in call order. */
  nextSeed: () => number;
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

/** Additive causal mask [T, T]: 0 on and below the diagonal, -1e9 above. */
export function causalMask(t: number): tf.Tensor2D {
  return tf.tidy(() => {
    const row = tf.range(0, t).reshape([t, 1]);
    const col = tf.range(0, t).reshape([1, t]);
    return tf.mul(tf.cast(tf.greater(col, row), "float32"), -1e9) as tf.Tensor2D;
  });
}

/** Causal multi-head self-attention over x [B, T, d]. */
export function attention(
  c: ModelConfig,
  params: Params,
  prefix: string,
  x: tf.Tensor,
): tf.Tensor {
  const [b, t, d] = x.shape;
  const h = c.n_heads, dh = d / h;
  const qkv = dense(x, param(params, `${prefix}.wqkv`), param(params, `${prefix}.bqkv`));
  // [B, T, 3, H, dh] -> [3, B, H, T, dh]; each of q, k, v then [B*H, T, dh].
  const heads = tf.transpose(qkv.reshape([b, t, 3, h, dh]), [2, 0, 3, 1, 4]);
  const [q, k, v] = tf.unstack(heads).map((z) => z.reshape([b * h, t, dh]));
  const scores = tf.add(tf.mul(matmul(q, transposeLast(k)), 1 / Math.sqrt(dh)), causalMask(t));
  const mixed = matmul(tf.softmax(scores), v); // [B*H, T, dh]
  const merged = tf.transpose(mixed.reshape([b, h, t, dh]), [0, 2, 1, 3]).reshape([b, t, d]);
  return dense(merged, param(params, `${prefix}.wo`), param(params, `${prefix}.bo`));
}

/** The GELU MLP `W2 gelu(W1 x + b1) + b2`. */
export function mlp(params: Params, prefix: string, x: tf.Tensor): tf.Tensor {
  const hidden = gelu(dense(x, param(params, `${prefix}.w1`), param(params, `${prefix}.b1`)));
  return dense(hidden, param(params, `${prefix}.w2`), param(params, `${prefix}.b2`));
}

/** One full transformer layer `x -> x'` named by `prefix` (e.g. `block.0`). */
export function transformerLayer(
  c: ModelConfig,
  params: Params,
  prefix: string,
  x: tf.Tensor,
  ctx: LayerContext,
): tf.Tensor {
  const drop = (y: tf.Tensor) => ctx.training ? dropout(y, c.dropout, ctx.nextSeed()) : y;
  const normAt = (name: string) => (y: tf.Tensor) =>
    norm(c.norm_type, y, normParams(params, `${prefix}.${name}`));
  const afterAttn = residual(
    c.norm_placement,
    x,
    (y) => drop(attention(c, params, `${prefix}.attn`, y)),
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
