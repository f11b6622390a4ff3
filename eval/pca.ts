/**
 * A two-component principal component analysis of latent states, for
 * drawing state trajectories in the plane.
 *
 * @module
 */
import { EigenvalueDecomposition, Matrix } from "ml-matrix";

/** Points projected onto their two leading principal components. */
export interface Projection2D {
  /** `[pc1, pc2]` per input point, in input order. */
  coords: [number, number][];
  /** Fraction of the total variance along each component. */
  explained: [number, number];
}

/**
 * Centres the points (rows, equal length) and projects them onto the two
 * leading eigenvectors of their covariance. Each component's sign is fixed
 * so that its largest-magnitude entry is positive (deterministic output).
 *
 * @example
 * ```ts
 * import { assertAlmostEquals } from "@std/assert";
 * import { pca2 } from "@stars/toolkit/eval";
 * const { explained } = pca2([[0, 0, 0], [1, 1, 0], [2, 2, 0]]); // [1, 0]
 * assertAlmostEquals(explained[0], 1);
 * assertAlmostEquals(explained[1], 0);
 * ```
 */
export function pca2(points: readonly ArrayLike<number>[]): Projection2D {
  const n = points.length;
  if (n === 0) return { coords: [], explained: [0, 0] };
  const d = points[0].length;
  const mean = new Float64Array(d);
  for (const p of points) for (let j = 0; j < d; j++) mean[j] += p[j] / n;
  const cov = Matrix.zeros(d, d);
  for (const p of points) {
    for (let i = 0; i < d; i++) {
      const a = p[i] - mean[i];
      for (let j = i; j < d; j++) cov.set(i, j, cov.get(i, j) + a * (p[j] - mean[j]));
    }
  }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) cov.set(i, j, cov.get(j, i));
  const evd = new EigenvalueDecomposition(cov, { assumeSymmetric: true });
  const order = evd.realEigenvalues.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]);
  const total = order.reduce((s, [v]) => s + Math.max(0, v), 0);
  const components = [0, 1].map((k) => {
    const col = order[k]?.[1];
    if (col === undefined) return new Float64Array(d);
    const v = Float64Array.from({ length: d }, (_, i) => evd.eigenvectorMatrix.get(i, col));
    let big = 0;
    for (let i = 1; i < d; i++) if (Math.abs(v[i]) > Math.abs(v[big])) big = i;
    if (v[big] < 0) v.forEach((x, i) => v[i] = -x);
    return v;
  });
  const coords = points.map((p): [number, number] => {
    const proj = components.map((v) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += (p[j] - mean[j]) * v[j];
      return s;
    });
    return [proj[0], proj[1]];
  });
  const share = (k: number) => total > 0 ? Math.max(0, order[k]?.[0] ?? 0) / total : 0;
  return { coords, explained: [share(0), share(1)] };
}
