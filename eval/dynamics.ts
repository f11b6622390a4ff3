/**
 * Latent dynamics of the loop, per loop t: the state's norm, the (relative)
 * step `||h_t - h_{t-1}||`, the spectral radius of the one-loop Jacobian at
 * h_t, the entropy of the next-token distribution read out from h_t and the
 * KL divergence between successive loops' distributions, and a 2-D PCA of
 * the state trajectories.
 *
 * For a model on a task ({@linkcode modelDynamics}) the input is each
 * problem's full teacher-forced sequence (prompt, answer, EOS; padded), and
 * the per-position metrics are averaged over every answer position (those
 * predicting an answer token or EOS) and every problem; the spectral radius
 * is that of the map on the whole state [S, T, d] of the sample (problems
 * do not interact, so it is the largest over the problems), as the STARS
 * penalty measures it.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { LoopedLM } from "../models/looped.ts";
import type { StateMap } from "../regularizers/jacobian_products.ts";
import {
  estimateSpectralRadius,
  type SpectralRadiusOptions,
} from "../regularizers/spectral_radius.ts";
import { encodeBatch } from "../tasks/batch.ts";
import type { Task, TextProblem } from "../tasks/task.ts";
import { argmax, entropy, klDivergence, vectorNorm } from "./distribution.ts";
import { pca2, type Projection2D } from "./pca.ts";
import type { ModelConfig } from "../models/config.ts";
import { ioFloats, layerFloats, type MemoryEstimate } from "../models/memory.ts";

/**
 * Seed of the rho estimates' random start vectors when none (or 0) is given:
 * tfjs treats seed 0 as "no seed" and draws a fresh vector every time, so
 * the same analysis would give different numbers.
 */
export const DYNAMICS_RHO_SEED = 1;

/** The measurements after one loop (means over rows and measured positions). */
export interface DynamicsPoint {
  /** Loops applied (0 is h_0). */
  loop: number;
  /** Mean `||h_t||` (one d-vector per row and position). */
  stateNorm: number;
  /** Mean `||h_t - h_{t-1}||` (null at loop 0). */
  step: number | null;
  /** Mean `||h_t - h_{t-1}|| / ||h_t||` (null at loop 0). */
  relStep: number | null;
  /** Estimate of `rho(df/dh)` at h_t (null on loops not measured). */
  rho: number | null;
  /** Whether the rho estimate met its tolerance (null when not measured). */
  rhoConverged: boolean | null;
  /** Mean entropy of the next-token distribution, nats (null without a read-out). */
  entropy: number | null;
  /** Mean `KL(p_{t-1} || p_t)`, nats (null at loop 0 or without a read-out). */
  kl: number | null;
  /** Fraction of measured positions whose argmax is the target (null without targets). */
  accuracy: number | null;
}

/** What {@linkcode loopDynamics} returns. */
export interface DynamicsResult {
  /** One point per loop, 0..loops. */
  points: DynamicsPoint[];
  /** Position whose states the PCA projects. */
  pcaPosition: number;
  /** `pca.coords[r * (loops + 1) + t]`: row r's state at loop t, projected. */
  pca: Projection2D;
  /** Rows measured. */
  rows: number;
}

/** Settings of {@linkcode loopDynamics}. */
export interface DynamicsOptions {
  /** From a state [B, T, d] to logits [B, T, V]; enables entropy, KL and accuracy. */
  readout?: (h: tf.Tensor3D) => tf.Tensor3D;
  /** Positions to measure, `mask[r][p]` 1 or 0 (default: each row's last position). */
  mask?: number[][];
  /** Next-token targets `[r][p]` at measured positions (for accuracy). */
  targets?: number[][];
  /** Position whose trajectory the PCA projects (default: the first measured one of row 0). */
  pcaPosition?: number;
  /** Estimate rho every k loops, at t = 0, k, 2k, ... and the last (default ~16 estimates; 0: never). */
  rhoEvery?: number;
  /**
   * Settings of the rho estimate (default maxIters 30, krylovDim 10, tol
   * 1e-3, seed {@linkcode DYNAMICS_RHO_SEED}; a seed of 0 is replaced by it).
   */
  rho?: SpectralRadiusOptions;
  /** Called after each loop `t` (0..loops) is measured (progress). */
  onLoop?: (t: number) => void;
}

const mean = (xs: number[]) => xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;

