/**
 * Checkpoints: a folder holding `checkpoint.json` (config, step, optimiser
 * step, tensor manifest) and one `weights-<step>.bin` of float32 values
 * (parameters and AdamW moments). Saving is atomic: the weights go to a new
 * file, then the manifest is renamed into place in one step, then older
 * weights are removed; a run killed at any point leaves the previous
 * checkpoint readable.
 */
import * as tf from "@tensorflow/tfjs";
import { LoopedLM } from "../models/looped.ts";
import type { ModelConfig } from "../models/config.ts";
import { AdamW } from "./adamw.ts";

/** The manifest stored as `checkpoint.json`. */
export interface CheckpointManifest {
  /** Format tag. */
  format: "stars-checkpoint";
  /** Format version. */
  version: 1;
  /** Optimiser steps completed. */
  step: number;
  /** The model's configuration. */
  model: ModelConfig;
  /** The run's full configuration (free-form for the library; the trainer stores its config). */
  config: Record<string, unknown>;
  /** AdamW's update count (bias correction). */
  adam_t: number;
  /** The weights file, relative to the folder. */
  weights: string;
  /** Every stored tensor: name, shape and offset (in float32 values). */
  tensors: { name: string; shape: number[]; offset: number }[];
  /** Free-form extra state (metrics at save time). */
  extra: Record<string, unknown>;
}

/** What {@linkcode loadCheckpoint} returns. */
export interface LoadedCheckpoint {
  /** The model with its saved parameters. */
  model: LoopedLM;
  /** The optimiser with its saved moments, when the checkpoint has them. */
  optimizer: AdamW;
  /** The manifest as saved. */
  manifest: CheckpointManifest;
}

const MANIFEST = "checkpoint.json";

function tensorsToSave(model: LoopedLM, opt?: AdamW): [string, tf.Tensor][] {
  const list: [string, tf.Tensor][] = [];
  for (const [name, p] of model.params) list.push([`param:${name}`, p]);
  if (opt) {
    for (const [name, m] of opt.m) list.push([`adam.m:${name}`, m]);
    for (const [name, v] of opt.v) list.push([`adam.v:${name}`, v]);
  }
  return list;
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
  const list = tensorsToSave(model, optimizer);
  const total = list.reduce((n, [, t]) => n + t.size, 0);
  const values = new Float32Array(total);
  const tensors: CheckpointManifest["tensors"] = [];
  let offset = 0;
  for (const [name, t] of list) {
    values.set(await t.data() as Float32Array, offset);
    tensors.push({ name, shape: t.shape, offset });
    offset += t.size;
  }
  const weights = `weights-${String(step).padStart(8, "0")}.bin`;
  await writeAtomic(`${dir}/${weights}`, new Uint8Array(values.buffer));
  const manifest: CheckpointManifest = {
    format: "stars-checkpoint",
    version: 1,
    step,
    model: model.config,
    config,
    adam_t: optimizer?.t ?? 0,
    weights,
    tensors,
    extra,
  };
  await writeAtomic(
    `${dir}/${MANIFEST}`,
    new TextEncoder().encode(JSON.stringify(manifest, null, 1)),
  );
  for await (const entry of Deno.readDir(dir)) {
    if (/^weights-\d+\.bin$/.test(entry.name) && entry.name !== weights) {
      await Deno.remove(`${dir}/${entry.name}`);
    }
  }
}

async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    await file.write(bytes).then(async (n) => {
      let written = n;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
    });
    await file.sync();
  } finally {
    file.close();
  }
  await Deno.rename(tmp, path);
}

/** Whether `dir` holds a checkpoint. */
export async function hasCheckpoint(dir: string): Promise<boolean> {
  try {
    await Deno.stat(`${dir}/${MANIFEST}`);
    return true;
  } catch {
    return false;
  }
}

/** Reads only the manifest of the checkpoint in `dir`. */
export async function readManifest(dir: string): Promise<CheckpointManifest> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${dir}/${MANIFEST}`);
  } catch {
    throw new Error(`checkpoint: no ${MANIFEST} in "${dir}"`);
  }
  const manifest = JSON.parse(text) as CheckpointManifest;
  if (manifest.format !== "stars-checkpoint" || manifest.version !== 1) {
    throw new Error(`checkpoint: "${dir}/${MANIFEST}" is not a stars-checkpoint v1`);
  }
  return manifest;
}

/** Loads the model and optimiser state saved in `dir`. */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const manifest = await readManifest(dir);
  const bytes = await Deno.readFile(`${dir}/${manifest.weights}`);
  const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const model = new LoopedLM(manifest.model, 0);
  const optimizer = new AdamW(model.params);
  optimizer.t = manifest.adam_t;
  const targets = new Map<string, tf.Variable>();
  for (const [name, p] of model.params) targets.set(`param:${name}`, p);
  for (const [name, m] of optimizer.m) targets.set(`adam.m:${name}`, m);
  for (const [name, v] of optimizer.v) targets.set(`adam.v:${name}`, v);
  for (const { name, shape, offset } of manifest.tensors) {
    const target = targets.get(name);
    if (!target) throw new Error(`checkpoint: unexpected tensor "${name}" in "${dir}"`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== target.size) throw new Error(`checkpoint: tensor "${name}" has the wrong shape`);
    tf.tidy(() => target.assign(tf.tensor(values.slice(offset, offset + size), shape)));
  }
  return { model, optimizer, manifest };
}
