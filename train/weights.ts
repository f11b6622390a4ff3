/**
 * Weights that move between the toolkit and PyTorch: a model's parameters
 * as one safetensors file, under the toolkit's own names and layouts or
 * under those of the STARS reference implementation's `LoopedTransformer`
 * (`state_dict` names, torch `Linear` weights stored `[out, in]`), and the
 * way back: a checkpoint folder or a safetensors file with either naming,
 * detected or given, checked against a model config before any tensor
 * exists.
 *
 * | toolkit | reference |
 * | --- | --- |
 * | `embed.tok` | `token_embedding.weight` = `lm_head.weight` (tied) |
 * | `embed.pos` | `position_embedding.weight` |
 * | `block.i.{attn_pre,attn_post,mlp_pre,mlp_post}.{gain,bias}` | `layers.i.{ln_1_pre,ln_1_post,ln_2_pre,ln_2_post}.{weight,bias}` |
 * | `block.i.attn.wqkv`, `bqkv` | `layers.i.attn.c_attn.weight` (transposed), `.bias` |
 * | `block.i.attn.wo`, `bo` | `layers.i.attn.c_proj.weight` (transposed), `.bias` |
 * | `block.i.mlp.w1`, `b1` / `w2`, `b2` | `layers.i.mlp.c_fc` / `layers.i.mlp.c_proj` |
 * | `final_norm.{gain,bias}` | `ln_f.{weight,bias}` |
 *
 * The reference has no prelude, coda or linear injection; their layers are
 * named `prelude.i.*`, `coda.i.*` and `inject.weight` in the same style.
 *
 * @module
 */
import { LoopedLM } from "../models/looped.ts";
import { type ModelConfig, modelConfigProblem } from "../models/config.ts";
import { paramsFromValues, paramSpecs } from "../models/params.ts";
import { hasCheckpoint, loadCheckpoint, readManifest } from "./checkpoint.ts";
import { CheckpointError } from "./checkpoint_error.ts";
import { ConfigError, resolveConfig, type TrainConfig } from "./config.ts";
import { modelConfigOf, taskOf } from "./data.ts";
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from "./safetensors.ts";

/** The parameter namings a weights file may use. */
export const NAMINGS = ["toolkit", "reference"] as const;
/** One of {@linkcode NAMINGS}. */
export type Naming = typeof NAMINGS[number];

/** Where one toolkit parameter goes under the reference naming. */
export interface ReferenceName {
  /** The reference names (two for the tied embedding, the first is the one read). */
  names: string[];
  /** Whether the tensor is stored transposed (torch `Linear`: `[out, in]`). */
  transpose: boolean;
}

const NORMS: Record<string, string> = {
  attn_pre: "ln_1_pre",
  attn_post: "ln_1_post",
  mlp_pre: "ln_2_pre",
  mlp_post: "ln_2_post",
};
const LINEARS: Record<string, [string, "weight" | "bias"]> = {
  "attn.wqkv": ["attn.c_attn", "weight"],
  "attn.bqkv": ["attn.c_attn", "bias"],
  "attn.wo": ["attn.c_proj", "weight"],
  "attn.bo": ["attn.c_proj", "bias"],
  "mlp.w1": ["mlp.c_fc", "weight"],
  "mlp.b1": ["mlp.c_fc", "bias"],
  "mlp.w2": ["mlp.c_proj", "weight"],
  "mlp.b2": ["mlp.c_proj", "bias"],
};
const NORM_PART: Record<string, string> = { gain: "weight", bias: "bias" };

/** The reference name(s) of a toolkit parameter name. */
export function referenceName(name: string): ReferenceName {
  if (name === "embed.tok") {
    return { names: ["token_embedding.weight", "lm_head.weight"], transpose: false };
  }
  if (name === "embed.pos") return { names: ["position_embedding.weight"], transpose: false };
  if (name === "inject.w") return { names: ["inject.weight"], transpose: true };
  const final = /^final_norm\.(gain|bias)$/.exec(name);
  if (final) return { names: [`ln_f.${NORM_PART[final[1]]}`], transpose: false };
  const layer = /^(block|prelude|coda)\.(\d+)\.(.+)$/.exec(name);
  if (layer) {
    const prefix = `${layer[1] === "block" ? "layers" : layer[1]}.${layer[2]}`;
    const rest = layer[3];
    const norm = /^(attn_pre|attn_post|mlp_pre|mlp_post)\.(gain|bias)$/.exec(rest);
    if (norm) {
      return { names: [`${prefix}.${NORMS[norm[1]]}.${NORM_PART[norm[2]]}`], transpose: false };
    }
    const linear = LINEARS[rest];
    if (linear) {
      return { names: [`${prefix}.${linear[0]}.${linear[1]}`], transpose: linear[1] === "weight" };
    }
  }
  throw new RangeError(`weights: no reference name for parameter "${name}"`);
}

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  }
  return out;
}

