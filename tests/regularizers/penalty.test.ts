import * as tf from "@tensorflow/tfjs";
import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertGreater,
  assertLess,
  assertThrows,
} from "@std/assert";
import { type BackendName, useBackend } from "../../backends/select.ts";
import { mixSeed } from "../../utils/rng.ts";
import { ConfigError } from "../../utils/config_keys.ts";
import { hutchinsonFrobenius } from "../../regularizers/hutchinson.ts";
import { hutchinsonPenalty, jacobianPenalty } from "../../regularizers/jacobian_penalty.ts";
import {
  DEFAULT_PENALTY_OPTIONS,
  penaltyFromOptions,
  type PenaltyOptions,
  validatePenaltyOptions,
} from "../../regularizers/penalty_options.ts";
import { powerIterationPenalty } from "../../regularizers/power_penalty.ts";
import { probe, randomUnitVector } from "../../regularizers/probes.ts";
import { powerPenaltyF64 } from "../reference/looped_block_f64.ts";
import {
  complexPairMatrix,
  frobenius2,
  linearMap,
  type Mat,
  matVec,
  nonNormalMatrix,
  symmetricMatrix,
} from "../reference/linear_maps.ts";
import { perturbedBlock } from "../reference/perturbed_block.ts";

await useBackend((Deno.env.get("STARS_BACKEND") ?? "wasm") as BackendName);

const SHAPE: [number, number, number] = [2, 2, 3]; // D = 12
const D = 12;
const SEED = 5;

const CASES: { name: string; a: Mat; rho: number }[] = [
  {
    name: "symmetric",
    a: symmetricMatrix([-0.9, 0.7, 0.5, 0.4, -0.3, 0.2, 0.1, 0.05, -0.05, 0.02, 0.01, 0]),
    rho: 0.9,
  },
  {
    name: "non-normal",
    a: nonNormalMatrix([0.6, 0.3, -0.25, 0.2, 0.15, 0.1, -0.1, 0.05, 0.05, 0.02, 0.01, 0], 1.5),
    rho: 0.6,
  },
  {
    name: "complex pair",
    a: complexPairMatrix(0.9, 1.1, [0.6, -0.5, 0.4, 0.3, 0.2, -0.1, 0.1, 0.05, 0.02, 0]),
    rho: 0.9,
  },
];

async function num(t: tf.Tensor): Promise<number> {
  return (await t.data())[0];
}

function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let a = 0, b = 0;
  for (let i = 0; i < want.length; i++) a += (got[i] - want[i]) ** 2, b += want[i] ** 2;
  return Math.sqrt(a / b);
}

const h0 = () => tf.zeros(SHAPE) as tf.Tensor3D;

Deno.test("K = 1: R equals ||A v||^2 (jvp) and ||A^T v||^2 (vjp) for the same seeded unit v", async () => {
  const v = Array.from(await randomUnitVector(SHAPE, SEED).data());
  assertAlmostEquals(v.reduce((s, x) => s + x * x, 0), 1, 1e-6);
  for (const c of CASES) {
    const f = linearMap(c.a, SHAPE);
    for (const mode of ["jvp", "vjp"] as const) {
      const want = matVec(c.a, v, mode === "vjp").reduce((s, x) => s + x * x, 0);
      const { value, rho } = powerIterationPenalty(f, h0(), { iters: 1, mode, seed: SEED });
      assertAlmostEquals(await num(value), want, 1e-5 * want, `${c.name} ${mode}`);
      assertAlmostEquals(await num(rho), Math.sqrt(want), 1e-5);
    }
  }
});

Deno.test("R tends to rho^2 as K grows (symmetric, non-normal, complex pair)", async () => {
  for (const c of CASES) {
    const f = linearMap(c.a, SHAPE);
    const gap = async (iters: number) =>
      Math.abs(
        await num(powerIterationPenalty(f, h0(), { iters, mode: "jvp", seed: SEED }).value) -
          c.rho ** 2,
      );
    const [g1, g5, g60] = [await gap(1), await gap(5), await gap(60)];
    // A non-normal map may first move away (transient growth of ||A^k v||).
    if (c.name !== "non-normal") assertLess(g5, g1, c.name);
    assertLess(g60, g5, c.name);
    assertLess(g60, 1e-3 * c.rho ** 2, c.name);
  }
  // The non-normal map: K = 1 sees the spectral norm's pull, far above rho^2.
  const nn = linearMap(CASES[1].a, SHAPE);
  assertGreater(await num(powerIterationPenalty(nn, h0(), { iters: 1, seed: SEED }).value), 2);
});

