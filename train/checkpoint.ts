/**
 * Checkpoints: a folder holding `model.safetensors` (the parameters, by
 * name, with the model config in its `__metadata__`), `optimizer.safetensors`
 * (AdamW's moments, `exp_avg.<name>` and `exp_avg_sq.<name>` as PyTorch
 * calls them) and `checkpoint.json` (see `checkpoint_manifest.ts`), which
 * names both files with their SHA-256.
 *
 * Saving writes every file to a temporary name first, then renames the
 * tensor files and, last, the manifest into place. A process killed in the
 * middle leaves either the old manifest with its files, or the new manifest
 * complete under its temporary name with the new files: readers then use
 * the complete one (the hashes say which files belong to which manifest),
 * and the next trainer finishes the renames ({@linkcode recoverInterruptedSave}).
 *
 * Loading checks everything before any tensor exists: the manifest's fields,
 * the safetensors structure, that the tensors are exactly the config's with
 * the right dtype and shape, that every value is finite, and the hashes.
 * Any problem is a {@linkcode CheckpointError} naming the file. Checkpoints
 * of the old format (`weights-<step>.bin`) still load.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { nativeBlasStatus } from "../backends/native/blas.ts";
import { attentionPath } from "../ops/attention.ts";
import { wasmKernelThreads } from "../backends/wasm/threads.ts";
import { NUMERICS_REVISION } from "../utils/numerics.ts";
import { LoopedLM } from "../models/looped.ts";
import type { ModelConfig } from "../models/config.ts";
import { paramsFromValues, paramSpecs } from "../models/params.ts";
import { AdamW } from "./adamw.ts";
import { TEMP_MARK, tempPath, writeSynced } from "./atomic_file.ts";
import { CheckpointError } from "./checkpoint_error.ts";
import { readLegacyValues } from "./checkpoint_legacy.ts";
import {
  CHECKPOINT_VERSION,
  type CheckpointManifest,
  type LegacyManifest,
  MANIFEST_FILE,
  parseManifest,
  type TensorFileRecord,
} from "./checkpoint_manifest.ts";
import { checkTensors } from "./checkpoint_tensors.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  SafetensorsError,
  type TensorToWrite,
} from "./safetensors.ts";

export type { CheckpointManifest, LegacyManifest, TensorFileRecord };

/** The parameters' file name. */
export const MODEL_FILE = "model.safetensors";
/** The AdamW moments' file name. */
export const OPTIMIZER_FILE = "optimizer.safetensors";

/** Options of {@linkcode loadCheckpoint}. */
export interface CheckpointLoadOptions {
  /**
   * Read and check the AdamW moments (default true). Evaluation needs only
   * the parameters; resuming with fresh moments needs no optimiser file.
   */
  optimizer?: boolean;
}

/** What {@linkcode loadCheckpoint} returns. */
export interface LoadedCheckpoint {
  /** The model with its saved parameters. */
  model: LoopedLM;
  /** The optimiser: the saved moments when `optimizerState` is `loaded`, else zeros and t = 0. */
  optimizer: AdamW;
  /** `loaded`, `absent` (saved without moments) or `skipped` (not asked for). */
  optimizerState: "loaded" | "absent" | "skipped";
  /** The manifest as saved (version 1 for the old format). */
  manifest: CheckpointManifest | LegacyManifest;
}

function paramEntries(config: ModelConfig): [string, number[]][] {
  return paramSpecs(config).map(([name, shape]) => [name, shape]);
}

function momentEntries(config: ModelConfig): [string, number[]][] {
  const params = paramEntries(config);
  return [
    ...params.map(([n, s]): [string, number[]] => [`exp_avg.${n}`, s]),
    ...params.map(([n, s]): [string, number[]] => [`exp_avg_sq.${n}`, s]),
  ];
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function tensorsOf(
  file: string,
  entries: [string, tf.Tensor][],
): Promise<TensorToWrite[]> {
  const out: TensorToWrite[] = [];
  for (const [name, t] of entries) {
    const data = await t.data() as Float32Array;
    // The last line of defence: whatever happened upstream, never save a
    // value that cannot be resumed from.
    const bad = data.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) {
      throw new CheckpointError(
        file,
        `refusing to save: "${name}" has ${data[bad]} at index ${bad}`,
      );
    }
    out.push({ name, shape: t.shape, data });
  }
  return out;
}

