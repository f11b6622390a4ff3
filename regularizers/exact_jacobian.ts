/**
 * The full Jacobian of a state map on a small state, and its eigenvalues,
 * for checking the estimators and for analysis of tiny models.
 *
 * Eigenvalues come from LAPACK's `dgeev` where the native BLAS library is
 * loaded (backends/native/lapack.ts), else from ml-matrix's
 * `EigenvalueDecomposition` (a port of JAMA: Hessenberg reduction and
 * shifted QR); both handle non-symmetric matrices and return complex
 * eigenvalues as conjugate pairs.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import { type StateMap, vjp } from "./jacobian_products.ts";
import { nativeEigenvalues, nativeEigenvaluesReady } from "../backends/native/lapack.ts";

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
 * The largest matrix whose eigenvalues are computed, per path: what runs in
 * seconds on a 2-core CPU (measured on a busy AMD EPYC, one BLAS thread:
 * dgeev 0.9 s at n = 512 and 3.1 s at 1 024, so about 25 s at 2 048;
 * ml-matrix 1.3 s at 256 and 10.8 s at 512).
 */
export const MAX_EIGEN_SIZE = { native: 2048, javascript: 512 } as const;

/**
 * All eigenvalues of a square real matrix (symmetric or not), largest
 * modulus first; complex ones come in conjugate pairs. Native LAPACK where
 * loaded, else ml-matrix (`path` forces one).
 */
export function eigenvalues(
  matrix: number[][],
  path: "auto" | "native" | "javascript" = "auto",
): Complex[] {
  const n = matrix.length;
  if (!matrix.every((row) => row.length === n)) {
    throw new RangeError("eigenvalues: matrix must be square");
  }
  if (n === 0) return [];
  const native = path === "native" || (path === "auto" && nativeEigenvaluesReady());
  const cap = MAX_EIGEN_SIZE[native ? "native" : "javascript"];
  if (n > cap) {
    throw new RangeError(
      `eigenvalues: a ${n} x ${n} matrix exceeds the ${cap} x ${cap} cap of the ${
        native ? "native LAPACK" : "JavaScript (ml-matrix; no native library loaded)"
      } path`,
    );
  }
  let out: Complex[];
  if (native) {
    const r = nativeEigenvalues(Float64Array.from(matrix.flat()), n);
    if (!r) throw new RangeError("eigenvalues: native LAPACK (dgeev) is not loaded");
    out = Array.from(r.re, (re, i) => ({ re, im: r.im[i] }));
  } else {
    const evd = new EigenvalueDecomposition(new Matrix(matrix), { assumeSymmetric: false });
    const re = evd.realEigenvalues, im = evd.imaginaryEigenvalues;
    out = re.map((r, i) => ({ re: r, im: im[i] }));
  }
  return out.sort((a, b) => Math.hypot(b.re, b.im) - Math.hypot(a.re, a.im));
}

/** The spectral radius `max |lambda|` of a square real matrix. */
export function spectralRadiusOf(matrix: number[][]): number {
  const ev = eigenvalues(matrix);
  return ev.length === 0 ? 0 : Math.hypot(ev[0].re, ev[0].im);
}