/** A named float32 tensor. */
export interface NamedTensor {
  /** Its name under the chosen naming. */
  name: string;
  /** Its shape under that naming's layout. */
  shape: number[];
  /** Row-major values. */
  data: Float32Array;
}

/**
 * The tensors of a model config's parameters under `naming`: toolkit names
 * as they are, or reference names with `Linear` weights transposed and the
 * tied embedding written under both of its names.
 */
export function namedTensors(
  config: ModelConfig,
  values: ReadonlyMap<string, Float32Array>,
  naming: Naming,
): NamedTensor[] {
  const out: NamedTensor[] = [];
  for (const [name, shape] of paramSpecs(config)) {
    const data = values.get(name);
    if (!data) throw new RangeError(`weights: no values for "${name}"`);
    if (naming === "toolkit") {
      out.push({ name, shape, data });
      continue;
    }
    const ref = referenceName(name);
    const stored = ref.transpose ? transpose2d(data, shape[0], shape[1]) : data;
    const storedShape = ref.transpose ? [shape[1], shape[0]] : shape;
    for (const n of ref.names) out.push({ name: n, shape: storedShape, data: stored });
  }
  return out;
}

/** The metadata keys a weights file written by {@linkcode encodeWeights} carries. */
export interface WeightsMetadata {
  /** Naming of the file's tensors. */
  stars_naming: Naming;
  /** The model config (JSON). */
  model_config: string;
  /** The run's training config (JSON), when known. */
  stars_config?: string;
  /** The step the weights were saved at, when known. */
  step?: string;
}

/** A safetensors file of a model's parameters under `naming`, self-describing in its metadata. */
export function encodeWeights(
  config: ModelConfig,
  values: ReadonlyMap<string, Float32Array>,
  naming: Naming,
  extra: { trainConfig?: Record<string, unknown>; step?: number } = {},
): Uint8Array {
  const meta: Record<string, string> = {
    format: "pt",
    stars_naming: naming,
    model_config: JSON.stringify(config),
  };
  if (extra.trainConfig) meta.stars_config = JSON.stringify(extra.trainConfig);
  if (extra.step !== undefined) meta.step = String(extra.step);
  return encodeSafetensors(namedTensors(config, values, naming), meta);
}

/** What {@linkcode exportWeights} wrote. */
export interface ExportResult {
  /** The file written. */
  out: string;
  /** The naming used. */
  naming: Naming;
  /** Tensors in the file. */
  tensors: number;
  /** Bytes written. */
  bytes: number;
  /** The checkpoint's step. */
  step: number;
}

async function modelValues(model: LoopedLM): Promise<Map<string, Float32Array>> {
  const values = new Map<string, Float32Array>();
  for (const [name, p] of model.params) values.set(name, await p.data() as Float32Array);
  return values;
}

/**
 * Writes the parameters of the checkpoint in `checkpoint` (a folder written
 * by `train`) to `out` as safetensors under `naming`. With `reference`, the
 * file loads into the reference implementation's `LoopedTransformer` with
 * `load_state_dict`.
 */
export async function exportWeights(
  checkpoint: string,
  naming: Naming,
  out: string,
): Promise<ExportResult> {
  if (!(NAMINGS as readonly string[]).includes(naming)) {
    throw new ConfigError(`--names must be one of ${NAMINGS.join(", ")}, got "${naming}"`);
  }
  if (!(await hasCheckpoint(checkpoint))) {
    throw new CheckpointError(
      checkpoint,
      "no checkpoint here (a folder written by deno task train)",
    );
  }
  const { model, optimizer, manifest } = await loadCheckpoint(checkpoint, { optimizer: false });
  optimizer.dispose();
  try {
    const values = await modelValues(model);
    const bytes = encodeWeights(model.config, values, naming, {
      trainConfig: manifest.config,
      step: manifest.step,
    });
    await Deno.writeFile(out, bytes);
    const tensors = namedTensors(model.config, values, naming).length;
    return { out, naming, tensors, bytes: bytes.length, step: manifest.step };
  } finally {
    model.dispose();
  }
}

