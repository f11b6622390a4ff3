import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertGreater, assertLess, assertThrows } from "@std/assert";
import { nativeBlasStatus, setNativeBlas } from "../../backends/native/blas.ts";
import { eigenvalues, MAX_EIGEN_SIZE } from "../../regularizers/exact_jacobian.ts";
import { nativeEigenvaluesReady } from "../../backends/native/lapack.ts";
import { train } from "../../train/trainer.ts";
import type { TrainConfig } from "../../train/config.ts";
import { BACKEND, maxAbsDiff, values } from "../_backend.ts";
import { InputError } from "../../utils/errors.ts";

// Where the library is installed (CI installs libopenblas0-pthread), native
// products are checked; elsewhere these tests check the fallback only.
const NATIVE = BACKEND === "wasm" && nativeBlasStatus().products === "native";

function seeded(shape: number[], seed: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = Math.sin(seed * 7.1 + i * 0.37) * 1.3;
  return tf.tensor(v, shape);
}

// float64 reference of op(a) @ op(b) for 2-D inputs.
function reference(a: number[], b: number[], [m, k, n]: number[], tA: boolean, tB: boolean) {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        s += a[tA ? p * m + i : i * k + p] * b[tB ? j * k + p : p * n + j];
      }
      out[i * n + j] = s;
    }
  }
  return out;
}

Deno.test({
  name: "native products: every shape class and transpose equals float64 sums and the wasm path",
  ignore: !NATIVE,
  fn: async () => {
    const shapes = [[1, 1, 1], [5, 3, 7], [15, 64, 1024], [1024, 64, 15], [1024, 64, 192], [
      64,
      129,
      8,
    ], [130, 16, 256]];
    for (const [m, k, n] of shapes) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          const a = seeded(tA ? [k, m] : [m, k], m + k);
          const b = seeded(tB ? [n, k] : [k, n], n + 3);
          setNativeBlas("auto");
          const native = tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, tA, tB);
          setNativeBlas("off");
          const wasm = tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, tA, tB);
          setNativeBlas("auto");
          const ref = reference(await values(a), await values(b), [m, k, n], tA, tB);
          const scale = ref.reduce((s, x) => Math.max(s, Math.abs(x)), 1);
          const what = `${m}x${k}x${n} tA=${tA} tB=${tB}`;
          assertEquals(native.shape, [m, n], what);
          assertLess(maxAbsDiff(await values(native), ref) / scale, 1e-5, what);
          assertLess(maxAbsDiff(await values(native), await values(wasm)) / scale, 1e-5, what);
          tf.dispose([a, b, native, wasm]);
        }
      }
    }
    // Batches: small matrices (SIMD kernels) and large ones (native), any transposes.
    for (const [g, m, k, n] of [[1, 6, 4, 3], [3, 5, 7, 2], [2, 50, 48, 47]]) {
      for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]]) {
        const a = seeded(tA ? [g, k, m] : [g, m, k], m), b = seeded(tB ? [g, n, k] : [g, k, n], n);
        const out = tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, tA, tB);
        const [av, bv, ov] = [await values(a), await values(b), await values(out)];
        for (let i = 0; i < g; i++) {
          const ref = reference(
            av.slice(i * m * k, (i + 1) * m * k),
            bv.slice(i * k * n, (i + 1) * k * n),
            [m, k, n],
            tA,
            tB,
          );
          const got = ov.slice(i * m * n, (i + 1) * m * n);
          assertLess(
            maxAbsDiff(got, ref) / ref.reduce((s, x) => Math.max(s, Math.abs(x)), 1),
            1e-5,
          );
        }
        tf.dispose([a, b, out]);
      }
    }
  },
});

const SMALL: Partial<TrainConfig> = {
  digits: 2,
  d_model: 32,
  n_heads: 2,
  d_ff: 64,
  loops: 2,
  batch_size: 64,
  steps: 500,
  lr: 5e-3,
  warmup_steps: 50,
  eval_size: 200,
  eval_every: 0,
  checkpoint_every: 0,
};

async function trainedWeights(config: Partial<TrainConfig>) {
  const result = await train(config);
  const weights: number[] = [];
  for (const p of result.model.params.values()) weights.push(...await values(p));
  result.model.dispose();
  return { weights, accuracy: result.accuracy! };
}

