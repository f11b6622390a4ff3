/**
 * One optimisation step: forward through the drawn number of loops,
 * answer-only cross-entropy (plus an optional penalty on the final state),
 * gradients, clipping, AdamW. Everything runs inside `tf.tidy`, so the
 * tensor count is the same after every step.
 */
import * as tf from "@tensorflow/tfjs";
import { mixSeed } from "../utils/rng.ts";
import type { LoopedLM } from "../models/looped.ts";
import type { LoopDraw } from "../regularizers/loop_sampler.ts";
import type { Batch } from "../tasks/batch.ts";
import { type AdamW, type AdamWOptions, gradNormScale } from "./adamw.ts";
import { maskedCrossEntropy, teacherForcedExactMatch } from "./loss.ts";

/** A loss term added to the cross-entropy, computed at the final state. */
export interface Penalty {
  /** Weight of the term at this step (0 switches it off). */
  weight: number;
  /**
   * The term, given the model, the embedded input and the final state h_N.
   * h_N is a constant to the gradient (detached, as STARS prescribes), so
   * the term's gradient reaches the parameters only. Returns the scalar to
   * add and diagnostics to log.
   */
  compute: (
    model: LoopedLM,
    e: tf.Tensor3D,
    state: tf.Tensor3D,
    seed: number,
  ) => { value: tf.Scalar; logs: Record<string, tf.Scalar> };
}

/** Settings of one step. */
export interface StepOptions extends AdamWOptions {
  /** Global gradient-norm clip (0 = off). */
  grad_clip: number;
  /** Seed for this step's dropout and random initial state. */
  seed: number;
  /** Optional penalty term. */
  penalty?: Penalty;
  /** Attention's dropout on its branch output (default) or its probabilities. */
  attn_dropout?: "output" | "probs";
}

/** Numbers reported by one step. */
export interface StepResult {
  /** Total loss (cross-entropy plus weighted penalty). */
  loss: number;
  /** Answer-only cross-entropy. */
  ce: number;
  /** Teacher-forced exact match on the batch. */
  accuracy: number;
  /** Global gradient norm before clipping. */
  grad_norm: number;
  /** Penalty diagnostics, if any. */
  [key: string]: number;
}

/**
 * A non-finite loss or gradient, or an update that would make a weight or
 * moment non-finite: the update was not applied, so the weights are the
 * last finite ones.
 */
export class NonFiniteLossError extends Error {
  /** Where the trainer saved the last finite weights, once it has. */
  checkpoint?: { dir: string; step: number };

  /** Creates the error for a step (`what` went non-finite: the loss or the update). */
  constructor(
    readonly step: number,
    readonly values: Record<string, number>,
    readonly what: "loss" | "update" = "loss",
  ) {
    // Not JSON.stringify, which writes NaN and Infinity as null.
    const shown = Object.entries(values).map(([k, v]) => `${k} ${v}`).join(", ");
    super(`non-finite ${what} at step ${step}: ${shown}`);
    this.name = "NonFiniteLossError";
  }
}

/**
 * Runs one training step and applies the update, unless the loss, the
 * gradients or the updated values are non-finite (then throws
 * {@linkcode NonFiniteLossError} with nothing changed).
 */
export async function trainStep(
  model: LoopedLM,
  optimizer: AdamW,
  batch: Batch,
  draw: LoopDraw,
  step: number,
  o: StepOptions,
): Promise<StepResult> {
  const fwd = {
    training: true,
    seed: mixSeed(o.seed, step, 21),
    ...(o.attn_dropout === "probs" ? { dropoutAt: "probs" as const } : {}),
  };
  const shape: [number, number] = [batch.batch, batch.seqLen];
  const computed = tf.tidy(() => {
    const ids = tf.tensor2d(batch.inputs, shape, "int32");
    const targets = tf.tensor2d(batch.targets, shape, "int32");
    const mask = tf.tensor2d(batch.mask, shape, "float32");
    // Leading loops without gradient (Huginn): computed outside the tape.
    const start = draw.noGrad > 0
      ? { state: model.forward(ids, draw.noGrad, fwd).state, loopsDone: draw.noGrad }
      : undefined;
    const logs: Record<string, tf.Scalar> = {};
    const vars = [...model.params.values()];
    let finalState: tf.Tensor3D | undefined;
    const task = tf.variableGrads(() => {
      const out = model.forward(ids, draw.withGrad, { ...fwd, start });
      finalState = tf.keep(out.state);
      logs.accuracy = tf.keep(teacherForcedExactMatch(out.logits, targets, mask));
      return maskedCrossEntropy(out.logits, targets, mask);
    }, vars);
    logs.ce = task.value;
    let value = task.value, grads = task.grads;
    const p = o.penalty;
    if (p && p.weight > 0) {
      // A second tape in which h_N is a constant: the penalty's gradient
      // reaches the parameters only, never the trajectory (STARS detaches).
      const reg = tf.variableGrads(() => {
        const pen = p.compute(model, model.embed(ids, fwd), finalState!, mixSeed(o.seed, step, 22));
        for (const [k, v] of Object.entries(pen.logs)) logs[k] = tf.keep(v);
        return pen.value;
      }, vars);
      value = tf.add(tf.mul(task.value, 1 - p.weight), tf.mul(reg.value, p.weight));
      grads = {};
      for (const v of vars) {
        const parts = [
          task.grads[v.name] && tf.mul(task.grads[v.name], 1 - p.weight),
          reg.grads[v.name] && tf.mul(reg.grads[v.name], p.weight),
        ].filter((g) => g);
        if (parts.length) grads[v.name] = tf.addN(parts);
      }
    }
    finalState?.dispose();
    const byName: Record<string, tf.Tensor> = {};
    // A parameter off this step's path (e.g. positions when only later
    // loops are taped) has no gradient and is left untouched.
    for (const [name, v] of model.params) if (grads[v.name]) byName[name] = grads[v.name];
    // The clip's factor goes to the optimizer, which folds it into the update.
    const { norm, scale } = gradNormScale(byName, o.grad_clip);
    const named: Record<string, tf.Scalar> = {
      loss: value as tf.Scalar,
      grad_norm: norm,
      ...logs,
    };
    // One read-back for all the step's numbers; the kept logs are copied, so free them.
    const packed = tf.stack(Object.values(named));
    tf.dispose(Object.values(logs));
    return { grads: byName, scale, names: Object.keys(named), packed };
  });
  const { grads, scale, names, packed } = computed;
  const numbers = await packed.data();
  packed.dispose();
  const values: Record<string, number> = {};
  names.forEach((k, i) => values[k] = numbers[i]);
  if (!Object.values(values).every(Number.isFinite)) {
    tf.dispose([...Object.values(grads), ...(scale ? [scale] : [])]);
    throw new NonFiniteLossError(step, values);
  }
  // Checked before it is kept: a finite loss can still take a weight to
  // infinity (a huge learning rate), and those weights must never be saved.
  const kept = await optimizer.applyIfFinite(model.params, grads, o, scale);
  tf.dispose([...Object.values(grads), ...(scale ? [scale] : [])]);
  if (!kept) throw new NonFiniteLossError(step, { ...values, lr: o.lr }, "update");
  return values as StepResult;
}
