/** Test helpers: a real small checkpoint, copies of it, and ways to damage one. */
import type { TrainConfig } from "../train/config.ts";
import { train } from "../train/trainer.ts";
import { decodeSafetensors, encodeSafetensors } from "../train/safetensors.ts";

/** A d_model 16 run of 6 steps: seconds on two cores. */
export const TINY: Partial<TrainConfig> = {
  digits: 2,
  d_model: 16,
  n_heads: 2,
  d_ff: 32,
  loops: 2,
  batch_size: 16,
  steps: 6,
  warmup_steps: 2,
  eval_size: 20,
  eval_every: 0,
  checkpoint_every: 0,
};

/** Trains `config` into a new temporary folder; returns the folder. */
export async function trainedDir(config: Partial<TrainConfig> = TINY): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "stars-ckpt-" });
  (await train(config, { outDir: dir })).model.dispose();
  return dir;
}

/** A fresh copy of the (flat) folder `from`. */
export async function copyDir(from: string): Promise<string> {
  const to = await Deno.makeTempDir({ prefix: "stars-ckpt-" });
  for await (const e of Deno.readDir(from)) {
    if (e.isFile) await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
  return to;
}

/** Every file of a flat folder and its SHA-256, to show that nothing changed. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile) continue;
    const bytes = await Deno.readFile(`${dir}/${e.name}`);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    out[e.name] = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  return out;
}

/** One header entry and its raw bytes, for rewriting a safetensors file by hand. */
export interface RawTensor {
  /** Name in the header. */
  name: string;
  /** Header dtype. */
  dtype: string;
  /** Header shape. */
  shape: number[];
  /** Data bytes. */
  bytes: Uint8Array;
  /** Header offsets; default: packed in order. */
  offsets?: [number, number];
}

/** The tensors and metadata of a safetensors file, as raw entries. */
export async function readRaw(
  path: string,
): Promise<{ tensors: RawTensor[]; metadata: Record<string, string> }> {
  const { tensors, metadata } = decodeSafetensors(await Deno.readFile(path), path);
  return {
    metadata,
    tensors: [...tensors].map(([name, t]) => ({
      name,
      dtype: t.dtype,
      shape: t.shape,
      bytes: new Uint8Array(t.data.buffer),
    })),
  };
}

/**
 * Writes a safetensors file from raw entries: a header text built by hand
 * (so it can say anything, even a name twice), padded as the writer pads.
 */
export async function writeRaw(
  path: string,
  tensors: RawTensor[],
  metadata: Record<string, string>,
  headerText?: (entries: string[]) => string,
): Promise<void> {
  let at = 0;
  const entries = [`"__metadata__":${JSON.stringify(metadata)}`];
  for (const t of tensors) {
    const offsets = t.offsets ?? [at, at + t.bytes.length];
    at += t.bytes.length;
    entries.push(
      `${JSON.stringify(t.name)}:${
        JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: offsets })
      }`,
    );
  }
  let header = headerText ? headerText(entries) : `{${entries.join(",")}}`;
  header += " ".repeat((8 - header.length % 8) % 8);
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let p = 8 + json.length;
  for (const t of tensors) {
    out.set(t.bytes, p);
    p += t.bytes.length;
  }
  await Deno.writeFile(path, out);
}

/** Re-encodes float32 tensors with this toolkit's writer. */
export async function writeF32(
  path: string,
  tensors: RawTensor[],
  metadata: Record<string, string>,
): Promise<void> {
  await Deno.writeFile(
    path,
    encodeSafetensors(
      tensors.map((t) => ({
        name: t.name,
        shape: t.shape,
        data: new Float32Array(t.bytes.slice().buffer),
      })),
      metadata,
    ),
  );
}

/** Edits `checkpoint.json` in `dir` as JSON. */
export async function editManifest(
  dir: string,
  edit: (m: Record<string, unknown>) => void,
): Promise<void> {
  const m = JSON.parse(await Deno.readTextFile(`${dir}/checkpoint.json`));
  edit(m);
  await Deno.writeTextFile(`${dir}/checkpoint.json`, JSON.stringify(m, null, 1));
}