/** Which naming a set of tensor names uses, or null when it fits neither. */
export function detectNaming(names: Iterable<string>): Naming | null {
  const all = [...names];
  if (all.includes("embed.tok")) return "toolkit";
  if (all.includes("token_embedding.weight") || all.includes("lm_head.weight")) {
    return "reference";
  }
  return null;
}

/** Options of {@linkcode openWeights}. */
export interface OpenWeightsOptions {
  /** The file's naming: `auto` (default) detects it. */
  names?: Naming | "auto";
  /**
   * The run's training config, for a file that carries none in its
   * metadata (a `state_dict` saved by other code); it also gives the model
   * config such a file lacks.
   */
  config?: TrainConfig;
}

/** Weights found and checked, ready to become a model. */
export interface OpenedWeights {
  /** The path given. */
  source: string;
  /** `checkpoint` (a folder) or `safetensors` (a file). */
  kind: "checkpoint" | "safetensors";
  /** The naming of a file (`toolkit` for a checkpoint). */
  naming: Naming;
  /** The training config the weights came with (or were given). */
  config: TrainConfig;
  /** The model config the weights fit. */
  model: ModelConfig;
  /** The step they were saved at (0 when unknown). */
  step: number;
  /** Makes the model (the caller disposes it). */
  load(): Promise<LoopedLM>;
}

function parseModelConfig(file: string, text: string): ModelConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(
      file,
      `__metadata__ "model_config" is not JSON (${(e as Error).message})`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CheckpointError(file, `__metadata__ "model_config" is not a JSON object`);
  }
  return value as ModelConfig;
}

function metadataConfig(file: string, text: string): TrainConfig {
  try {
    return resolveConfig(JSON.parse(text));
  } catch (e) {
    throw new CheckpointError(file, `__metadata__ "stars_config": ${(e as Error).message}`);
  }
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/**
 * The toolkit-named values of a file's tensors (named `naming`), checked
 * against `config`: every tensor present (the tied embedding under either
 * reference name, equal where both are given), none extra, each of the
 * right shape and finite. Errors name the file and the tensor.
 */
export function valuesFromTensors(
  file: string,
  tensors: ReadonlyMap<string, { dtype: string; shape: number[]; data: Float32Array }>,
  naming: Naming,
  config: ModelConfig,
): Map<string, Float32Array> {
  const used = new Set<string>();
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of paramSpecs(config)) {
    const ref = naming === "reference" ? referenceName(name) : { names: [name], transpose: false };
    const present = ref.names.filter((n) => tensors.has(n));
    if (!present.length) {
      throw new CheckpointError(
        file,
        `tensor "${ref.names[0]}" missing (the model config needs it, ${naming} naming)`,
      );
    }
    const want = ref.transpose ? [shape[1], shape[0]] : shape;
    let data: Float32Array | undefined;
    for (const n of present) {
      used.add(n);
      const t = tensors.get(n)!;
      if (t.shape.length !== want.length || t.shape.some((s, i) => s !== want[i])) {
        throw new CheckpointError(
          file,
          `tensor "${n}" has shape [${t.shape}], the model config needs [${want}]` +
            ` (d_model ${config.d_model}, d_ff ${config.d_ff}, vocab_size ${config.vocab_size},` +
            ` max_seq_len ${config.max_seq_len})`,
        );
      }
      const bad = t.data.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) {
        throw new CheckpointError(file, `tensor "${n}" has ${t.data[bad]} at index ${bad}`);
      }
      if (data && !sameBits(data, t.data)) {
        throw new CheckpointError(
          file,
          `tensors "${present[0]}" and "${n}" differ, but the head is tied to the embedding`,
        );
      }
      data ??= t.data;
    }
    out.set(name, ref.transpose ? transpose2d(data!, want[0], want[1]) : data!);
  }
  const extra = [...tensors.keys()].filter((n) => !used.has(n));
  if (extra.length) {
    throw new CheckpointError(
      file,
      `tensor "${extra[0]}"${
        extra.length > 1 ? ` (and ${extra.length - 1} more)` : ""
      } is not a parameter of the model config (${naming} naming)`,
    );
  }
  return out;
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new CheckpointError(path, "no such file or folder");
    }
    throw new CheckpointError(path, `cannot read (${(e as Error).message})`);
  }
}

/**
 * Opens weights to evaluate, analyse or train from: a checkpoint folder
 * (as `loadCheckpoint` reads it) or a safetensors file of a model's
 * parameters under either naming. A file's model and training config come
 * from its metadata (`model_config`, `stars_config`, as {@linkcode encodeWeights}
 * writes them) or from `options.config`. Everything is checked here, before
 * any tensor exists: a file whose names fit neither naming, a naming other
 * than the one given, missing or extra tensors, shapes that do not fit the
 * config, non-finite values. Each is a {@linkcode CheckpointError} (an
 * input error) naming the file and the tensor.
 */