Deno.test("parameter gradient of the K-step penalty on a linear map matches float64 (both modes)", async () => {
  const a = CASES[1].a;
  const w = tf.variable(tf.tensor2d(a));
  const v0 = Float64Array.from(await randomUnitVector(SHAPE, SEED).data());
  for (const mode of ["jvp", "vjp"] as const) {
    for (const iters of [1, 3]) {
      const { grads } = tf.variableGrads(
        () => powerIterationPenalty(linearMap(w, SHAPE), h0(), { iters, mode, seed: SEED }).value,
        [w],
      );
      const got = await grads[w.name].data();
      const jac = a.map((r) => Float64Array.from(r));
      const want: number[] = [];
      const delta = 1e-6;
      for (let i = 0; i < D; i++) {
        for (let j = 0; j < D; j++) {
          const keep = jac[i][j];
          jac[i][j] = keep + delta;
          const up = powerPenaltyF64(jac, v0, iters, mode);
          jac[i][j] = keep - delta;
          const down = powerPenaltyF64(jac, v0, iters, mode);
          jac[i][j] = keep;
          want.push((up - down) / (2 * delta));
        }
      }
      assertLess(relErr(got, want), 1e-4, `${mode} K=${iters}`);
      grads[w.name].dispose();
    }
  }
  w.dispose();
});

Deno.test("Hutchinson: R = mean ||A z||^2 / D for its probes, and its mean is ||A||_F^2 / D", async () => {
  const a = CASES[0].a;
  const f = linearMap(a, SHAPE);
  // Exact for the probes it draws.
  for (const kind of ["gaussian", "rademacher"] as const) {
    let want = 0;
    for (let s = 0; s < 3; s++) {
      const z = await probe(kind, SHAPE, mixSeed(SEED, s)).data();
      if (kind === "rademacher") assert(Array.from(z).every((x) => x === 1 || x === -1));
      want += matVec(a, z).reduce((t, x) => t + x * x, 0);
    }
    want /= 3 * D;
    const got = await num(hutchinsonFrobenius(f, h0(), { samples: 3, probe: kind, seed: SEED }));
    assertAlmostEquals(got, want, 1e-5 * want, kind);
  }
  // Unbiased: over many probes, within 4 standard errors of ||A||_F^2 / D.
  const ata = a.map((_, i) => a.map((_, j) => a.reduce((s, row) => s + row[i] * row[j], 0)));
  const target = frobenius2(a) / D;
  const samples = 2000;
  const variance = {
    gaussian: 2 * frobenius2(ata),
    rademacher: 2 * (frobenius2(ata) - ata.reduce((s, row, i) => s + row[i] ** 2, 0)),
  };
  for (const kind of ["gaussian", "rademacher"] as const) {
    const got = await num(hutchinsonFrobenius(f, h0(), { samples, probe: kind, seed: 9 }));
    const se = Math.sqrt(variance[kind] / samples) / D;
    assertLess(Math.abs(got - target), 4 * se, `${kind}: ${got} vs ${target} (se ${se})`);
  }
});