// What the values were computed with, as far as this process knows.
function computedBy(): Record<string, unknown> {
  const backend = tf.getBackend();
  return {
    backend,
    tfjs: tf.version.tfjs,
    numerics: NUMERICS_REVISION,
    // On wasm the products run natively (BLAS) or on the toolkit's kernels.
    ...(backend === "wasm"
      ? {
        wasm_kernel_threads: wasmKernelThreads(),
        products: nativeBlasStatus(),
        attention: attentionPath(),
      }
      : {}),
  };
}

/** Writes a checkpoint of `model` (and `optimizer`) at `step` into `dir`. */
export async function saveCheckpoint(
  dir: string,
  model: LoopedLM,
  optimizer: AdamW | undefined,
  step: number,
  config: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const meta = { stars_checkpoint: String(CHECKPOINT_VERSION), step: String(step) };
  const modelBytes = encodeSafetensors(
    await tensorsOf(`${dir}/${MODEL_FILE}`, [...model.params]),
    { ...meta, model_config: JSON.stringify(model.config) },
  );
  const optimizerBytes = optimizer
    ? encodeSafetensors(
      await tensorsOf(`${dir}/${OPTIMIZER_FILE}`, [
        ...[...optimizer.m].map(([n, m]): [string, tf.Tensor] => [`exp_avg.${n}`, m]),
        ...[...optimizer.v].map(([n, v]): [string, tf.Tensor] => [`exp_avg_sq.${n}`, v]),
      ]),
      { ...meta, optimizer: "adamw", optimizer_step: String(optimizer.t) },
    )
    : null;
  const record = async (file: string, bytes: Uint8Array): Promise<TensorFileRecord> => ({
    file,
    bytes: bytes.length,
    sha256: await sha256(bytes),
  });
  const seed = config.seed;
  const manifest: CheckpointManifest = {
    format: "stars-checkpoint",
    version: CHECKPOINT_VERSION,
    step,
    optimizer_step: optimizer?.t ?? 0,
    model: model.config,
    config,
    rng: { seed: Number.isSafeInteger(seed) ? seed as number : null, next_step: step },
    computed_by: computedBy(),
    files: {
      model: await record(MODEL_FILE, modelBytes),
      optimizer: optimizerBytes ? await record(OPTIMIZER_FILE, optimizerBytes) : null,
    },
    extra,
  };
  const id = crypto.randomUUID();
  const writes: [string, Uint8Array][] = [[MODEL_FILE, modelBytes]];
  if (optimizerBytes) writes.push([OPTIMIZER_FILE, optimizerBytes]);
  writes.push([MANIFEST_FILE, new TextEncoder().encode(JSON.stringify(manifest, null, 1) + "\n")]);
  try {
    for (const [name, bytes] of writes) await writeSynced(tempPath(`${dir}/${name}`, id), bytes);
  } catch (e) {
    // Nothing was renamed yet: the previous checkpoint is intact.
    for (const [name] of writes) await Deno.remove(tempPath(`${dir}/${name}`, id)).catch(() => {});
    throw e;
  }
  // From here on a complete manifest exists, so a crash is finished later.
  for (const [name] of writes) await Deno.rename(tempPath(`${dir}/${name}`, id), `${dir}/${name}`);
  await removeSuperseded(dir, optimizerBytes !== null);
}

// Files the new manifest no longer names: old-format weights, and the
// moments of an earlier save when this one has none.
async function removeSuperseded(dir: string, hasOptimizer: boolean): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    const stale = /^weights-\d+\.bin$/.test(entry.name) ||
      (!hasOptimizer && entry.name === OPTIMIZER_FILE);
    if (stale) await Deno.remove(`${dir}/${entry.name}`).catch(() => {});
  }
}

