import * as tf from "@tensorflow/tfjs";
import { assert, assertAlmostEquals, assertEquals, assertLess } from "@std/assert";
import { type BackendName, useBackend } from "../../backends/select.ts";
import {
  eigenvalues,
  jacobianMatrix,
  spectralRadiusOf,
} from "../../regularizers/exact_jacobian.ts";
import { estimateSpectralRadius } from "../../regularizers/spectral_radius.ts";
import {
  complexPairMatrix,
  linearMap,
  type Mat,
  nonNormalMatrix,
  symmetricMatrix,
} from "../reference/linear_maps.ts";
import { perturbedBlock } from "../reference/perturbed_block.ts";

await useBackend((Deno.env.get("STARS_BACKEND") ?? "wasm") as BackendName);

const SHAPE: [number, number, number] = [2, 2, 3]; // D = 12

const CASES: { name: string; a: Mat; rho: number; power: boolean }[] = [
  {
    name: "symmetric",
    a: symmetricMatrix([-0.9, 0.7, 0.5, 0.4, -0.3, 0.2, 0.1, 0.05, -0.05, 0.02, 0.01, 0]),
    rho: 0.9,
    power: true,
  },
  {
    // Spectral norm about 10, spectral radius 0.6.
    name: "non-normal",
    a: nonNormalMatrix([0.6, 0.3, -0.25, 0.2, 0.15, 0.1, -0.1, 0.05, 0.05, 0.02, 0.01, 0], 1.5),
    rho: 0.6,
    power: true,
  },
  {
    name: "complex pair",
    a: complexPairMatrix(0.9, 1.1, [0.6, -0.5, 0.4, 0.3, 0.2, -0.1, 0.1, 0.05, 0.02, 0]),
    rho: 0.9,
    power: false,
  },
  {
    name: "non-normal complex pair",
    a: complexPairMatrix(0.9, 1.1, [0.6, -0.5, 0.4, 0.3, 0.2, -0.1, 0.1, 0.05, 0.02, 0], 3),
    rho: 0.9,
    power: false,
  },
];

Deno.test("eigenvalues (ml-matrix) of the test matrices are the constructed ones", () => {
  const [sym, nn, cp, skew] = CASES.map((c) => eigenvalues(c.a));
  assertAlmostEquals(sym[0].re, -0.9, 1e-12);
  assertAlmostEquals(nn[0].re, 0.6, 1e-12);
  assertAlmostEquals(Math.abs(cp[0].im), 0.9 * Math.sin(1.1), 1e-12);
  assertAlmostEquals(cp[0].re, 0.9 * Math.cos(1.1), 1e-12);
  assertAlmostEquals(cp[0].im, -cp[1].im, 1e-12);
  assertAlmostEquals(skew[0].re, cp[0].re, 1e-12);
  for (const c of CASES) assertAlmostEquals(spectralRadiusOf(c.a), c.rho, 1e-12);
});

for (const c of CASES) {
  Deno.test(`estimateSpectralRadius on a ${c.name} linear map`, async () => {
    const f = linearMap(c.a, SHAPE);
    const h = tf.zeros(SHAPE) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    for (const mode of ["vjp", "jvp"] as const) {
      const est = await estimateSpectralRadius(f, h, { mode, seed: 3 });
      assertEquals(est.method, c.power ? "power" : "ritz", JSON.stringify(est));
      assert(est.converged, JSON.stringify(est));
      assertAlmostEquals(est.rho, c.rho, 1e-3 * c.rho, JSON.stringify(est));
      // After the full power budget, the growth rate is near rho too.
      if (!c.power) assertAlmostEquals(est.growthRate, c.rho, 0.02 * c.rho);
    }
    assertEquals(tf.memory().numTensors, before);
  });
}

Deno.test("estimateSpectralRadius: a too-small budget is reported as not converged", async () => {
  const f = linearMap(CASES[2].a, SHAPE);
  const est = await estimateSpectralRadius(f, tf.zeros(SHAPE) as tf.Tensor3D, {
    maxIters: 3,
    krylovDim: 2,
  });
  assertEquals(est.method, "ritz");
  assertEquals(est.converged, false);
  assertEquals(est.iterations, 5);
});

Deno.test("estimateSpectralRadius on the looped block matches the exact Jacobian's eigenvalues", async () => {
  // Seed 7: a real dominant eigenvalue; seed 2: a dominant complex pair.
  for (const [seed, method] of [[7, "power"], [2, "ritz"]] as const) {
    const fx = await perturbedBlock(seed);
    const f = fx.model.loopMap(fx.e);
    const ev = eigenvalues(await jacobianMatrix(f, fx.state));
    assertEquals(Math.abs(ev[0].im) > 0.1, method === "ritz");
    const exact = Math.hypot(ev[0].re, ev[0].im);
    const est = await estimateSpectralRadius(f, fx.state, { seed: 1 });
    const msg = `${JSON.stringify(est)} exact ${exact}`;
    assertEquals(est.method, method, msg);
    assert(est.converged, msg);
    assertLess(Math.abs(est.rho - exact) / exact, 1e-3, msg);
    fx.model.dispose();
  }
});
