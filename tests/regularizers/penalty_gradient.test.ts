/**
 * The penalties' parameter gradients on a real looped block (LayerNorm,
 * causal softmax attention, erf GELU), perturbed so attention is far from
 * uniform, against a float64 reference, on wasm and cpu; and the regression
 * guard: a naive double reverse mode through tfjs's softmax is wrong there.
 */
import * as tf from "@tensorflow/tfjs";
import { assertGreater, assertLess } from "@std/assert";
import { type BackendName, useBackend } from "../../backends/select.ts";
import { mixSeed } from "../../utils/rng.ts";
import {
  hutchinsonPenalty,
  jacobianPenalty,
  type PenaltyCompute,
} from "../../regularizers/jacobian_penalty.ts";
import { jvpExact } from "../../regularizers/jacobian_products.ts";
import { gaussianProbe, randomUnitVector } from "../../regularizers/probes.ts";
import {
  hutchinsonF64,
  paramGradientF64,
  type ParamsF64,
  penaltyF64,
  stepF64,
} from "../reference/looped_block_f64.ts";
import {
  type PerturbedBlock,
  perturbedBlock,
  TINY_B,
  TINY_MODEL,
  TINY_T,
} from "../reference/perturbed_block.ts";

const HOME = (Deno.env.get("STARS_BACKEND") ?? "wasm") as BackendName;
await useBackend(HOME);

const SEED = 11; // the penalty's seed: its start vector / probes
const ENTRIES = 24; // entries checked per parameter tensor (all if fewer)

type Reference = (p: ParamsF64, h: Float64Array) => number;

interface Kind {
  name: string;
  compute: (eps: number) => PenaltyCompute;
  reference: () => Promise<Reference>;
}

const map64 = (p: ParamsF64) => (x: Float64Array) => stepF64(TINY_MODEL, p, x, TINY_B, TINY_T);
const shape = [TINY_B, TINY_T, TINY_MODEL.d_model];
const startVector = async () => Float64Array.from(await randomUnitVector(shape, SEED).data());

const KINDS: Kind[] = [
  {
    name: "spectral jvp K=2",
    compute: (eps) => jacobianPenalty({ iters: 2, mode: "jvp", eps }),
    reference: async () => {
      const v0 = await startVector();
      return (p, h) => penaltyF64(map64(p), h, v0, 2, "jvp");
    },
  },
  {
    name: "spectral vjp K=2",
    compute: (eps) => jacobianPenalty({ iters: 2, mode: "vjp", eps }),
    reference: async () => {
      const v0 = await startVector();
      return (p, h) => penaltyF64(map64(p), h, v0, 2, "vjp");
    },
  },
  {
    name: "hutchinson S=2",
    compute: (eps) => hutchinsonPenalty({ samples: 2, eps }),
    reference: async () => {
      const probes: Float64Array[] = [];
      for (let s = 0; s < 2; s++) {
        probes.push(Float64Array.from(await gaussianProbe(shape, mixSeed(SEED, s)).data()));
      }
      return (p, h) => hutchinsonF64(map64(p), h, probes);
    },
  },
];

/** Entries checked for a tensor of n entries: all, or ENTRIES spread evenly. */
function entries(n: number): number[] {
  return n <= ENTRIES
    ? [...Array(n).keys()]
    : Array.from({ length: ENTRIES }, (_, i) => Math.floor((i * n) / ENTRIES));
}

/** The float64 gradient of every block parameter (checked entries), per kind. */
const referenceCache = new Map<string, Map<string, number[]>>();
async function referenceGradient(kind: Kind, fx: PerturbedBlock): Promise<Map<string, number[]>> {
  const cached = referenceCache.get(kind.name);
  if (cached) return cached;
  const value = await kind.reference();
  const out = new Map<string, number[]>();
  for (const [name, w] of fx.params64) {
    if (!name.startsWith("block.")) continue;
    out.set(
      name,
      paramGradientF64(fx.params64, name, entries(w.length), (p) => value(p, fx.state64)),
    );
  }
  referenceCache.set(kind.name, out);
  return out;
}

/** The penalty's gradient, by tf.variableGrads as the trainer takes it. */
async function tfjsGradient(
  compute: PenaltyCompute,
  fx: PerturbedBlock,
): Promise<Map<string, Float32Array>> {
  const vars = [...fx.model.params.values()];
  const { value, grads } = tf.variableGrads(
    () => compute(fx.model, fx.e, fx.state, SEED).value,
    vars,
  );
  const out = new Map<string, Float32Array>();
  for (const [name, v] of fx.model.params) {
    if (grads[v.name]) out.set(name, (await grads[v.name].data()) as Float32Array);
  }
  tf.dispose([value, grads]);
  return out;
}