/** Whether `dir` holds a checkpoint (its manifest; see {@linkcode loadCheckpoint} for the rest). */
export async function hasCheckpoint(dir: string): Promise<boolean> {
  try {
    return (await Deno.stat(`${dir}/${MANIFEST_FILE}`)).isFile;
  } catch {
    return false;
  }
}

async function readManifestText(dir: string): Promise<string> {
  try {
    return await Deno.readTextFile(`${dir}/${MANIFEST_FILE}`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new CheckpointError(`${dir}/${MANIFEST_FILE}`, "is missing: not a checkpoint folder");
    }
    throw e;
  }
}

/** Reads and checks only the manifest of the checkpoint in `dir`. */
export async function readManifest(dir: string): Promise<CheckpointManifest | LegacyManifest> {
  return parseManifest(await readManifestText(dir), `${dir}/${MANIFEST_FILE}`);
}

// Reads each path once per load; a file that is not there reads as null.
class FileCache {
  readonly #bytes = new Map<string, Promise<Uint8Array | null>>();

  read(path: string): Promise<Uint8Array | null> {
    if (!this.#bytes.has(path)) {
      this.#bytes.set(
        path,
        Deno.readFile(path).catch((e) => {
          if (e instanceof Deno.errors.NotFound) return null;
          throw e;
        }),
      );
    }
    return this.#bytes.get(path)!;
  }

  async matches(path: string, record: TensorFileRecord): Promise<boolean> {
    const bytes = await this.read(path);
    return bytes !== null && bytes.length === record.bytes && await sha256(bytes) === record.sha256;
  }
}

/** Where a manifest's tensor files are, once their hashes have been checked. */
interface Resolved {
  manifest: CheckpointManifest;
  /** Path of the manifest (its final name, or a pending save's temporary one). */
  manifestPath: string;
  /** Path of each needed tensor file, by the name the manifest gives it. */
  sources: Map<string, string>;
}

function neededFiles(manifest: CheckpointManifest, withOptimizer: boolean): TensorFileRecord[] {
  const { model, optimizer } = manifest.files;
  return withOptimizer && optimizer ? [model, optimizer] : [model];
}

// A save killed between its renames leaves its complete manifest as
// `checkpoint.json.tmp-<id>` and each tensor file under its final name or
// as `<file>.tmp-<id>`. The one whose hashes all match is the newest
// consistent checkpoint.
async function pendingSave(
  dir: string,
  cache: FileCache,
  withOptimizer: boolean,
): Promise<Resolved | null> {
  const prefix = `${MANIFEST_FILE}${TEMP_MARK}`;
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.startsWith(prefix)) names.push(entry.name);
  }
  for (const name of names.sort()) {
    const id = name.slice(prefix.length);
    const text = await cache.read(`${dir}/${name}`);
    if (!text) continue;
    let manifest;
    try {
      manifest = parseManifest(new TextDecoder().decode(text), `${dir}/${name}`);
    } catch {
      continue; // cut short: that save never renamed anything
    }
    if (manifest.version !== CHECKPOINT_VERSION) continue;
    const sources = new Map<string, string>();
    for (const record of neededFiles(manifest, withOptimizer)) {
      for (const path of [`${dir}/${record.file}`, tempPath(`${dir}/${record.file}`, id)]) {
        if (await cache.matches(path, record)) {
          sources.set(record.file, path);
          break;
        }
      }
    }
    if (sources.size === neededFiles(manifest, withOptimizer).length) {
      return { manifest, manifestPath: `${dir}/${name}`, sources };
    }
  }
  return null;
}

/**
 * Finishes a save that was killed between its renames, so the folder's
 * checkpoint is again the newest complete one under its final names. Only
 * the process that owns the folder (the trainer holding its lock) calls
 * this. Returns a note saying what it did, or null when nothing was needed.
 */
