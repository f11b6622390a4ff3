/**
 * The fused causal self-attention (ops/attention.ts, backends/wasm/
 * simd_attention.ts): the raw SIMD kernels against float64 sums (writes
 * past the outputs caught), and the op against its tfjs-op reference in
 * values, gradients and the exact Jacobian-vector product, without leaks.
 */
import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertLess, assertThrows } from "@std/assert";
import { fusedAttentionFromEnv } from "../../backends/wasm/attention.ts";
import { simdAttention } from "../../backends/wasm/simd_attention.ts";
import { InputError } from "../../utils/errors.ts";
import { float32Bits } from "../../backends/wasm/simd_layer_norm.ts";
import {
  attentionPath,
  attentionReference,
  causalSelfAttention,
  fusedAttentionFits,
  setFusedAttention,
} from "../../ops/attention.ts";
import { jvpExact, vjp } from "../../regularizers/jacobian_products.ts";
import { BACKEND, maxAbsDiff } from "../_backend.ts";

/** Deterministic values in [-2, 2]. */
function fill(n: number, salt: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = 2 * Math.sin(i * 0.37 + salt) * Math.cos(i * 0.013 + salt);
  return v;
}

/** Attention of `qkv [B, T, 3 H dh]` in float64: output, probabilities, and `dqkv` for `dy`. */
function attention64(
  qkv: Float32Array,
  dy: Float32Array,
  b: number,
  t: number,
  h: number,
  dh: number,
) {
  const d = h * dh, row = 3 * d;
  const out = new Float64Array(b * t * d), probs = new Float64Array(b * h * t * t);
  const dqkv = new Float64Array(qkv.length);
  const q = (bi: number, i: number, hi: number, c: number) => (bi * t + i) * row + hi * dh + c;
  const scale = 1 / Math.sqrt(dh);
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const P = (i: number, j: number) => ((bi * h + hi) * t + i) * t + j;
      const dS = new Float64Array(t * t);
      for (let i = 0; i < t; i++) {
        const s = new Float64Array(i + 1);
        for (let j = 0; j <= i; j++) {
          for (let c = 0; c < dh; c++) {
            s[j] += qkv[q(bi, i, hi, c)] * qkv[q(bi, j, hi, c) + d] * scale;
          }
        }
        const top = Math.max(...s);
        const e = Array.from(s, (x) => Math.exp(x - top)), sum = e.reduce((x, y) => x + y, 0);
        for (let j = 0; j <= i; j++) probs[P(i, j)] = e[j] / sum;
        for (let c = 0; c < dh; c++) {
          let o = 0;
          for (let j = 0; j <= i; j++) o += probs[P(i, j)] * qkv[q(bi, j, hi, c) + 2 * d];
          out[(bi * t + i) * d + hi * dh + c] = o;
        }
        // backward: dP = dy v^T, dS = P (dP - sum P dP) scale
        const dP = new Float64Array(i + 1);
        for (let j = 0; j <= i; j++) {
          for (let c = 0; c < dh; c++) {
            dP[j] += dy[(bi * t + i) * d + hi * dh + c] * qkv[q(bi, j, hi, c) + 2 * d];
          }
        }
        let r = 0;
        for (let j = 0; j <= i; j++) r += probs[P(i, j)] * dP[j];
        for (let j = 0; j <= i; j++) dS[i * t + j] = probs[P(i, j)] * (dP[j] - r) * scale;
      }
      for (let i = 0; i < t; i++) {
        for (let j = 0; j <= i; j++) {
          for (let c = 0; c < dh; c++) {
            dqkv[q(bi, i, hi, c)] += dS[i * t + j] * qkv[q(bi, j, hi, c) + d];
            dqkv[q(bi, j, hi, c) + d] += dS[i * t + j] * qkv[q(bi, i, hi, c)];
            dqkv[q(bi, j, hi, c) + 2 * d] += probs[P(i, j)] * dy[(bi * t + i) * d + hi * dh + c];
          }
        }
      }
    }
  }
  return { out, probs, dqkv };
}

const SHAPES = [
  // [batch, t, heads, dh]: t not a multiple of 4, one position, one head, wide heads
  [2, 5, 2, 4],
  [3, 7, 3, 8],
  [1, 1, 1, 4],
  [2, 16, 4, 32],
  [1, 9, 2, 64],
];

