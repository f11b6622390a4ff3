/**
 * Seeded random probe vectors over a whole state tensor, for the Jacobian
 * estimators. All give the values of tfjs's seeded generators, computed in
 * JavaScript and so identical on every backend (the Gaussian one by
 * `utils/normal_stream.ts`, the same values as `tf.randomNormal` faster).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { l2Norm } from "./l2_norm.ts";
import { standardNormals } from "../utils/normal_stream.ts";

/** The probe distributions the Hutchinson estimator accepts. */
export const PROBES = ["gaussian", "rademacher"] as const;
/** One of {@linkcode PROBES}. */
export type Probe = typeof PROBES[number];

/** Standard normal entries (`E[z z^T] = I`), seeded. */
export function gaussianProbe(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(standardNormals(tf.util.sizeFromShape(shape), seed), shape);
}

/** Independent random signs +-1 (`E[z z^T] = I`), seeded. */
export function rademacherProbe(shape: number[], seed: number): tf.Tensor {
  return tf.tidy(() => {
    const heads = tf.greaterEqual(tf.randomUniform(shape, 0, 1, "float32", seed), 0.5);
    return tf.sub(tf.mul(tf.cast(heads, "float32"), 2), 1);
  });
}

/** A probe of the given distribution. */
export function probe(kind: Probe, shape: number[], seed: number): tf.Tensor {
  return kind === "gaussian" ? gaussianProbe(shape, seed) : rademacherProbe(shape, seed);
}

/**
 * One random direction of unit Euclidean norm over the WHOLE tensor (all
 * batch, sequence and feature entries together), uniform on the sphere:
 * a Gaussian probe divided by its norm.
 */
export function randomUnitVector(shape: number[], seed: number): tf.Tensor {
  return tf.tidy(() => {
    const z = gaussianProbe(shape, seed);
    return tf.div(z, l2Norm(z));
  });
}
