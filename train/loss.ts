/**
 * The answer-only cross-entropy and token accuracy of a batch.
 */
import * as tf from "@tensorflow/tfjs";

/**
 * Mean cross-entropy over the positions where `mask` is 1.
 *
 * @param logits [B, T, V] next-token logits
 * @param targets [B, T] int32 target ids
 * @param mask [B, T] 1 on answer positions, 0 elsewhere
 */
export function maskedCrossEntropy(
  logits: tf.Tensor3D,
  targets: tf.Tensor2D,
  mask: tf.Tensor2D,
): tf.Scalar {
  const v = logits.shape[2];
  const logp = tf.logSoftmax(logits);
  const picked = tf.sum(tf.mul(logp, tf.oneHot(targets, v)), -1); // [B, T]
  return tf.div(tf.neg(tf.sum(tf.mul(picked, mask))), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}

/**
 * Fraction of sequences whose every masked position is predicted exactly
 * (teacher-forced exact match; the argmax at each answer position).
 */
export function teacherForcedExactMatch(
  logits: tf.Tensor3D,
  targets: tf.Tensor2D,
  mask: tf.Tensor2D,
): tf.Scalar {
  return tf.tidy(() => {
    const wrong = tf.mul(tf.cast(tf.notEqual(tf.argMax(logits, -1), targets), "float32"), mask);
    return tf.mean(tf.cast(tf.equal(tf.sum(wrong, -1), 0), "float32")) as tf.Scalar;
  });
}