Deno.test("simd attention kernels: equal float64 sums, nothing written past the outputs", () => {
  for (const [b, t, h, dh] of SHAPES) {
    const d = h * dh;
    const memory = new WebAssembly.Memory({ initial: 64 });
    const heap = new Float32Array(memory.buffer);
    const sizes = { qkv: b * t * 3 * d, out: b * t * d, probs: b * h * t * t, scratch: t * t + 4 };
    let next = 16;
    const place = (n: number) => {
      const at = next;
      next += 4 * (n + 8); // 8 guard floats after each buffer
      return at;
    };
    const [pq, po, pp, pdy, pg, ps] = [
      sizes.qkv,
      sizes.out,
      sizes.probs,
      sizes.out,
      sizes.qkv,
      sizes.scratch,
    ].map(place);
    const qkv = fill(sizes.qkv, 1), dy = fill(sizes.out, 2);
    heap.set(qkv, pq / 4);
    heap.set(dy, pdy / 4);
    for (const [at, n] of [[po, sizes.out], [pp, sizes.probs], [pg, sizes.qkv]]) {
      heap.fill(99, at / 4, at / 4 + n + 8);
    }
    const kernels = simdAttention(memory, dh);
    const scale = float32Bits(1 / Math.sqrt(dh));
    kernels.forward(pq, po, pp, b, h, t, scale, ps);
    kernels.backward(pdy, pq, pp, pg, b, h, t, scale, ps);
    const want = attention64(qkv, dy, b, t, h, dh);
    const got = (at: number, n: number) => heap.slice(at / 4, at / 4 + n);
    const shape = `[${b}, ${t}, ${h}, ${dh}]`;
    assertLess(maxAbsDiff(got(po, sizes.out), want.out), 2e-6, `out ${shape}`);
    assertLess(maxAbsDiff(got(pp, sizes.probs), want.probs), 1e-6, `probs ${shape}`);
    assertLess(maxAbsDiff(got(pg, sizes.qkv), want.dqkv), 1e-5, `dqkv ${shape}`);
    for (const [at, n] of [[po, sizes.out], [pp, sizes.probs], [pg, sizes.qkv]]) {
      assertEquals([...got(at + 4 * n, 8)], Array(8).fill(99), `a write past an output ${shape}`);
    }
  }
});

Deno.test({
  name: "fused attention op: values and gradients equal the tfjs-op reference, no tensor leaks",
  ignore: BACKEND !== "wasm",
  fn: () => {
    assertEquals(attentionPath(), "fused");
    for (const [b, t, h, dh] of SHAPES) {
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const qkv = tf.tensor3d(fill(b * t * 3 * h * dh, 3), [b, t, 3 * h * dh]);
        const dy = tf.tensor3d(fill(b * t * h * dh, 4), [b, t, h * dh]);
        assert(fusedAttentionFits(qkv.shape, h));
        const loss = (f: typeof attentionReference) => (x: tf.Tensor) =>
          tf.sum(tf.mul(f(x, h), dy)) as tf.Scalar;
        const shape = `[${b}, ${t}, ${h}, ${dh}]`;
        const diff = (x: tf.Tensor, y: tf.Tensor) => maxAbsDiff(x.dataSync(), y.dataSync());
        assertLess(diff(causalSelfAttention(qkv, h), attentionReference(qkv, h)), 2e-6, shape);
        const grad = (f: typeof attentionReference) => tf.grad(loss(f))(qkv);
        assertLess(diff(grad(causalSelfAttention), grad(attentionReference)), 1e-5, shape);
      });
      assertEquals(tf.memory().numTensors, before);
    }
  },
});

Deno.test({
  name:
    "fused attention op: the exact JVP through it equals the reference's; a second derivative in qkv is an error",
  ignore: BACKEND !== "wasm",
  fn: () => {
    const [b, t, h, dh] = [2, 6, 2, 8], d = h * dh;
    tf.tidy(() => {
      const w = tf.tensor2d(fill(d * 3 * d, 5), [d, 3 * d]).mul(0.3);
      const map = (f: typeof attentionReference) => (x: tf.Tensor3D) =>
        f(tf.matMul(x.reshape([-1, d]), w).reshape([b, t, 3 * d]), h) as tf.Tensor3D;
      const x = tf.tensor3d(fill(b * t * d, 6), [b, t, d]);
      const v = tf.tensor3d(fill(b * t * d, 7), [b, t, d]);
      const fused = jvpExact(map(causalSelfAttention), x, v).dataSync();
      const reference = jvpExact(map(attentionReference), x, v).dataSync();
      assertLess(maxAbsDiff(fused, reference), 1e-5);
      // d/dx <J^T u, v> would need the backward kernel's derivative in qkv
      const second = () =>
        tf.grad((y: tf.Tensor) =>
          tf.sum(tf.mul(vjp(map(causalSelfAttention), y as tf.Tensor3D, v), v))
        )(x);
      assertThrows(second, Error, "not written");
    });
  },
});

Deno.test({
  name: "setFusedAttention(false) runs the reference bit for bit",
  ignore: BACKEND !== "wasm",
  fn: () => {
    setFusedAttention(false);
    try {
      assertEquals(attentionPath(), "reference");
      tf.tidy(() => {
        const qkv = tf.tensor3d(fill(2 * 5 * 24, 8), [2, 5, 24]);
        assertEquals(causalSelfAttention(qkv, 2).dataSync(), attentionReference(qkv, 2).dataSync());
      });
    } finally {
      setFusedAttention(true);
    }
  },
});

Deno.test("STARS_FUSED_ATTENTION takes on or off, and names itself otherwise", () => {
  const saved = Deno.env.get("STARS_FUSED_ATTENTION");
  try {
    for (const [text, want] of [["", "on"], ["on", "on"], ["off", "off"]]) {
      Deno.env.set("STARS_FUSED_ATTENTION", text);
      assertEquals(fusedAttentionFromEnv(), want);
    }
    Deno.env.set("STARS_FUSED_ATTENTION", "no");
    assertThrows(
      () => fusedAttentionFromEnv(),
      InputError,
      'STARS_FUSED_ATTENTION must be "on" or "off", got "no"',
    );
  } finally {
    if (saved === undefined) Deno.env.delete("STARS_FUSED_ATTENTION");
    else Deno.env.set("STARS_FUSED_ATTENTION", saved);
  }
});