/**
 * Runs `h -> f(h)` for `loops` loops from `h0` [B, T, d] (one loop per
 * `tf.tidy`; `h0` is not disposed) and records the dynamics per loop.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { loopDynamics, useBackend } from "@stars/toolkit";
 * await useBackend("wasm");
 * const h0 = tf.ones([1, 1, 4]) as tf.Tensor3D;
 * const f = (h: tf.Tensor3D) => tf.add(tf.mul(h, 0.5), 1) as tf.Tensor3D;
 * const { points } = await loopDynamics(f, h0, 10, { rhoEvery: 5 });
 * // points[t].step halves every loop; points[5].rho is 0.5
 * if (Math.abs(points[5].rho! - 0.5) > 1e-3) throw new Error("f contracts by 0.5");
 * ```
 */
export async function loopDynamics(
  f: StateMap,
  h0: tf.Tensor3D,
  loops: number,
  options: DynamicsOptions = {},
): Promise<DynamicsResult> {
  if (!Number.isInteger(loops) || loops < 0) {
    throw new RangeError(`dynamics: loops must be an integer >= 0, got ${loops}`);
  }
  const [rows, len, width] = h0.shape;
  const mask = options.mask ?? Array.from({ length: rows }, () => {
    const m = new Array(len).fill(0);
    m[len - 1] = 1;
    return m;
  });
  const measured: [number, number][] = [];
  mask.forEach((m, r) => m.forEach((x, p) => x && measured.push([r, p])));
  if (measured.length === 0) throw new RangeError("dynamics: the mask selects no position");
  const pcaPosition = options.pcaPosition ?? measured[0][1];
  const rhoEvery = options.rhoEvery ?? Math.max(1, Math.ceil(loops / 16));
  const rhoOptions = {
    maxIters: 30,
    krylovDim: 10,
    tol: 1e-3,
    ...options.rho,
    seed: options.rho?.seed || DYNAMICS_RHO_SEED,
  };
  const vec = (all: Float32Array, r: number, p: number, size: number) =>
    all.subarray((r * len + p) * size, (r * len + p + 1) * size);

  const points: DynamicsPoint[] = [];
  const trajectory: Float32Array[] = []; // [t][r * width]
  let prevStates: Float32Array | undefined;
  let prevLogProbs: Float32Array | undefined;
  let h = h0;
  try {
    for (let t = 0; t <= loops; t++) {
      if (t > 0) {
        const next = tf.tidy(() => f(h));
        if (h !== h0) h.dispose();
        h = next;
      }
      const states = await h.data() as Float32Array;
      let logProbs: Float32Array | undefined;
      if (options.readout) {
        const lp = tf.tidy(() => tf.logSoftmax(options.readout!(h)));
        logProbs = await lp.data() as Float32Array;
        lp.dispose();
      }
      const vocab = logProbs ? logProbs.length / (rows * len) : 0;
      const norms: number[] = [], steps: number[] = [], rel: number[] = [];
      const ents: number[] = [], kls: number[] = [], hits: number[] = [];
      for (const [r, p] of measured) {
        const s = vec(states, r, p, width);
        const n = vectorNorm(s);
        norms.push(n);
        if (prevStates) {
          const before = vec(prevStates, r, p, width);
          const d = vectorNorm(s.map((x, i) => x - before[i]));
          steps.push(d);
          rel.push(n > 0 ? d / n : Infinity);
        }
        if (logProbs) {
          const lp = vec(logProbs, r, p, vocab);
          ents.push(entropy(lp));
          if (prevLogProbs) kls.push(klDivergence(vec(prevLogProbs, r, p, vocab), lp));
          const target = options.targets?.[r]?.[p];
          if (target !== undefined) hits.push(argmax(lp) === target ? 1 : 0);
        }
      }
      let rho: number | null = null, rhoConverged: boolean | null = null;
      if (rhoEvery > 0 && (t % rhoEvery === 0 || t === loops)) {
        const est = await estimateSpectralRadius(f, h, rhoOptions);
        rho = est.rho;
        rhoConverged = est.converged;
      }
      points.push({
        loop: t,
        stateNorm: mean(norms),
        step: prevStates ? mean(steps) : null,
        relStep: prevStates ? mean(rel) : null,
        rho,
        rhoConverged,
        entropy: logProbs ? mean(ents) : null,
        kl: logProbs && prevLogProbs ? mean(kls) : null,
        accuracy: hits.length ? mean(hits) : null,
      });
      options.onLoop?.(t);
      const atPca = new Float32Array(rows * width);
      for (let r = 0; r < rows; r++) atPca.set(vec(states, r, pcaPosition, width), r * width);
      trajectory.push(atPca);
      prevStates = states;
      prevLogProbs = logProbs;
    }
  } finally {
    if (h !== h0) h.dispose();
  }
  const pcaPoints: Float32Array[] = [];
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t <= loops; t++) {
      pcaPoints.push(trajectory[t].subarray(r * width, (r + 1) * width));
    }
  }
  return { points, pcaPosition, pca: pca2(pcaPoints), rows };
}

