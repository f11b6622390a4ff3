/**
 * The model's parameters: a flat, ordered map from dotted names to tfjs
 * variables, initialised from a seed (N(0, init_std) weights, zero biases,
 * unit gains), so checkpoints are a list of (name, shape, values).
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../utils/rng.ts";
import type { ModelConfig } from "./config.ts";
import { placementNorms } from "./norm.ts";

/** Named parameter tensors of a model, in a fixed order. */
export type Params = Map<string, tf.Variable>;

/** How one parameter is initialised: normal(0, init_std), zeros or ones. */
export type Init = "normal" | "zeros" | "ones";

/** Name, shape and initialiser of every parameter of a config, in order. */
export function paramSpecs(c: ModelConfig): [string, number[], Init][] {
  const d = c.d_model;
  const specs: [string, number[], Init][] = [
    ["embed.tok", [c.vocab_size, d], "normal"],
    ["embed.pos", [c.max_seq_len, d], "normal"],
  ];
  const normSpecs = (name: string) => {
    specs.push([`${name}.gain`, [d], "ones"]);
    if (c.norm_type === "layernorm") specs.push([`${name}.bias`, [d], "zeros"]);
  };
  const layer = (prefix: string) => {
    const { pre, post } = placementNorms(c.norm_placement);
    for (const branch of ["attn", "mlp"]) {
      if (pre) normSpecs(`${prefix}.${branch}_pre`);
      if (post) normSpecs(`${prefix}.${branch}_post`);
    }
    specs.push(
      [`${prefix}.attn.wqkv`, [d, 3 * d], "normal"],
      [`${prefix}.attn.bqkv`, [3 * d], "zeros"],
      [`${prefix}.attn.wo`, [d, d], "normal"],
      [`${prefix}.attn.bo`, [d], "zeros"],
      [`${prefix}.mlp.w1`, [d, c.d_ff], "normal"],
      [`${prefix}.mlp.b1`, [c.d_ff], "zeros"],
      [`${prefix}.mlp.w2`, [c.d_ff, d], "normal"],
      [`${prefix}.mlp.b2`, [d], "zeros"],
    );
  };
  for (let i = 0; i < c.prelude_layers; i++) layer(`prelude.${i}`);
  if (c.injection === "linear") specs.push(["inject.w", [2 * d, d], "normal"]);
  for (let i = 0; i < c.n_layers; i++) layer(`block.${i}`);
  for (let i = 0; i < c.coda_layers; i++) layer(`coda.${i}`);
  normSpecs("final_norm");
  return specs;
}

/** Creates freshly initialised parameters for a config from a seed. */
export function initParams(c: ModelConfig, seed: number): Params {
  const rng = new Rng(seed);
  const params: Params = new Map();
  for (const [name, shape, init] of paramSpecs(c)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (init === "ones") values.fill(1);
    if (init === "normal") {
      for (let i = 0; i < size; i++) values[i] = rng.normal() * c.init_std;
    }
    // tidy frees the initial tensor; the variable keeps its own reference.
    params.set(name, tf.tidy(() => tf.variable(tf.tensor(values, shape), true)));
  }
  return params;
}

/**
 * Parameters of a config holding the given values (a checkpoint's, checked
 * to be complete and of the right sizes), in the config's order.
 */
export function paramsFromValues(
  c: ModelConfig,
  values: ReadonlyMap<string, Float32Array>,
): Params {
  const params: Params = new Map();
  for (const [name, shape] of paramSpecs(c)) {
    const data = values.get(name);
    if (!data) throw new RangeError(`params: no values for "${name}"`);
    params.set(name, tf.tidy(() => tf.variable(tf.tensor(data, shape), true)));
  }
  return params;
}

/** Total number of scalar parameters. */
export function countParams(params: Params): number {
  let n = 0;
  for (const v of params.values()) n += v.size;
  return n;
}
