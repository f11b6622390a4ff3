/**
 * Test fixture: linear state maps `f(h) = A vec(h)` with known spectra, as
 * tfjs ops on the flattened state, and small float64 helpers for them.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { StateMap } from "../../regularizers/jacobian_products.ts";

/** A dense square matrix, rows of numbers. */
export type Mat = number[][];

/** `f(h) = reshape(A vec(h))` for a state of `shape` (A is D x D, D = size). */
export function linearMap(a: Mat | tf.Tensor2D, shape: [number, number, number]): StateMap {
  const m = Array.isArray(a) ? tf.tensor2d(a) : a;
  return (h) => tf.matMul(m, h.reshape([-1, 1])).reshape(shape) as tf.Tensor3D;
}

/** `A x` or `A^T x` in float64. */
export function matVec(a: Mat, x: ArrayLike<number>, transpose = false): number[] {
  const n = a.length, y = new Array(n).fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) y[transpose ? j : i] += a[i][j] * x[transpose ? i : j];
  }
  return y;
}

/** Squared Frobenius norm. */
export function frobenius2(a: Mat): number {
  return a.flat().reduce((s, x) => s + x * x, 0);
}

/** An orthogonal matrix from Gram-Schmidt on a fixed seeded-looking basis. */
function orthogonal(n: number): Mat {
  const q: Mat = [];
  for (let i = 0; i < n; i++) {
    let v = Array.from(
      { length: n },
      (_, j) => Math.sin(1.7 * (i + 1) * (j + 1) + 0.3 * i) + (i === j ? 1 : 0),
    );
    for (const u of q) {
      const c = u.reduce((s, x, k) => s + x * v[k], 0);
      v = v.map((x, k) => x - c * u[k]);
    }
    const nv = Math.hypot(...v);
    q.push(v.map((x) => x / nv));
  }
  return q;
}

/** `Q diag(values) Q^T`: symmetric, eigenvalues `values`. */
export function symmetricMatrix(values: number[]): Mat {
  const n = values.length, q = orthogonal(n);
  return Array.from(
    { length: n },
    (_, i) =>
      Array.from({ length: n }, (_, j) => values.reduce((s, l, k) => s + q[k][i] * l * q[k][j], 0)),
  );
}

/**
 * Upper triangular with diagonal `diag` and every entry above it `off`: the
 * eigenvalues are the diagonal, while the spectral norm is about `off * n / 2`
 * (strongly non-normal).
 */
export function nonNormalMatrix(diag: number[], off: number): Mat {
  return diag.map((x, i) => diag.map((_, j) => (j === i ? x : j > i ? off : 0)));
}

/**
 * Block diagonal: a rotation-scaling block `r [[cos t, -k sin t], [sin t / k, cos t]]`
 * (eigenvalues `r e^{+-it}`, the dominant complex pair; normal when k = 1)
 * then `rest` on the diagonal, conjugated by a fixed orthogonal matrix so no
 * coordinate is special.
 */
export function complexPairMatrix(r: number, t: number, rest: number[], k = 1): Mat {
  const n = rest.length + 2, q = orthogonal(n);
  const b: Mat = Array.from({ length: n }, () => new Array(n).fill(0));
  b[0][0] = r * Math.cos(t), b[0][1] = -k * r * Math.sin(t);
  b[1][0] = r * Math.sin(t) / k, b[1][1] = r * Math.cos(t);
  rest.forEach((x, i) => b[i + 2][i + 2] = x);
  // Q^T B Q
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => {
      let s = 0;
      for (let k = 0; k < n; k++) for (let l = 0; l < n; l++) s += q[k][i] * b[k][l] * q[l][j];
      return s;
    }));
}
