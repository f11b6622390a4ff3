/**
 * A plain-TypeScript float64 copy of one loop of the shared block of
 * `models/looped.ts` (same parameter names, norm placements, LayerNorm /
 * RMSNorm with eps 1e-5, causal softmax attention with the -1e9 mask, exact
 * erf GELU), and float64 references of the Jacobian penalties built on it,
 * for checking the tfjs penalties' gradients.
 *
 * Derivatives here are central differences in float64: in the state for
 * the Jacobian (step 1e-5), in the parameters for the penalty's gradient.
 *
 * @module
 */
import type { ModelConfig } from "../../models/config.ts";

/** Parameters by name, as flat float64 arrays (row-major, tfjs layout). */
export type ParamsF64 = Map<string, Float64Array>;

const LN_EPS = 1e-5;

/** erf to ~1e-15: Taylor series for |x| < 3, continued fraction for erfc beyond. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = x, sum = x;
    for (let n = 1; n < 200; n++) {
      term *= -x * x / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
  let frac = ax;
  for (let n = 60; n >= 1; n--) frac = ax + (n / 2) / frac;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / frac;
  return Math.sign(x) * (1 - erfc);
}

/** `x [rows, n] @ w [n, m] + b [m]`. */
function dense(
  x: Float64Array,
  rows: number,
  w: Float64Array,
  n: number,
  m: number,
  b?: Float64Array,
): Float64Array {
  const y = new Float64Array(rows * m);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < m; j++) {
      let s = b ? b[j] : 0;
      for (let k = 0; k < n; k++) s += x[r * n + k] * w[k * m + j];
      y[r * m + j] = s;
    }
  }
  return y;
}

function get(p: ParamsF64, name: string): Float64Array {
  const v = p.get(name);
  if (!v) throw new Error(`reference: missing parameter ${name}`);
  return v;
}

function normRows(
  c: ModelConfig,
  p: ParamsF64,
  name: string,
  x: Float64Array,
  rows: number,
  d: number,
): Float64Array {
  const gain = get(p, `${name}.gain`), bias = p.get(`${name}.bias`);
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    if (c.norm_type === "layernorm") {
      let mean = 0;
      for (let j = 0; j < d; j++) mean += x[o + j];
      mean /= d;
      let v = 0;
      for (let j = 0; j < d; j++) v += (x[o + j] - mean) ** 2;
      const inv = 1 / Math.sqrt(v / d + LN_EPS);
      for (let j = 0; j < d; j++) {
        y[o + j] = (x[o + j] - mean) * inv * gain[j] + (bias ? bias[j] : 0);
      }
    } else {
      let ms = 0;
      for (let j = 0; j < d; j++) ms += x[o + j] ** 2;
      const inv = 1 / Math.sqrt(ms / d + LN_EPS);
      for (let j = 0; j < d; j++) y[o + j] = x[o + j] * inv * gain[j];
    }
  }
  return y;
}

function attention(
  c: ModelConfig,
  p: ParamsF64,
  prefix: string,
  x: Float64Array,
  b: number,
  t: number,
): Float64Array {
  const d = c.d_model, nh = c.n_heads, dh = d / nh;
  const qkv = dense(x, b * t, get(p, `${prefix}.wqkv`), d, 3 * d, get(p, `${prefix}.bqkv`));
  const merged = new Float64Array(b * t * d);
  const at = (bi: number, ti: number, part: number, hi: number, j: number) =>
    qkv[(bi * t + ti) * 3 * d + part * d + hi * dh + j];
  const scores = new Float64Array(t);
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < nh; hi++) {
      for (let i = 0; i < t; i++) {
        let max = -Infinity;
        for (let s = 0; s < t; s++) {
          let dot = 0;
          for (let j = 0; j < dh; j++) dot += at(bi, i, 0, hi, j) * at(bi, s, 1, hi, j);
          scores[s] = dot / Math.sqrt(dh) + (s > i ? -1e9 : 0);
          max = Math.max(max, scores[s]);
        }
        let total = 0;
        for (let s = 0; s < t; s++) total += scores[s] = Math.exp(scores[s] - max);
        for (let j = 0; j < dh; j++) {
          let mix = 0;
          for (let s = 0; s < t; s++) mix += scores[s] / total * at(bi, s, 2, hi, j);
          merged[(bi * t + i) * d + hi * dh + j] = mix;
        }
      }
    }
  }
  return dense(merged, b * t, get(p, `${prefix}.wo`), d, d, get(p, `${prefix}.bo`));
}

function mlp(
  c: ModelConfig,
  p: ParamsF64,
  prefix: string,
  x: Float64Array,
  rows: number,
): Float64Array {
  const hidden = dense(x, rows, get(p, `${prefix}.w1`), c.d_model, c.d_ff, get(p, `${prefix}.b1`));
  for (let i = 0; i < hidden.length; i++) {
    hidden[i] = 0.5 * hidden[i] * (1 + erf(hidden[i] / Math.SQRT2));
  }
  return dense(hidden, rows, get(p, `${prefix}.w2`), c.d_ff, c.d_model, get(p, `${prefix}.b2`));
}

const add = (a: Float64Array, b: Float64Array) => a.map((x, i) => x + b[i]);

