/**
 * The fused dense layer (ops/dense.ts, backends/wasm/dense.ts): on the
 * native product path it computes the reference's bits, forward and
 * backward; its second derivatives equal autodiff of tfjs's own ops; with
 * products off native it is not used; no tensor leaks.
 */
import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertLess } from "@std/assert";
import { nativeBlasStatus, setNativeBlas } from "../../backends/native/blas.ts";
import { dense, denseReference, fusedDenseReady } from "../../ops/dense.ts";
import { BACKEND, maxAbsDiff } from "../_backend.ts";

/** Deterministic values in [-1, 1]. */
function fill(n: number, salt: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = Math.sin(i * 0.37 + salt) * Math.cos(i * 0.013 + salt);
  return v;
}

const native = BACKEND === "wasm" && nativeBlasStatus().products === "native";

Deno.test({
  name: "fused dense: the reference's bits forward and backward (bias widths 4k and not), no leaks",
  ignore: !native,
  fn: () => {
    assert(fusedDenseReady());
    for (const [lead, k, n] of [[[3, 5], 8, 12], [[7], 6, 5], [[2, 4, 3], 16, 32]] as const) {
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const rows = lead.reduce((p, s) => p * s, 1);
        const x = tf.tensor(fill(rows * k, 1), [...lead, k]);
        const w = tf.tensor2d(fill(k * n, 2), [k, n]);
        const b = tf.tensor1d(fill(n, 3));
        const u = tf.tensor(fill(rows * n, 4), [...lead, n]);
        const loss = (f: typeof dense) => (...xs: tf.Tensor[]) =>
          tf.sum(tf.mul(f(xs[0], xs[1], xs[2]), u)) as tf.Scalar;
        const shape = `[${lead}] x ${k} -> ${n}`;
        assertEquals(dense(x, w, b).dataSync(), denseReference(x, w, b).dataSync(), shape);
        const fused = tf.grads(loss(dense))([x, w, b]);
        const reference = tf.grads(loss(denseReference))([x, w, b]);
        for (let i = 0; i < 3; i++) {
          assertEquals(fused[i].dataSync(), reference[i].dataSync(), `${shape}: gradient ${i}`);
        }
      });
      assertEquals(tf.memory().numTensors, before);
    }
  },
});

Deno.test({
  name: "fused dense: second derivatives equal autodiff of tfjs's own product and add",
  ignore: !native,
  fn: () => {
    const [rows, k, n] = [6, 4, 8];
    tf.tidy(() => {
      const x = tf.tensor2d(fill(rows * k, 5), [rows, k]);
      const w = tf.tensor2d(fill(k * n, 6), [k, n]);
      const b = tf.tensor1d(fill(n, 7));
      const u = tf.tensor2d(fill(rows * n, 8), [rows, n]);
      const v = [tf.tensor2d(fill(rows * k, 9), [rows, k]), tf.tensor2d(fill(k * n, 10), [k, n])];
      const plain = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
        tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b);
      // <grad of <f(x, w, b), u> in (x, w, b), (v_x, v_w, 1)>, differentiated in x, w and u.
      const second = (f: typeof plain) => (...xs: tf.Tensor[]) => {
        const [gx, gw, gb] = tf.grads((...ys: tf.Tensor[]) =>
          tf.sum(tf.mul(f(ys[0], ys[1], ys[2]), xs[2])) as tf.Scalar
        )([xs[0], xs[1], b]);
        return tf.addN([
          tf.sum(tf.mul(gx, v[0])),
          tf.sum(tf.mul(gw, v[1])),
          tf.sum(gb),
        ]) as tf.Scalar;
      };
      const fused = tf.grads(second(dense))([x, w, u]);
      const reference = tf.grads(second(plain))([x, w, u]);
      for (let i = 0; i < 3; i++) {
        assertLess(maxAbsDiff(fused[i].dataSync(), reference[i].dataSync()), 1e-5, `input ${i}`);
      }
    });
  },
});

Deno.test({
  name: "fused dense: not used while products are off native",
  ignore: BACKEND !== "wasm",
  fn: () => {
    setNativeBlas("off");
    try {
      assertEquals(fusedDenseReady(), false);
      tf.tidy(() => {
        const x = tf.tensor2d(fill(12, 1), [3, 4]), w = tf.tensor2d(fill(8, 2), [4, 2]);
        const b = tf.tensor1d([0.5, -1]);
        assertEquals(dense(x, w, b).dataSync(), denseReference(x, w, b).dataSync());
      });
    } finally {
      setNativeBlas("auto");
    }
  },
});
