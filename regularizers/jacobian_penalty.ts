/**
 * The Jacobian penalties in the form the trainer takes
 * (`Penalty.compute` of `train/step.ts`): given the model, the embedded
 * input `e` and the detached final state `h_N`, a scalar to add to the loss
 * and diagnostics to log.
 *
 * Both differentiate the deterministic one-loop map `h -> model.step(h, e)`
 * (dropout off), at `h_N`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { mixSeed } from "../utils/rng.ts";
import { hutchinsonFrobenius } from "./hutchinson.ts";
import type { StateMap } from "./jacobian_products.ts";
import type { Probe } from "./probes.ts";
import { powerIterationPenalty, type PowerMode } from "./power_penalty.ts";
import { stopGradient } from "./stop_gradient.ts";

/**
 * A penalty term and its diagnostics, as the trainer expects them (a type
 * alias rather than an interface, so it is a `tf.TensorContainer` and can be
 * returned from `tf.tidy`).
 */
export type PenaltyTerm = {
  /** The scalar added to the loss (with gradient to the parameters). */
  value: tf.Scalar;
  /** Named scalars to log (no gradient). */
  logs: Record<string, tf.Scalar>;
};

/**
 * What a penalty needs of a model: its one-loop map for an embedded input
 * (`LoopedLM` has it, with dropout off by default).
 */
export interface LoopMapModel {
  /** The map `h -> f(h)` of one loop, for embedded input `e` (dropout as `opts` say). */
  loopMap(
    e: tf.Tensor3D,
    opts?: { training?: boolean; seed?: number; dropoutAt?: "output" | "probs" },
  ): StateMap;
}

/**
 * A penalty's compute function, assignable to `train/step.ts`'s
 * `Penalty.compute`: model, embedded input `e`, detached final state `h_N`
 * and the step's seed in; the term and its logs out.
 */
export type PenaltyCompute = (
  model: LoopMapModel,
  e: tf.Tensor3D,
  state: tf.Tensor3D,
  seed: number,
) => PenaltyTerm;

/** Settings of {@linkcode jacobianPenalty}. */
export interface JacobianPenaltyOptions {
  /** Power-iteration steps K, an integer >= 1. */
  iters: number;
  /** `jvp` iterates `J v`, `vjp` iterates `J^T v`. */
  mode: PowerMode;
  /** Central-difference step in state norm (default 0.1). */
  eps?: number;
  /**
   * Dropout active in the loop map, fresh masks per power iteration
   * (iteration k's seed `mixSeed(seed, 23, k)`), as the STARS reference
   * implementation runs its penalty in training mode (default false).
   */
  dropout?: boolean;
  /** Where attention's dropout goes when `dropout` is on (default `output`). */
  dropoutAt?: "output" | "probs";
}

/** Settings of {@linkcode hutchinsonPenalty}. */
export interface HutchinsonPenaltyOptions {
  /** Probes averaged per step, an integer >= 1. */
  samples: number;
  /** Probe distribution (default `gaussian`). */
  probe?: Probe;
  /** Central-difference step in state norm (default 0.1). */
  eps?: number;
}

/**
 * STARS' Jacobian spectral-radius regulariser: K power-iteration steps from
 * one random unit vector over the whole `[B, T, d]` state (seeded by the
 * step's seed); see `powerIterationPenalty` for the estimator and for how
 * each mode's parameter gradient is formed.
 *
 * Logs: `reg` = `R = ||u_K||^2`; `rho` = `||u_K||`, where
 * `u_K = J v_{K-1}` (or `J^T v_{K-1}`) with `v_{K-1}` of unit norm: the
 * K-step estimate of the spectral radius `rho(J)` (for K = 1 it is the root
 * mean square singular value in expectation, an over-estimate of `rho`).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { assertAlmostEquals } from "@std/assert";
 * import { jacobianPenalty, useBackend } from "@stars/toolkit";
 * await useBackend("wasm");
 * const compute = jacobianPenalty({ iters: 1, mode: "jvp" });
 * // penalty = { weight: 0.1, compute } for train/step.ts
 * const model = { loopMap: () => (h: tf.Tensor3D) => tf.mul(h, 0.5) as tf.Tensor3D }; // J = 0.5 I
 * const rho = tf.tidy(() => {
 *   const h = tf.ones([1, 2, 4]) as tf.Tensor3D;
 *   return compute(model, h, h, 1).logs.rho.dataSync()[0];
 * });
 * assertAlmostEquals(rho, 0.5, 1e-4);
 * ```
 */
export function jacobianPenalty(options: JacobianPenaltyOptions): PenaltyCompute {
  const { dropout, dropoutAt, ...power } = options;
  return (model, e, state, seed) => {
    const maps = dropout
      ? (k: number) =>
        model.loopMap(e, {
          training: true,
          seed: mixSeed(seed, 23, k),
          ...(dropoutAt ? { dropoutAt } : {}),
        })
      : undefined;
    const { value, rho } = powerIterationPenalty(model.loopMap(e), state, {
      ...power,
      seed,
      ...(maps ? { maps } : {}),
    });
    return { value, logs: { reg: stopGradient(value), rho } };
  };
}

/**
 * DEQ's Jacobian regulariser: the Hutchinson estimate of `||J||_F^2 / D`
 * with `samples` probes (see `hutchinsonFrobenius`).
 *
 * Logs: `reg` = the estimate R; `jac_rms` = `sqrt(R)`, the root mean square
 * singular value of J (an upper bound on nothing, a scale only).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { assertAlmostEquals } from "@std/assert";
 * import { useBackend } from "@stars/toolkit";
 * import { hutchinsonPenalty } from "@stars/toolkit/regularizers";
 * await useBackend("wasm");
 * const compute = hutchinsonPenalty({ samples: 1, probe: "rademacher" });
 * const model = { loopMap: () => (h: tf.Tensor3D) => tf.mul(h, 0.5) as tf.Tensor3D }; // J = 0.5 I
 * const rms = tf.tidy(() => {
 *   const h = tf.ones([1, 2, 4]) as tf.Tensor3D;
 *   return compute(model, h, h, 1).logs.jac_rms.dataSync()[0];
 * });
 * assertAlmostEquals(rms, 0.5, 1e-4); // exact for a linear map with sign probes
 * ```
 */
export function hutchinsonPenalty(options: HutchinsonPenaltyOptions): PenaltyCompute {
  return (model, e, state, seed) => {
    const value = hutchinsonFrobenius(model.loopMap(e), state, { ...options, seed });
    const reg = stopGradient(value);
    return { value, logs: { reg, jac_rms: tf.sqrt(reg) } };
  };
}