function residual(
  c: ModelConfig,
  x: Float64Array,
  branch: (y: Float64Array) => Float64Array,
  pre: (y: Float64Array) => Float64Array,
  post: (y: Float64Array) => Float64Array,
): Float64Array {
  switch (c.norm_placement) {
    case "pre_norm":
      return add(x, branch(pre(x)));
    case "post_norm":
      return post(add(x, branch(x)));
    case "sandwich_branch":
      return add(x, post(branch(pre(x))));
    case "sandwich_dual":
      return post(add(x, branch(pre(x))));
  }
}

/**
 * One loop `f(h)` for a state h [b, t, d] (flat), as `LoopedLM.step` with
 * dropout off. Input injection `none` and `add` are supported.
 */
export function stepF64(
  c: ModelConfig,
  p: ParamsF64,
  h: Float64Array,
  b: number,
  t: number,
  e?: Float64Array,
): Float64Array {
  if (c.injection === "linear") throw new Error("reference: linear injection not implemented");
  let x = c.injection === "add" ? add(h, e!) : h;
  const rows = b * t, d = c.d_model;
  for (let i = 0; i < c.n_layers; i++) {
    const prefix = `block.${i}`;
    const normAt = (name: string) => (y: Float64Array) =>
      normRows(c, p, `${prefix}.${name}`, y, rows, d);
    x = residual(
      c,
      x,
      (y) => attention(c, p, `${prefix}.attn`, y, b, t),
      normAt("attn_pre"),
      normAt("attn_post"),
    );
    x = residual(
      c,
      x,
      (y) => mlp(c, p, `${prefix}.mlp`, y, rows),
      normAt("mlp_pre"),
      normAt("mlp_post"),
    );
  }
  return x;
}

/** The Jacobian (rows `J[i]`, `J[i][j] = d f_i / d h_j`) by central differences. */
export function jacobianF64(
  f: (h: Float64Array) => Float64Array,
  h: Float64Array,
  eps = 1e-5,
): Float64Array[] {
  const n = h.length;
  const rows = Array.from({ length: n }, () => new Float64Array(n));
  for (let j = 0; j < n; j++) {
    const hp = h.slice(), hm = h.slice();
    hp[j] += eps;
    hm[j] -= eps;
    const fp = f(hp), fm = f(hm);
    for (let i = 0; i < n; i++) rows[i][j] = (fp[i] - fm[i]) / (2 * eps);
  }
  return rows;
}

/** `J x` (`transpose` false) or `J^T x`. */
export function applyF64(jac: Float64Array[], x: Float64Array, transpose: boolean): Float64Array {
  const n = x.length, y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) y[transpose ? j : i] += jac[i][j] * x[transpose ? i : j];
  }
  return y;
}

/** K power steps from v0 (taken as given), `R = ||u_K||^2`, on an explicit Jacobian. */
export function powerPenaltyF64(
  jac: Float64Array[],
  v0: Float64Array,
  iters: number,
  mode: "jvp" | "vjp",
): number {
  let v = v0, u = v0;
  for (let k = 1; k <= iters; k++) {
    u = applyF64(jac, v, mode === "vjp");
    const n = Math.hypot(...u);
    v = u.map((x) => x / n);
  }
  return u.reduce((s, x) => s + x * x, 0);
}

/**
 * Central-difference gradient of `value(p)` with respect to the entries
 * `indices` of parameter `name` (the map is perturbed in place, then restored).
 */
export function paramGradientF64(
  p: ParamsF64,
  name: string,
  indices: number[],
  value: (p: ParamsF64) => number,
  delta = 1e-5,
): number[] {
  const w = get(p, name);
  return indices.map((i) => {
    const keep = w[i];
    w[i] = keep + delta;
    const up = value(p);
    w[i] = keep - delta;
    const down = value(p);
    w[i] = keep;
    return (up - down) / (2 * delta);
  });
}

/** `J v` by a float64 central difference (step `eps` along unit v, rescaled). */
export function jvpF64(
  f: (h: Float64Array) => Float64Array,
  h: Float64Array,
  v: Float64Array,
  eps = 1e-5,
): Float64Array {
  const n = Math.hypot(...v);
  const fp = f(h.map((x, i) => x + eps * v[i] / n)), fm = f(h.map((x, i) => x - eps * v[i] / n));
  return fp.map((x, i) => (x - fm[i]) / (2 * eps) * n);
}

/**
 * The K-step penalty `R = ||u_K||^2` for map `f` at `h` from `v0`: `jvp`
 * mode by float64 JVPs (2K evaluations), `vjp` mode through the full
 * float64 Jacobian (2D evaluations).
 */
export function penaltyF64(
  f: (h: Float64Array) => Float64Array,
  h: Float64Array,
  v0: Float64Array,
  iters: number,
  mode: "jvp" | "vjp",
): number {
  if (mode === "vjp") return powerPenaltyF64(jacobianF64(f, h), v0, iters, "vjp");
  let v = v0, u = v0;
  for (let k = 1; k <= iters; k++) {
    u = jvpF64(f, h, v);
    const n = Math.hypot(...u);
    v = u.map((x) => x / n);
  }
  return u.reduce((s, x) => s + x * x, 0);
}

/** `(1 / (S D)) sum_s ||J z_s||^2` for the given probes, by float64 JVPs. */
export function hutchinsonF64(
  f: (h: Float64Array) => Float64Array,
  h: Float64Array,
  probes: Float64Array[],
): number {
  let total = 0;
  for (const z of probes) total += jvpF64(f, h, z).reduce((s, x) => s + x * x, 0);
  return total / (probes.length * h.length);
}
