/**
 * Reading checkpoints of the old format (version 1): `checkpoint.json` and
 * one `weights-<step>.bin` of raw float32 values, the manifest listing each
 * tensor's name (`param:`, `adam.m:` or `adam.v:` and the parameter), shape
 * and offset. The committed results under `docs/results/` are in it. They
 * load directly, checked as strictly as the current format (it had no
 * hashes, so that check alone is missing); the next save of a resumed run
 * writes the current format in their place.
 *
 * @module
 */
import { paramSpecs } from "../models/params.ts";
import { CheckpointError } from "./checkpoint_error.ts";
import type { LegacyManifest } from "./checkpoint_manifest.ts";
import { checkTensors, type FoundTensor } from "./checkpoint_tensors.ts";

/** The values of a version-1 checkpoint, by parameter name, in the model's order. */
export interface LegacyValues {
  /** Parameters. */
  params: Map<string, Float32Array>;
  /** AdamW moments, or null when the checkpoint has none or they were not asked for. */
  moments: { m: Map<string, Float32Array>; v: Map<string, Float32Array> } | null;
}

const GROUPS = ["param:", "adam.m:", "adam.v:"] as const;

/** Reads and checks the weights file of a version-1 manifest in `dir`. */
export async function readLegacyValues(
  dir: string,
  manifest: LegacyManifest,
  withOptimizer: boolean,
): Promise<LegacyValues> {
  const file = `${dir}/${manifest.weights}`;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new CheckpointError(file, "is missing (checkpoint.json names it)");
    }
    throw e;
  }
  if (bytes.length % 4) {
    throw new CheckpointError(file, `${bytes.length} bytes: not whole float32s`);
  }
  const floats = new Float32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
  );
  const groups = new Map<string, Map<string, FoundTensor>>(GROUPS.map((g) => [g, new Map()]));
  const seen = new Set<string>();
  const sorted = [...manifest.tensors].sort((a, b) => a.offset - b.offset);
  let at = 0;
  for (const t of sorted) {
    if (seen.has(t.name)) throw new CheckpointError(file, `tensor "${t.name}" listed twice`);
    seen.add(t.name);
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (t.offset !== at) {
      throw new CheckpointError(
        file,
        `tensor "${t.name}" starts at float ${t.offset}, expected ${at} (offsets must cover the file exactly once)`,
      );
    }
    at += size;
    if (at > floats.length) {
      throw new CheckpointError(
        file,
        `file is ${4 * (at - floats.length)} bytes shorter than the manifest says`,
      );
    }
    const group = GROUPS.find((g) => t.name.startsWith(g));
    if (!group) {
      throw new CheckpointError(file, `tensor "${t.name}" is not a parameter or AdamW moment`);
    }
    const data = floats.subarray(t.offset, t.offset + size);
    groups.get(group)!.set(t.name.slice(group.length), { dtype: "F32", shape: t.shape, data });
  }
  if (at < floats.length) {
    throw new CheckpointError(
      file,
      `file is ${4 * (floats.length - at)} bytes longer than the manifest says`,
    );
  }
  const specs = paramSpecs(manifest.model).map(([name, shape]) =>
    [name, shape] as [string, number[]]
  );
  const params = checkTensors(file, groups.get("param:")!, specs);
  const hasMoments = groups.get("adam.m:")!.size + groups.get("adam.v:")!.size > 0;
  if (!withOptimizer || !hasMoments) return { params, moments: null };
  return {
    params,
    moments: {
      m: checkTensors(`${file} (adam.m)`, groups.get("adam.m:")!, specs),
      v: checkTensors(`${file} (adam.v)`, groups.get("adam.v:")!, specs, () => true),
    },
  };
}
