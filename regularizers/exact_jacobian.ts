/**
 * The full Jacobian of a state map on a small state, and its eigenvalues,
 * for checking the estimators and for analysis of tiny models.
 *
 * Eigenvalues come from ml-matrix's `EigenvalueDecomposition` (a port of
 * JAMA: Hessenberg reduction and shifted QR), which handles non-symmetric
 * matrices and returns complex eigenvalues as conjugate pairs.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import { type StateMap, vjp } from "./jacobian_products.ts";

/** A complex number `re + i im`. */
export interface Complex {
  /** Real part. */
  re: number;
  /** Imaginary part. */
  im: number;
}

/** The largest state the exact Jacobian accepts (D x D entries in memory). */
export const MAX_EXACT_STATE = 4096;

/**
 * `J = df/dh` at `h` as a dense D x D matrix (rows of numbers), with the
 * state flattened in row-major order (`[b, t, d]` -> `(b T + t) d_model + d`)
 * and `J[i][j] = d f_i / d h_j`. Row i is the exact reverse-mode product
 * `J^T e_i`, so this takes D gradient evaluations: keep D small.
 */
export async function jacobianMatrix(f: StateMap, h: tf.Tensor3D): Promise<number[][]> {
  const d = h.size;
  if (d > MAX_EXACT_STATE) {
    throw new RangeError(`jacobianMatrix: state of ${d} entries exceeds ${MAX_EXACT_STATE}`);
  }
  const rows: number[][] = [];
  for (let i = 0; i < d; i++) {
    const row = tf.tidy(() => vjp(f, h, tf.oneHot(tf.tensor1d([i], "int32"), d).reshape(h.shape)));
    rows.push(Array.from(await row.data()));
    row.dispose();
  }
  return rows;
}

/**
 * All eigenvalues of a square real matrix (symmetric or not), largest
 * modulus first; complex ones come in conjugate pairs.
 */
export function eigenvalues(matrix: number[][]): Complex[] {
  const n = matrix.length;
  if (!matrix.every((row) => row.length === n)) {
    throw new RangeError("eigenvalues: matrix must be square");
  }
  if (n === 0) return [];
  const evd = new EigenvalueDecomposition(new Matrix(matrix), { assumeSymmetric: false });
  const re = evd.realEigenvalues, im = evd.imaginaryEigenvalues;
  const out = re.map((r, i) => ({ re: r, im: im[i] }));
  return out.sort((a, b) => Math.hypot(b.re, b.im) - Math.hypot(a.re, a.im));
}

/** The spectral radius `max |lambda|` of a square real matrix. */
export function spectralRadiusOf(matrix: number[][]): number {
  const ev = eigenvalues(matrix);
  return ev.length === 0 ? 0 : Math.hypot(ev[0].re, ev[0].im);
}