export async function recoverInterruptedSave(dir: string): Promise<string | null> {
  const cache = new FileCache();
  const text = await cache.read(`${dir}/${MANIFEST_FILE}`);
  if (text) {
    let current;
    try {
      current = parseManifest(new TextDecoder().decode(text), `${dir}/${MANIFEST_FILE}`);
    } catch {
      current = null; // the loader reports it
    }
    if (!current || current.version !== CHECKPOINT_VERSION) return null;
    const intact = await Promise.all(
      neededFiles(current, true).map((r) => cache.matches(`${dir}/${r.file}`, r)),
    );
    if (intact.every((ok) => ok)) return null;
  }
  const pending = await pendingSave(dir, cache, true);
  if (!pending) return null;
  for (const [file, path] of pending.sources) {
    if (path !== `${dir}/${file}`) await Deno.rename(path, `${dir}/${file}`);
  }
  await Deno.rename(pending.manifestPath, `${dir}/${MANIFEST_FILE}`);
  return `finished the interrupted save of step ${pending.manifest.step} in ${dir}`;
}

// A save in progress can swap a tensor file between our reading the
// manifest and reading that file: such a load is retried.
class ChangedDuringRead extends Error {}

/**
 * Loads the model and optimiser state saved in `dir`, after checking all
 * of it; throws {@linkcode CheckpointError} naming the file and the problem.
 */
export async function loadCheckpoint(
  dir: string,
  options: CheckpointLoadOptions = {},
): Promise<LoadedCheckpoint> {
  const withOptimizer = options.optimizer ?? true;
  // A save takes a few syncs; one that has not finished in this time is stuck.
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await loadOnce(dir, withOptimizer);
    } catch (e) {
      if (!(e instanceof ChangedDuringRead)) throw e;
      if (Date.now() > deadline) throw e.cause;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function loadOnce(dir: string, withOptimizer: boolean): Promise<LoadedCheckpoint> {
  const text = await readManifestText(dir);
  const manifest = parseManifest(text, `${dir}/${MANIFEST_FILE}`);
  if (manifest.version === 1) return await loadLegacy(dir, manifest, withOptimizer);
  const cache = new FileCache();
  const needed = neededFiles(manifest, withOptimizer);
  const intact = await Promise.all(needed.map((r) => cache.matches(`${dir}/${r.file}`, r)));
  let resolved: Resolved = {
    manifest,
    manifestPath: `${dir}/${MANIFEST_FILE}`,
    sources: new Map(needed.map((r) => [r.file, `${dir}/${r.file}`])),
  };
  if (!intact.every((ok) => ok)) {
    const pending = await pendingSave(dir, cache, withOptimizer);
    if (pending) resolved = pending;
    else {
      // Name the real problem: the structure and values first, then the hash.
      const problem = await describeMismatch(dir, manifest, withOptimizer, cache);
      // A save in progress shows as a pending manifest, or (once it is
      // renamed) as a changed one; looked at in that order, one of them is seen.
      const saving = await hasPendingManifest(dir);
      const now = await Deno.readTextFile(`${dir}/${MANIFEST_FILE}`).catch(() => "");
      if (saving || now !== text) throw new ChangedDuringRead("", { cause: problem });
      throw problem;
    }
  }
  const { params, moments } = await checkFiles(resolved, withOptimizer, cache);
  const m = resolved.manifest;
  return assemble(m, params, moments, withOptimizer, m.optimizer_step);
}

async function hasPendingManifest(dir: string): Promise<boolean> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.startsWith(`${MANIFEST_FILE}${TEMP_MARK}`)) return true;
  }
  return false;
}

async function describeMismatch(
  dir: string,
  manifest: CheckpointManifest,
  withOptimizer: boolean,
  cache: FileCache,
): Promise<CheckpointError> {
  try {
    const sources = new Map<string, string>();
    for (const r of neededFiles(manifest, withOptimizer)) sources.set(r.file, `${dir}/${r.file}`);
    await checkFiles({ manifest, manifestPath: "", sources }, withOptimizer, cache);
  } catch (e) {
    if (e instanceof CheckpointError) return e;
    throw e;
  }
  for (const r of neededFiles(manifest, withOptimizer)) {
    const bytes = (await cache.read(`${dir}/${r.file}`))!;
    if (bytes.length !== r.bytes || await sha256(bytes) !== r.sha256) {
      return new CheckpointError(
        `${dir}/${r.file}`,
        `content does not match ${MANIFEST_FILE} (sha256 ${await sha256(
          bytes,
        )}, ${bytes.length} bytes;` +
          ` the manifest says ${r.sha256}, ${r.bytes} bytes): a file of another save or another run`,
      );
    }
  }
  return new CheckpointError(`${dir}/${MANIFEST_FILE}`, "changed while it was read");
}