Deno.test({
  name: "native products: deterministic, and training on either path learns alike",
  ignore: !NATIVE,
  fn: async () => {
    setNativeBlas("auto");
    const one = await trainedWeights({ ...SMALL, steps: 20 });
    const two = await trainedWeights({ ...SMALL, steps: 20 });
    assertEquals(one.weights, two.weights);
    const native = await trainedWeights(SMALL);
    setNativeBlas("off");
    const wasm = await trainedWeights(SMALL);
    setNativeBlas("auto");
    assert(maxAbsDiff(native.weights, wasm.weights) > 0, "the paths are different code");
    assertGreater(native.accuracy, 0.3);
    assertGreater(wasm.accuracy, 0.3);
    assertLess(Math.abs(native.accuracy - wasm.accuracy), 0.25);
  },
});

Deno.test("native products: off, a missing library and no FFI permission fall back to wasm", async () => {
  setNativeBlas("off");
  assertEquals(nativeBlasStatus().products, "wasm");
  assert(nativeBlasStatus().reason!.includes("off"));
  setNativeBlas("auto");
  const probe = `import { nativeBlasStatus } from "${
    new URL("../../backends/native/blas.ts", import.meta.url).href
  }"; try { console.log(JSON.stringify(nativeBlasStatus())); } catch (e) { console.log("error: " + e.message); }`;
  const run = async (args: string[], env: Record<string, string>) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", ...args, probe],
      env,
    }).output();
    return new TextDecoder().decode(out.stdout).trim();
  };
  // deno eval has every permission; a named library that is not there is an error.
  const missing = await run([], { STARS_BLAS: "on", STARS_BLAS_LIB: "/nonexistent/libblas.so" });
  assert(missing.startsWith("error: STARS_BLAS_LIB: cannot load"), missing);
  const off = JSON.parse(await run([], { STARS_BLAS: "off" }));
  assertEquals(off.products, "wasm");
  const bad = await run([], { STARS_BLAS: "maybe" });
  assert(bad.includes("STARS_BLAS must be"), bad);
  assertThrows(() => {
    Deno.env.set("STARS_THREADS", "0x2");
    try {
      setNativeBlas("auto");
      nativeBlasStatus();
    } finally {
      Deno.env.delete("STARS_THREADS");
      setNativeBlas("auto");
    }
  }, InputError);
  // Without FFI permission: a subprocess with read and env only.
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(file, probe);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", file],
    env: { STARS_BLAS: "on" },
  }).output();
  const status = JSON.parse(new TextDecoder().decode(out.stdout));
  assertEquals(status.products, "wasm");
  assert(status.reason.includes("FFI"), status.reason);
  await Deno.remove(file);
});

Deno.test({
  name: "native eigenvalues (dgeev) equal ml-matrix's, complex pairs included; sizes are capped",
  ignore: !NATIVE,
  fn: () => {
    assert(nativeEigenvaluesReady());
    for (const n of [1, 2, 7, 60]) {
      const m = Array.from(
        { length: n },
        (_, i) => Array.from({ length: n }, (_, j) => Math.sin(i * 1.3 + j * j * 0.7 + 0.2)),
      );
      const native = eigenvalues(m, "native"), js = eigenvalues(m, "javascript");
      assertEquals(native.length, n);
      // Sorted by modulus; compare moduli, and the multiset of real parts.
      for (let i = 0; i < n; i++) {
        assertLess(
          Math.abs(Math.hypot(native[i].re, native[i].im) - Math.hypot(js[i].re, js[i].im)),
          1e-9,
        );
      }
      const sorted = (ev: typeof js) => ev.map((e) => e.re).sort((a, b) => a - b);
      assertLess(maxAbsDiff(sorted(native), sorted(js)), 1e-9);
      if (n === 60) assert(native.some((e) => Math.abs(e.im) > 1e-6), "a complex pair");
    }
    // A rotation: eigenvalues +-i.
    const rot = eigenvalues([[0, -1], [1, 0]], "native");
    assertLess(maxAbsDiff(rot.map((e) => Math.abs(e.im)), [1, 1]), 1e-12);
    const big = MAX_EIGEN_SIZE.javascript + 1;
    const tooBig = Array.from({ length: big }, () => new Array(big).fill(0));
    const err = assertThrows(() => eigenvalues(tooBig, "javascript"), RangeError);
    assert(err.message.includes(`${MAX_EIGEN_SIZE.javascript} x ${MAX_EIGEN_SIZE.javascript} cap`));
  },
});
