/**
 * A measurement of the spectral radius of the loop map's Jacobian, for
 * analysis (no gradient): power iteration, with an honest fallback to a
 * Rayleigh-Ritz (Arnoldi) estimate when the iteration does not settle, as
 * it cannot when the dominant eigenvalues are a complex pair.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { l2Norm } from "./l2_norm.ts";
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import { jvpExact, type StateMap, vjp } from "./jacobian_products.ts";
import { randomUnitVector } from "./probes.ts";

/** Settings of {@linkcode estimateSpectralRadius}. */
export interface SpectralRadiusOptions {
  /** Most power-iteration steps before the fallback (default 300). */
  maxIters?: number;
  /**
   * Relative tolerance on eigenpair residuals (default 1e-4): the power
   * iteration stops when `||J v - lambda v|| <= tol |lambda|` for its unit
   * iterate v and Rayleigh quotient `lambda = <v, J v>`, and a Ritz value has
   * converged when `||J y - theta y|| <= tol |theta| ||y||`.
   */
  tol?: number;
  /** Dimension of the Krylov subspace of the fallback (default 20, at most D). */
  krylovDim?: number;
  /** Iterate `J^T` (`vjp`, default, cheaper) or `J` (`jvp`); same eigenvalues. */
  mode?: "jvp" | "vjp";
  /** Seed of the random start vector (default 0). */
  seed?: number;
}

/** How an estimate of the spectral radius was obtained. */
export interface SpectralRadiusEstimate {
  /** The estimate of `rho(J) = max |lambda_i(J)|`. */
  rho: number;
  /** Whether the method that produced `rho` met the tolerance. */
  converged: boolean;
  /** Products with the Jacobian that were evaluated, in all. */
  iterations: number;
  /**
   * `power`: the power iterate became an eigenvector (a real dominant
   * eigenvalue) and `rho` is its Rayleigh quotient's modulus. `ritz`: it did
   * not within `maxIters` (a complex dominant pair, or a small gap), and `rho` is the largest
   * modulus of the Ritz values of a Krylov subspace started from the last
   * power iterate (recovers `|lambda|` of a complex pair).
   */
  method: "power" | "ritz";
  /**
   * The growth rate `||J^k v_0||^(1/k)` over the power steps (`k` of them),
   * a lower-order estimate that tends to `rho` for any spectrum.
   */
  growthRate: number;
}

type Operator = (v: tf.Tensor) => tf.Tensor;

async function scalar(t: tf.Tensor): Promise<number> {
  const x = (await t.data())[0];
  t.dispose();
  return x;
}

/**
 * Estimates `rho(J)`, `J = df/dh` at `h`, with exact Jacobian products
 * ({@linkcode vjp} or {@linkcode jvpExact}) in float32.
 *
 * 1. Power iteration from a seeded random unit vector over the whole state:
 *    `u_k = J v_{k-1}`, `v_k = u_k / ||u_k||`; stops when `(lambda, v)`,
 *    `lambda = <v, J v>`, is an eigenpair within `tol` (residual test).
 * 2. Otherwise (complex dominant pair, or too slow a gap), Arnoldi with
 *    classical Gram-Schmidt applied twice on `krylovDim` vectors from the
 *    last iterate, and `rho` = the largest Ritz modulus; `converged` tells
 *    whether its residual met `tol`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { estimateSpectralRadius, useBackend } from "@stars/toolkit";
 * await useBackend("wasm");
 * const h = tf.zeros([1, 2, 2]) as tf.Tensor3D;
 * const f = (x: tf.Tensor3D) => tf.mul(x, -0.7) as tf.Tensor3D;
 * const est = await estimateSpectralRadius(f, h); // rho 0.7, method "power"
 * if (Math.abs(est.rho - 0.7) > 1e-3) throw new Error("the map scales by -0.7");
 * ```
 */
