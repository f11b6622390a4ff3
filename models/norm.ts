/**
 * LayerNorm and RMSNorm over the last axis, and the four norm placements
 * around a residual branch that the paper compares.
 */
import * as tf from "@tensorflow/tfjs";
import { layerNorm as layerNormOp } from "../ops/layer_norm.ts";
import type { NormPlacement, NormType } from "./config.ts";

const EPS = 1e-5;

/** Parameters of one norm: a gain, and a bias for LayerNorm. */
export interface NormParams {
  /** Per-feature gain, initialised to 1. */
  gain: tf.Tensor;
  /** Per-feature bias (LayerNorm only), initialised to 0. */
  bias?: tf.Tensor;
}

/** `(x - mean) / sqrt(var + eps) * gain + bias` over the last axis (the ops layer's LayerNorm). */
export function layerNorm(x: tf.Tensor, p: NormParams): tf.Tensor {
  return layerNormOp(x, p.gain, p.bias, EPS);
}

/** `x / sqrt(mean(x^2) + eps) * gain` over the last axis. */
export function rmsNorm(x: tf.Tensor, p: NormParams): tf.Tensor {
  const ms = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, EPS))), p.gain);
}

/** Applies the norm of the given type. */
export function norm(type: NormType, x: tf.Tensor, p: NormParams): tf.Tensor {
  return type === "layernorm" ? layerNorm(x, p) : rmsNorm(x, p);
}

/** Which norms a placement needs around each branch: before F, after it. */
export function placementNorms(placement: NormPlacement): { pre: boolean; post: boolean } {
  return {
    pre: placement !== "post_norm",
    post: placement !== "pre_norm",
  };
}

/**
 * One residual update `x -> x'` around branch `F` with the norms where the
 * placement puts them:
 *
 * | placement | update |
 * | --- | --- |
 * | pre_norm | x + F(N(x)) |
 * | post_norm | N(x + F(x)) |
 * | sandwich_branch | x + N_post(F(N_pre(x))) |
 * | sandwich_dual | N_post(x + F(N_pre(x))) |
 */
export function residual(
  placement: NormPlacement,
  x: tf.Tensor,
  branch: (x: tf.Tensor) => tf.Tensor,
  pre: (x: tf.Tensor) => tf.Tensor,
  post: (x: tf.Tensor) => tf.Tensor,
): tf.Tensor {
  switch (placement) {
    case "pre_norm":
      return tf.add(x, branch(pre(x)));
    case "post_norm":
      return post(tf.add(x, branch(x)));
    case "sandwich_branch":
      return tf.add(x, post(branch(pre(x))));
    case "sandwich_dual":
      return post(tf.add(x, branch(pre(x))));
  }
}