/** Settings of {@linkcode modelDynamics}. */
export interface ModelDynamicsOptions {
  /** Estimate rho every k loops (default ~16 estimates; 0: never). */
  rhoEvery?: number;
  /** Settings of the rho estimate. */
  rho?: SpectralRadiusOptions;
  /** Called after each loop is measured (progress). */
  onLoop?: (t: number) => void;
}

/**
 * {@linkcode loopDynamics} of a model on problems of a task, teacher-forced:
 * each problem's sequence (prompt, answer, EOS) is embedded once and the
 * shared block looped from h_0, the metrics averaged over the answer
 * positions. The PCA follows the first answer position whose target token
 * differs between problems (the first answer digit, past a constant
 * separator), else the first answer position.
 */
export async function modelDynamics<P extends TextProblem>(
  model: LoopedLM,
  task: Task<P>,
  problems: readonly P[],
  loops: number,
  options: ModelDynamicsOptions = {},
): Promise<DynamicsResult> {
  if (problems.length === 0) throw new RangeError("dynamics: no problems");
  const batch = encodeBatch(problems, task.tokenizer, task.seqLen);
  const { batch: rows, seqLen: len } = batch;
  const grid = (a: ArrayLike<number>) =>
    Array.from({ length: rows }, (_, r) => Array.from(a).slice(r * len, (r + 1) * len));
  const mask = grid(batch.mask), targets = grid(batch.targets);
  const first = Math.min(...batch.promptLengths) - 1;
  let pcaPosition = first;
  for (let p = first; p < len; p++) {
    const seen = new Set(targets.filter((_, r) => mask[r][p]).map((row) => row[p]));
    if (seen.size > 1) {
      pcaPosition = p;
      break;
    }
  }
  const ids = tf.tensor2d(batch.inputs, [rows, len], "int32");
  const e = tf.tidy(() => model.embed(ids));
  const h0 = tf.tidy(() => model.initialState(e));
  try {
    return await loopDynamics(model.loopMap(e), h0, loops, {
      readout: (h) => model.readout(h),
      mask,
      targets,
      pcaPosition,
      rhoEvery: options.rhoEvery,
      rho: options.rho,
      onLoop: options.onLoop,
    });
  } finally {
    tf.dispose([ids, e, h0]);
  }
}

/**
 * The memory {@linkcode modelDynamics} needs for `samples` problems of
 * `seqLen` positions at `loops` loops: one loop's activations and read-out
 * over the whole sample (it is one state), the rho estimate's Jacobian
 * products and Krylov vectors, and the per-loop state trajectories kept for
 * the PCA. Parts are keyed by the flag that scales them (`samples`, `loops`).
 */
export function dynamicsMemory(
  c: ModelConfig,
  samples: number,
  seqLen: number,
  loops: number,
): MemoryEstimate {
  const positions = samples * seqLen;
  const parts = [
    {
      what: `one loop's activations and rho's Jacobian products (${samples} problems at once)`,
      bytes: 4 * positions * (5 * c.n_layers * layerFloats(c, seqLen) + 14 * c.d_model),
      key: "samples",
    },
    {
      what: `next-token distributions (${samples} problems x ${seqLen} positions)`,
      bytes: 4 * positions * (ioFloats(c) + 2 * c.vocab_size),
      key: "samples",
    },
    {
      what: `state trajectories for the PCA (${loops + 1} loops x ${samples} problems)`,
      bytes: 3 * 8 * (loops + 1) * samples * c.d_model,
      key: "loops",
    },
  ].sort((a, b) => b.bytes - a.bytes);
  return { bytes: parts.reduce((t, p) => t + p.bytes, 0), parts };
}
