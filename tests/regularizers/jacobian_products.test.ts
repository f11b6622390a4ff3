import * as tf from "@tensorflow/tfjs";
import { assertAlmostEquals, assertEquals, assertLess, assertThrows } from "@std/assert";
import { type BackendName, useBackend } from "../../backends/select.ts";
import { jvp, jvpExact, vjp } from "../../regularizers/jacobian_products.ts";
import { jacobianMatrix } from "../../regularizers/exact_jacobian.ts";
import { randomUnitVector } from "../../regularizers/probes.ts";
import { stopGradient } from "../../regularizers/stop_gradient.ts";
import { applyF64, jacobianF64, stepF64 } from "../reference/looped_block_f64.ts";
import { linearMap, type Mat, matVec, nonNormalMatrix } from "../reference/linear_maps.ts";
import { perturbedBlock, TINY_B, TINY_MODEL, TINY_T } from "../reference/perturbed_block.ts";

await useBackend((Deno.env.get("STARS_BACKEND") ?? "wasm") as BackendName);

const SHAPE: [number, number, number] = [1, 2, 3];
const A: Mat = nonNormalMatrix([0.5, -0.4, 0.3, 0.2, 0.1, -0.05], 2);

function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < want.length; i++) num += (got[i] - want[i]) ** 2, den += want[i] ** 2;
  return Math.sqrt(num / den);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

Deno.test("linear map: jvp, jvpExact and vjp equal A v and A^T u", async () => {
  const f = linearMap(A, SHAPE);
  const h = tf.randomNormal(SHAPE, 0, 1, "float32", 1) as tf.Tensor3D;
  const v = tf.randomNormal(SHAPE, 0, 3, "float32", 2); // not unit: jvp rescales its step
  const vv = await v.data();
  assertLess(relErr(await jvp(f, h, v).data(), matVec(A, vv)), 1e-5);
  assertLess(relErr(await jvpExact(f, h, v).data(), matVec(A, vv)), 1e-6);
  assertLess(relErr(await vjp(f, h, v).data(), matVec(A, vv, true)), 1e-6);
  assertThrows(() => jvp(f, h, v, 0), RangeError, "eps must be > 0");
});

Deno.test("stopGradient: value kept, gradient cut, nothing behind it differentiated", async () => {
  const w = tf.variable(tf.scalar(3));
  const { value, grads } = tf.variableGrads(
    () => tf.mul(stopGradient(tf.square(w)), w) as tf.Scalar,
    [w],
  );
  assertEquals((await value.data())[0], 27);
  assertEquals((await grads[w.name].data())[0], 9); // w^2, not 3 w^2
  // With only the barrier on the path, the tape finds no connection to w.
  assertThrows(
    () => tf.variableGrads(() => tf.sum(stopGradient(tf.square(w))) as tf.Scalar, [w]),
    Error,
    "Cannot find a connection",
  );
  tf.dispose([w, value, grads[w.name]]);
});

Deno.test("looped block: products against the float64 Jacobian, and <J v, u> = <v, J^T u>", async () => {
  const fx = await perturbedBlock();
  const f = fx.model.loopMap(fx.e);
  const jac = jacobianF64((x) => stepF64(TINY_MODEL, fx.params64, x, TINY_B, TINY_T), fx.state64);
  const v = randomUnitVector(fx.state.shape, 3), u = randomUnitVector(fx.state.shape, 4);
  const vv = Float64Array.from(await v.data()), uu = Float64Array.from(await u.data());
  const jv = applyF64(jac, vv, false), jtu = applyF64(jac, uu, true);
  const fd = await jvp(f, fx.state, v).data();
  const exact = await jvpExact(f, fx.state, v).data();
  const back = await vjp(f, fx.state, u).data();
  assertLess(relErr(exact, jv), 1e-5);
  assertLess(relErr(back, jtu), 1e-5);
  // The central difference at eps 0.1 carries an O(eps^2) truncation error.
  const fdErr = relErr(fd, jv);
  assertLess(fdErr, 1e-2);
  assertLess(relErr(await jvp(f, fx.state, v, 0.05).data(), jv), fdErr / 2);
  // The adjoint identity, within float32 rounding.
  const lhs = dot(exact, uu), rhs = dot(vv, back);
  assertAlmostEquals(lhs, rhs, 1e-5 * Math.max(1, Math.abs(lhs)));
  fx.model.dispose();
});

Deno.test("jacobianMatrix: the exact Jacobian of the block, row-major, matches float64", async () => {
  const fx = await perturbedBlock(5);
  const got = await jacobianMatrix(fx.model.loopMap(fx.e), fx.state);
  const want = jacobianF64((x) => stepF64(TINY_MODEL, fx.params64, x, TINY_B, TINY_T), fx.state64);
  assertEquals(got.length, fx.state.size);
  assertLess(relErr(got.flat(), want.flatMap((r) => Array.from(r))), 1e-5);
  fx.model.dispose();
});

Deno.test("products leak no tensors", () => {
  const f = linearMap(A, SHAPE);
  const h = tf.randomNormal(SHAPE) as tf.Tensor3D, v = tf.randomNormal(SHAPE);
  const before = tf.memory().numTensors;
  tf.dispose([jvp(f, h, v), jvpExact(f, h, v), vjp(f, h, v)]);
  assertEquals(tf.memory().numTensors, before);
});