function decodeFile(bytes: Uint8Array | null, path: string, what: string) {
  if (bytes === null) {
    throw new CheckpointError(
      path,
      `is missing (${MANIFEST_FILE} names it)${
        what === "optimizer" ? "; to resume with fresh AdamW moments, pass --reset_optimizer" : ""
      }`,
    );
  }
  try {
    return decodeSafetensors(bytes, path);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError(e.file, e.problem, { cause: e });
    throw e;
  }
}

function checkMetadata(
  path: string,
  meta: Record<string, string>,
  expected: Record<string, string>,
) {
  for (const [key, value] of Object.entries(expected)) {
    if (meta[key] !== value) {
      throw new CheckpointError(
        path,
        `__metadata__ "${key}" is ${JSON.stringify(meta[key] ?? null)}, ${MANIFEST_FILE} says ${
          JSON.stringify(value)
        }`,
      );
    }
  }
}

type Moments = { m: Map<string, Float32Array>; v: Map<string, Float32Array> };

// Decodes and checks the resolved files: the values, before any tensor exists.
async function checkFiles(
  r: Resolved,
  withOptimizer: boolean,
  cache: FileCache,
): Promise<{ params: Map<string, Float32Array>; moments: Moments | null }> {
  const { manifest } = r;
  const modelPath = r.sources.get(manifest.files.model.file)!;
  const model = decodeFile(await cache.read(modelPath), modelPath, "model");
  const sameModel = (() => {
    try {
      const saved = JSON.parse(model.metadata.model_config ?? "null");
      return Object.keys(manifest.model).length === Object.keys(saved ?? {}).length &&
        Object.entries(manifest.model).every(([k, v]) => saved[k] === v);
    } catch {
      return false;
    }
  })();
  if (!sameModel) {
    throw new CheckpointError(
      modelPath,
      `__metadata__ "model_config" does not match the model in ${MANIFEST_FILE}`,
    );
  }
  checkMetadata(modelPath, model.metadata, { step: String(manifest.step) });
  const params = checkTensors(modelPath, model.tensors, paramEntries(manifest.model));
  let moments: Moments | null = null;
  const record = manifest.files.optimizer;
  if (withOptimizer && record) {
    const path = r.sources.get(record.file)!;
    const opt = decodeFile(await cache.read(path), path, "optimizer");
    checkMetadata(path, opt.metadata, {
      step: String(manifest.step),
      optimizer_step: String(manifest.optimizer_step),
    });
    const values = checkTensors(
      path,
      opt.tensors,
      momentEntries(manifest.model),
      (name) => name.startsWith("exp_avg_sq."),
    );
    const byParam = (prefix: string) =>
      new Map(paramEntries(manifest.model).map(([n]) => [n, values.get(`${prefix}${n}`)!]));
    moments = { m: byParam("exp_avg."), v: byParam("exp_avg_sq.") };
  }
  return { params, moments };
}

function assemble(
  manifest: CheckpointManifest | LegacyManifest,
  params: Map<string, Float32Array>,
  moments: Moments | null,
  withOptimizer: boolean,
  optimizerStep: number,
): LoadedCheckpoint {
  const model = new LoopedLM(manifest.model, 0, paramsFromValues(manifest.model, params));
  const optimizer = new AdamW(
    model.params,
    moments ? { t: optimizerStep, m: moments.m, v: moments.v } : undefined,
  );
  const optimizerState = moments ? "loaded" : withOptimizer ? "absent" : "skipped";
  return { model, optimizer, optimizerState, manifest };
}

async function loadLegacy(
  dir: string,
  manifest: LegacyManifest,
  withOptimizer: boolean,
): Promise<LoadedCheckpoint> {
  const { params, moments } = await readLegacyValues(dir, manifest, withOptimizer);
  return assemble(manifest, params, moments, withOptimizer, manifest.adam_t);
}