/** Relative error of the checked entries, per tensor (absolute, scaled, where the true gradient is ~0). */
function errors(
  got: Map<string, ArrayLike<number>>,
  want: Map<string, number[]>,
): Map<string, number> {
  let total = 0;
  for (const w of want.values()) total += w.reduce((s, x) => s + x * x, 0);
  const scale = Math.sqrt(total);
  const out = new Map<string, number>();
  for (const [name, w] of want) {
    const g = got.get(name) ?? new Float32Array(fxSize(name));
    const idx = entries(fxSize(name));
    let num = 0, den = 0;
    idx.forEach((ix, j) => {
      num += (g[ix] - w[j]) ** 2;
      den += w[j] ** 2;
    });
    out.set(name, Math.sqrt(den) > 1e-6 * scale ? Math.sqrt(num / den) : Math.sqrt(num) / scale);
  }
  return out;
}

let sizes = new Map<string, number>();
const fxSize = (name: string) => sizes.get(name)!;

function richardson(
  a: Map<string, Float32Array>,
  b: Map<string, Float32Array>,
): Map<string, number[]> {
  // g(eps) = g + c eps^2 + O(eps^4): (4 g(eps/2) - g(eps)) / 3 cancels c.
  const out = new Map<string, number[]>();
  for (const [name, x] of a) {
    out.set(
      name,
      Array.from(x, (xi, i) => (4 * b.get(name)![i] - xi) / 3),
    );
  }
  return out;
}

for (const backend of ["wasm", "cpu"] as const) {
  Deno.test(`penalty gradients per parameter tensor vs float64, perturbed block, ${backend}`, async () => {
    await useBackend(backend);
    const fx = await perturbedBlock(7);
    sizes = new Map([...fx.params64].map(([k, v]) => [k, v.length]));
    const lines: string[] = [];
    try {
      for (const kind of KINDS) {
        const want = await referenceGradient(kind, fx);
        const g1 = await tfjsGradient(kind.compute(0.1), fx);
        const g2 = await tfjsGradient(kind.compute(0.05), fx);
        const e1 = errors(g1, want), eR = errors(richardson(g1, g2), want);
        for (const [name, err] of e1) {
          lines.push(
            `${backend} ${kind.name} ${name}: ${err.toExponential(2)} (extrapolated ${
              eR.get(name)!.toExponential(2)
            })`,
          );
          // The default step (eps 0.1): O(eps^2) truncation, below 1e-2.
          assertLess(err, 1e-2, `${kind.name} ${name}`);
          // Its truncation cancelled: what is left is the formulation's error.
          assertLess(eR.get(name)!, 1e-4, `${kind.name} ${name} extrapolated`);
        }
      }
    } finally {
      if (Deno.env.get("STARS_VERBOSE")) console.log(lines.join("\n"));
      fx.model.dispose();
      await useBackend(HOME);
    }
  });
}

Deno.test("regression guard: naive double reverse mode through tfjs softmax gives a wrong gradient", async () => {
  const naive: PenaltyCompute = (model, e, state, seed) => {
    const u = jvpExact(model.loopMap(e), state, randomUnitVector(state.shape, seed));
    const value = tf.sum(tf.square(u)) as tf.Scalar;
    return { value, logs: {} };
  };
  const oneStep: Kind = {
    name: "spectral jvp K=1",
    compute: () => jacobianPenalty({ iters: 1, mode: "jvp" }),
    reference: async () => {
      const v0 = await startVector();
      return (p, h) => penaltyF64(map64(p), h, v0, 1, "jvp");
    },
  };
  for (const perturbed of [true, false]) {
    const fx = await perturbedBlock(7, perturbed);
    sizes = new Map([...fx.params64].map(([k, v]) => [k, v.length]));
    referenceCache.delete(oneStep.name);
    const want = await referenceGradient(oneStep, fx);
    const bad = errors(await tfjsGradient(naive, fx), want);
    const good = errors(await tfjsGradient(oneStep.compute(0.1), fx), want);
    if (Deno.env.get("STARS_VERBOSE")) {
      console.log(`perturbed ${perturbed}: naive ${JSON.stringify(Object.fromEntries(bad))}`);
    }
    if (perturbed) {
      // Upstream of the softmax: wrong by far more than the tolerance.
      assertGreater(bad.get("block.0.attn.wqkv")!, 0.05);
      assertGreater(bad.get("block.0.attn_pre.gain")!, 0.05);
      // Downstream of it: right (the per-op fact of docs/design.md, section 2).
      assertLess(bad.get("block.0.mlp.w1")!, 1e-4);
      assertLess(good.get("block.0.attn.wqkv")!, 1e-2);
    } else {
      // At initialisation attention is near-uniform and the bug hides.
      assertLess(bad.get("block.0.attn.wqkv")!, 1e-2);
    }
    referenceCache.delete(oneStep.name);
    fx.model.dispose();
  }
});