export async function estimateSpectralRadius(
  f: StateMap,
  h: tf.Tensor3D,
  options: SpectralRadiusOptions = {},
): Promise<SpectralRadiusEstimate> {
  const maxIters = options.maxIters ?? 300;
  const tol = options.tol ?? 1e-4;
  if (!Number.isInteger(maxIters) || maxIters < 1) {
    throw new RangeError("spectral radius: maxIters must be an integer >= 1");
  }
  if (!(tol > 0)) throw new RangeError("spectral radius: tol must be > 0");
  const op: Operator = options.mode === "jvp" ? (v) => jvpExact(f, h, v) : (v) => vjp(f, h, v);
  let v = randomUnitVector(h.shape, options.seed ?? 0);
  let logGrowth = 0;
  try {
    for (let k = 1; k <= maxIters; k++) {
      const u = op(v);
      // Rayleigh quotient lambda = <v, J v> and residual ||J v - lambda v||.
      const stats = tf.tidy(() => {
        const q = tf.sum(tf.mul(v, u));
        return tf.stack([l2Norm(u), q, l2Norm(tf.sub(u, tf.mul(v, q)))]);
      });
      const [n, lambda, residual] = await stats.data();
      stats.dispose();
      logGrowth += Math.log(n);
      if (n === 0) {
        u.dispose();
        return { rho: 0, converged: true, iterations: k, method: "power", growthRate: 0 };
      }
      v.dispose();
      v = tf.tidy(() => tf.div(u, n));
      u.dispose();
      if (residual <= tol * Math.abs(lambda)) {
        return {
          rho: Math.abs(lambda),
          converged: true,
          iterations: k,
          method: "power",
          growthRate: Math.exp(logGrowth / k),
        };
      }
    }
    const ritz = await largestRitzValue(op, v, Math.min(options.krylovDim ?? 20, h.size));
    return {
      rho: ritz.modulus,
      converged: ritz.relResidual <= tol,
      iterations: maxIters + ritz.products,
      method: "ritz",
      growthRate: Math.exp(logGrowth / maxIters),
    };
  } finally {
    v.dispose();
  }
}

/** Arnoldi on `m` vectors from unit `v0`; the Ritz value of largest modulus. */
async function largestRitzValue(
  op: Operator,
  v0: tf.Tensor,
  m: number,
): Promise<{ modulus: number; relResidual: number; products: number }> {
  const shape = v0.shape;
  const basis: tf.Tensor1D[] = [tf.tidy(() => v0.reshape([-1]) as tf.Tensor1D)];
  const hess: number[][] = Array.from({ length: m + 1 }, () => new Array(m).fill(0));
  let size = m, products = 0, breakdown = false;
  try {
    for (let j = 0; j < m; j++) {
      let w = tf.tidy(() => op(basis[j].reshape(shape)).reshape([-1]) as tf.Tensor1D);
      products++;
      for (let pass = 0; pass < 2; pass++) {
        const stacked = tf.stack(basis) as tf.Tensor2D;
        const coef = tf.tidy(() => tf.matMul(stacked, w.reshape([-1, 1])).reshape([-1]));
        const c = Array.from(await coef.data());
        c.forEach((x, i) => hess[i][j] += x);
        const next = tf.tidy(() =>
          tf.sub(w, tf.matMul(coef.reshape([1, -1]), stacked).reshape([-1]))
        ) as tf.Tensor1D;
        tf.dispose([stacked, coef, w]);
        w = next;
      }
      const hn = await scalar(l2Norm(w));
      hess[j + 1][j] = hn;
      const scale = Math.max(...hess.map((row) => Math.abs(row[j])));
      if (hn <= 1e-6 * scale) {
        // An invariant subspace: its Ritz values are eigenvalues.
        w.dispose();
        size = j + 1;
        breakdown = true;
        break;
      }
      if (j + 1 < m) basis.push(tf.tidy(() => tf.div(w, hn) as tf.Tensor1D));
      w.dispose();
    }
  } finally {
    tf.dispose(basis);
  }
  const square = hess.slice(0, size).map((row) => row.slice(0, size));
  const evd = new EigenvalueDecomposition(new Matrix(square), { assumeSymmetric: false });
  const re = evd.realEigenvalues, im = evd.imaginaryEigenvalues;
  const vecs = evd.eigenvectorMatrix;
  let best = 0;
  for (let i = 1; i < size; i++) {
    if (Math.hypot(re[i], im[i]) > Math.hypot(re[best], im[best])) best = i;
  }
  const modulus = Math.hypot(re[best], im[best]);
  // Eigenvector s of the small matrix (JAMA stores a complex pair's real and
  // imaginary parts in adjacent columns); Arnoldi residual = h_{m+1,m} |s_m| / ||s||.
  const cols = im[best] > 0 ? [best, best + 1] : im[best] < 0 ? [best - 1, best] : [best];
  let norm2 = 0, last2 = 0;
  for (const c of cols) {
    for (let i = 0; i < size; i++) norm2 += vecs.get(i, c) ** 2;
    last2 += vecs.get(size - 1, c) ** 2;
  }
  const residual = breakdown ? 0 : hess[size][size - 1] * Math.sqrt(last2 / norm2);
  return { modulus, relResidual: modulus > 0 ? residual / modulus : residual, products };
}