export async function openWeights(
  path: string,
  options: OpenWeightsOptions = {},
): Promise<OpenedWeights> {
  const names = options.names ?? "auto";
  if (names !== "auto" && !(NAMINGS as readonly string[]).includes(names)) {
    throw new ConfigError(`--names must be auto, ${NAMINGS.join(" or ")}, got "${names}"`);
  }
  if (await hasCheckpoint(path)) {
    if (names === "reference") {
      throw new CheckpointError(path, "is a checkpoint folder: its names are the toolkit's");
    }
    const manifest = await readManifest(path);
    const config = (() => {
      try {
        return resolveConfig(manifest.config);
      } catch (e) {
        throw new CheckpointError(path, `the saved config: ${(e as Error).message}`);
      }
    })();
    return {
      source: path,
      kind: "checkpoint",
      naming: "toolkit",
      config,
      model: manifest.model,
      step: manifest.step,
      load: async () => {
        const { model, optimizer } = await loadCheckpoint(path, { optimizer: false });
        optimizer.dispose();
        return model;
      },
    };
  }
  try {
    if ((await Deno.stat(path)).isDirectory) {
      throw new CheckpointError(path, "is a folder without a checkpoint (no checkpoint.json)");
    }
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
  }
  const bytes = await readBytes(path);
  let contents;
  try {
    contents = decodeSafetensors(bytes, path);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError(e.file, e.problem, { cause: e });
    throw e;
  }
  const found = [...contents.tensors.keys()];
  const detected = detectNaming(found);
  if (!detected) {
    throw new CheckpointError(
      path,
      `tensor names fit neither the toolkit's naming (embed.tok, block.0.attn.wqkv, ...) nor ` +
        `the reference's (token_embedding.weight, layers.0.attn.c_attn.weight, ...): ` +
        `found ${found.slice(0, 3).map((n) => `"${n}"`).join(", ")}${
          found.length > 3 ? `, ... (${found.length})` : ""
        }`,
    );
  }
  if (names !== "auto" && names !== detected) {
    throw new CheckpointError(path, `--names ${names}, but the tensor names are the ${detected}'s`);
  }
  const meta = contents.metadata;
  const config = meta.stars_config !== undefined
    ? metadataConfig(path, meta.stars_config)
    : options.config;
  if (!config) {
    throw new CheckpointError(
      path,
      `has no "stars_config" in its __metadata__ (not written by deno task export): ` +
        "give the run's config with --config FILE.json",
    );
  }
  let model: ModelConfig;
  if (meta.model_config !== undefined) model = parseModelConfig(path, meta.model_config);
  else {
    try {
      model = modelConfigOf(config, taskOf(config));
    } catch (e) {
      throw new ConfigError(`config: ${(e as Error).message}`);
    }
  }
  const bad = modelConfigProblem(model as unknown as Record<string, unknown>);
  if (bad) throw new CheckpointError(path, `model_config: "${bad.key}" ${bad.problem}`);
  const values = valuesFromTensors(path, contents.tensors, detected, model);
  const step = Number(meta.step ?? 0);
  return {
    source: path,
    kind: "safetensors",
    naming: detected,
    config,
    model,
    step: Number.isSafeInteger(step) && step >= 0 ? step : 0,
    load: () => Promise.resolve(new LoopedLM(model, 0, paramsFromValues(model, values))),
  };
}

/** The model-config keys two sets of weights must share to be the same function's. */
export const SHAPE_KEYS: readonly (keyof ModelConfig)[] = [
  "vocab_size",
  "max_seq_len",
  "d_model",
  "n_heads",
  "d_ff",
  "n_layers",
  "prelude_layers",
  "coda_layers",
  "norm_placement",
  "norm_type",
  "injection",
  "init_state",
];

/**
 * The keys on which a model config `wanted` (a run's) and the config of
 * weights `found` differ, among {@linkcode SHAPE_KEYS}; empty when the
 * weights can start that run.
 */
export function modelMismatch(wanted: ModelConfig, found: ModelConfig): string[] {
  return SHAPE_KEYS.filter((k) => wanted[k] !== found[k]).map((k) =>
    `${k} ${JSON.stringify(wanted[k])} (the weights have ${JSON.stringify(found[k])})`
  );
}