Deno.test("trainer hook: value and logs, state a constant, no leaked tensors", async () => {
  const fx = await perturbedBlock(3);
  const vars = [...fx.model.params.values()];
  for (
    const compute of [
      jacobianPenalty({ iters: 2, mode: "jvp" }),
      jacobianPenalty({ iters: 2, mode: "vjp" }),
    ]
  ) {
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => {
      const logs: Record<string, tf.Scalar> = {};
      const { value, grads } = tf.variableGrads(() => {
        const pen = compute(fx.model, fx.e, fx.state, 17);
        for (const [k, v] of Object.entries(pen.logs)) logs[k] = tf.keep(v);
        return pen.value;
      }, vars);
      // Only the looped block's parameters are reached (injection none).
      const reached = [...fx.model.params].filter(([, v]) => grads[v.name]).map(([k]) => k);
      return { value, logs, reached };
    });
    const [value, reg, rho] = [
      await num(out.value),
      await num(out.logs.reg),
      await num(out.logs.rho),
    ];
    assertAlmostEquals(reg, value, 1e-6 * value);
    assertAlmostEquals(rho, Math.sqrt(value), 1e-6 * rho);
    assert(out.reached.every((k) => k.startsWith("block.")), out.reached.join());
    assert(!out.reached.includes("embed.tok"));
    tf.dispose([out.value, out.logs]);
    assertEquals(tf.memory().numTensors, before);
  }
  const hut = tf.tidy(() => hutchinsonPenalty({ samples: 2 })(fx.model, fx.e, fx.state, 1));
  assertAlmostEquals(await num(hut.logs.jac_rms), Math.sqrt(await num(hut.value)), 1e-5);
  fx.model.dispose();
});

Deno.test("the penalty is seeded: same seed same value, other seed other value", async () => {
  const fx = await perturbedBlock(3);
  const compute = jacobianPenalty({ iters: 1, mode: "jvp" });
  const r = async (seed: number) => await num(compute(fx.model, fx.e, fx.state, seed).value);
  assertEquals(await r(1), await r(1));
  assert((await r(1)) !== (await r(2)));
  fx.model.dispose();
});

Deno.test("validatePenaltyOptions names the offending key", () => {
  validatePenaltyOptions(DEFAULT_PENALTY_OPTIONS);
  validatePenaltyOptions({});
  const bad: [Partial<PenaltyOptions>, string][] = [
    [{ reg_iters: 0 }, '"reg_iters" must be an integer >= 1'],
    [{ reg_iters: 1.5 }, '"reg_iters" must be an integer >= 1'],
    [{ reg_mode: "fwd" as "jvp" }, '"reg_mode" must be one of jvp, vjp'],
    [{ reg_weight: -0.1 }, '"reg_weight" must be a number >= 0'],
    [{ reg_weight: 1.5 }, '"reg_weight" must be a number >= 0 and <= 1'],
    [{ reg_weight: NaN }, '"reg_weight" must be a number >= 0'],
    [{ reg_warmup: -1 }, '"reg_warmup" must be an integer >= 0'],
    [{ reg_kind: "frobenius" as "spectral" }, '"reg_kind" must be one of spectral, hutchinson'],
    [{ reg_eps: 0 }, '"reg_eps" must be a number > 0'],
    [{ reg_samples: 0 }, '"reg_samples" must be an integer >= 1'],
    [{ reg_probe: "uniform" as "gaussian" }, '"reg_probe" must be one of gaussian, rademacher'],
  ];
  for (const [options, message] of bad) {
    assertThrows(() => validatePenaltyOptions(options), ConfigError, message);
  }
  assertThrows(
    () => penaltyFromOptions({ ...DEFAULT_PENALTY_OPTIONS, reg_iters: 0 }),
    ConfigError,
    "reg_iters",
  );
  assertThrows(() => powerIterationPenalty((x) => x, h0(), { iters: 0 }), RangeError, "iters");
});

Deno.test("penaltyFromOptions selects the kind", async () => {
  const fx = await perturbedBlock(3);
  const spectral = penaltyFromOptions({ ...DEFAULT_PENALTY_OPTIONS, reg_iters: 2 })(
    fx.model,
    fx.e,
    fx.state,
    4,
  );
  const direct = jacobianPenalty({ iters: 2, mode: "jvp" })(fx.model, fx.e, fx.state, 4);
  assertEquals(await num(spectral.value), await num(direct.value));
  const hut = penaltyFromOptions({
    ...DEFAULT_PENALTY_OPTIONS,
    reg_kind: "hutchinson",
    reg_samples: 3,
  })(
    fx.model,
    fx.e,
    fx.state,
    4,
  );
  assertEquals(Object.keys(hut.logs).sort(), ["jac_rms", "reg"]);
  fx.model.dispose();
});
