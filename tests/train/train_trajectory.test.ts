/**
 * Default-option training trajectories, pinned: a few steps of small runs
 * (dropout, random loop counts, the penalty in both modes, clipping, weight
 * decay) give the losses and final weights recorded before the
 * reference-faithful options and `--init` were added (attention from tfjs
 * ops, as `setFusedAttention(false)` still runs it), and the ones recorded
 * with the fused attention kernel (the default). A change to any default
 * path shows here as a changed fingerprint.
 */
import { assertEquals } from "@std/assert";
import { nativeBlasStatus } from "../../backends/native/blas.ts";
import { attentionPath, setFusedAttention } from "../../ops/attention.ts";
import type { TrainConfig } from "../../train/config.ts";
import { train } from "../../train/trainer.ts";
import { BACKEND } from "../_backend.ts";

const RUNS: Record<string, Partial<TrainConfig>> = {
  jvp: {
    digits: 2,
    d_model: 16,
    n_heads: 2,
    d_ff: 32,
    dropout: 0.1,
    loop_sampler: "lognormal",
    loop_mu: 1,
    loop_sigma: 0.5,
    loop_max: 4,
    reg_weight: 0.1,
    reg_warmup: 2,
    batch_size: 8,
    steps: 5,
    warmup_steps: 2,
    eval_size: 10,
    eval_every: 0,
    checkpoint_every: 0,
  },
  vjp: {
    digits: 2,
    d_model: 16,
    n_heads: 2,
    d_ff: 32,
    dropout: 0.1,
    loops: 2,
    reg_weight: 0.2,
    reg_mode: "vjp",
    reg_iters: 2,
    reg_warmup: 1,
    norm_placement: "pre_norm",
    batch_size: 8,
    steps: 5,
    warmup_steps: 2,
    eval_size: 10,
    eval_every: 0,
    checkpoint_every: 0,
  },
};

async function fingerprint(config: Partial<TrainConfig>): Promise<string> {
  const losses: number[] = [];
  const result = await train(config, {
    onEvent: (e) => e.kind === "step" && losses.push(e.metrics.loss),
  });
  const bytes: number[] = [];
  for (const [name, p] of result.model.params) {
    bytes.push(...new TextEncoder().encode(name));
    bytes.push(...new Uint8Array((await p.data() as Float32Array).buffer));
  }
  result.model.dispose();
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(bytes)));
  const hex = Array.from(digest.slice(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${losses.map((l) => l.toPrecision(9)).join(",")} ${hex}`;
}

// Recorded with the code before the new options, per product path, with
// attention from tfjs ops (the path before the fused kernel, which
// setFusedAttention(false) keeps), and anew with the fused attention kernel.
const RECORDED: Record<string, Record<string, string>> = {
  "native reference": {
    jvp: "2.80394340,2.75027299,2.45051384,2.34226608,2.30492973 05578f6a28a64d89",
    vjp: "2.72555470,2.40983677,2.27683973,2.23788691,2.16170907 f9a17323aa580371",
  },
  "wasm reference": {
    jvp: "2.80394340,2.75027299,2.45051360,2.34226608,2.30492973 63c51e7c1c752fab",
    vjp: "2.72555470,2.40983677,2.27683997,2.23788714,2.16170883 4d4986181032e4cb",
  },
  "native fused": {
    jvp: "2.80394340,2.75027299,2.45051360,2.34226584,2.30492973 16305d4917fb4e25",
    vjp: "2.72555470,2.40983677,2.27683973,2.23788714,2.16170883 acf64f051912348e",
  },
  "wasm fused": {
    jvp: "2.80394340,2.75027299,2.45051384,2.34226584,2.30492997 b9e8046fd09fffbb",
    vjp: "2.72555470,2.40983677,2.27683973,2.23788691,2.16170883 fd6c7546828e8a93",
  },
};

for (const attention of ["fused", "reference"] as const) {
  for (const [name, config] of Object.entries(RUNS)) {
    Deno.test({
      name:
        `a default-option run (${name}, ${attention} attention) follows the recorded trajectory bit for bit`,
      ignore: BACKEND !== "wasm",
      fn: async () => {
        setFusedAttention(attention === "fused");
        try {
          const path = `${nativeBlasStatus().products} ${attentionPath()}`;
          const got = await fingerprint(config);
          if (Deno.env.get("STARS_RECORD")) console.log(`RECORD ${path} ${name} ${got}`);
          assertEquals(got, RECORDED[path][name]);
        } finally {
          setFusedAttention(true);
        }
      },
    });
  }
}
