/**
 * `checkpoint.json`, the manifest that makes a folder a checkpoint: what
 * was saved (step, optimiser step, model and run config, the per-step RNG
 * state, what computed it) and which tensor files hold it, each with its
 * size and SHA-256. It is renamed into place last, so it always describes
 * complete files, and its hashes tie those files to it.
 *
 * {@linkcode parseManifest} checks every field's presence and type (and
 * reads the version-1 manifests of the old `weights-<step>.bin` format),
 * throwing {@linkcode CheckpointError} naming the file and the field.
 *
 * @module
 */
import { type ModelConfig, modelConfigProblem } from "../models/config.ts";
import { CheckpointError } from "./checkpoint_error.ts";
import { duplicateKey } from "./json_keys.ts";

/** The manifest's file name inside a checkpoint folder. */
export const MANIFEST_FILE = "checkpoint.json";
/** The current format version. */
export const CHECKPOINT_VERSION = 2;

/** A tensor file named by the manifest. */
export interface TensorFileRecord {
  /** Its name inside the checkpoint folder. */
  file: string;
  /** Its length in bytes. */
  bytes: number;
  /** SHA-256 of its contents, lowercase hex. */
  sha256: string;
}

/** The manifest stored as `checkpoint.json` (format version 2). */
export interface CheckpointManifest {
  /** Format tag. */
  format: "stars-checkpoint";
  /** Format version. */
  version: 2;
  /** Optimiser steps completed. */
  step: number;
  /** AdamW's update count (its bias correction); 0 without optimiser state. */
  optimizer_step: number;
  /** The model's configuration. */
  model: ModelConfig;
  /** The run's full configuration (free-form for the library; the trainer stores its config). */
  config: Record<string, unknown>;
  /**
   * The random state: every stream (data, loop counts, dropout) is a pure
   * function of (seed, step), so the seed and the next step are all of it.
   */
  rng: { seed: number | null; next_step: number };
  /** What computed the values (backend, tfjs version, threads), as far as known. */
  computed_by: Record<string, unknown>;
  /** The tensor files: parameters, and AdamW moments (null when saved without). */
  files: { model: TensorFileRecord; optimizer: TensorFileRecord | null };
  /** Free-form extra state. */
  extra: Record<string, unknown>;
}

/** The manifest of the old format (version 1): one raw float32 file. */
export interface LegacyManifest {
  /** Format tag. */
  format: "stars-checkpoint";
  /** Format version. */
  version: 1;
  /** Optimiser steps completed. */
  step: number;
  /** The model's configuration. */
  model: ModelConfig;
  /** The run's configuration. */
  config: Record<string, unknown>;
  /** AdamW's update count. */
  adam_t: number;
  /** The weights file (`weights-<step>.bin`). */
  weights: string;
  /** Every tensor: name (`param:`, `adam.m:`, `adam.v:` + parameter), shape, offset in floats. */
  tensors: { name: string; shape: number[]; offset: number }[];
  /** Free-form extra state. */
  extra: Record<string, unknown>;
}

type Kind = "int" | "string" | "object" | "array";

// Reads typed fields of one JSON object, failing with the field's path.
class Fields {
  constructor(
    readonly file: string,
    readonly obj: Record<string, unknown>,
    readonly path: string,
  ) {}

  fail(key: string, problem: string): CheckpointError {
    return new CheckpointError(this.file, `field "${this.path}${key}" ${problem}`);
  }

  get(key: string, kind: "int"): number;
  get(key: string, kind: "string"): string;
  get(key: string, kind: "object"): Record<string, unknown>;
  get(key: string, kind: "array"): unknown[];
  get(key: string, kind: Kind): unknown {
    if (!(key in this.obj)) throw this.fail(key, "is missing");
    const v = this.obj[key];
    const ok = kind === "int"
      ? Number.isSafeInteger(v) && (v as number) >= 0
      : kind === "array"
      ? Array.isArray(v)
      : kind === "object"
      ? typeof v === "object" && v !== null && !Array.isArray(v)
      : typeof v === "string";
    if (!ok) {
      const wanted = kind === "int"
        ? "a non-negative integer"
        : `a${kind === "object" ? "n" : ""} ${kind}`;
      throw this.fail(key, `must be ${wanted}, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  sub(key: string): Fields {
    return new Fields(this.file, this.get(key, "object"), `${this.path}${key}.`);
  }
}

function modelConfig(f: Fields): ModelConfig {
  const bad = modelConfigProblem(f.obj);
  if (bad) throw f.fail(bad.key, bad.problem);
  return f.obj as unknown as ModelConfig;
}

// A file the manifest names must sit in the checkpoint folder itself.
function plainName(f: Fields, key: string): string {
  const name = f.get(key, "string");
  if (!name || name.includes("/") || name.includes("\\") || name.startsWith(".")) {
    throw f.fail(
      key,
      `must be a file name inside the checkpoint folder, got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

function tensorFile(f: Fields): TensorFileRecord {
  const sha256 = f.get("sha256", "string");
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw f.fail("sha256", "must be 64 lowercase hex digits");
  return { file: plainName(f, "file"), bytes: f.get("bytes", "int"), sha256 };
}

function currentManifest(f: Fields): CheckpointManifest {
  const files = f.sub("files");
  const rng = f.sub("rng");
  const seed = rng.obj.seed;
  if (!(seed === null || Number.isSafeInteger(seed))) {
    throw rng.fail("seed", `must be an integer or null, got ${JSON.stringify(seed)}`);
  }
  if (!("optimizer" in files.obj)) throw files.fail("optimizer", "is missing");
  return {
    format: "stars-checkpoint",
    version: 2,
    step: f.get("step", "int"),
    optimizer_step: f.get("optimizer_step", "int"),
    model: modelConfig(f.sub("model")),
    config: f.get("config", "object"),
    rng: { seed: seed as number | null, next_step: rng.get("next_step", "int") },
    computed_by: f.get("computed_by", "object"),
    files: {
      model: tensorFile(files.sub("model")),
      optimizer: files.obj.optimizer === null ? null : tensorFile(files.sub("optimizer")),
    },
    extra: f.get("extra", "object"),
  };
}

function legacyManifest(f: Fields): LegacyManifest {
  const weights = plainName(f, "weights");
  if (!/^weights-\d+\.bin$/.test(weights)) throw f.fail("weights", "must name weights-<step>.bin");
  const tensors = f.get("tensors", "array").map((t, i) => {
    if (typeof t !== "object" || t === null) throw f.fail(`tensors[${i}]`, "must be an object");
    const e = new Fields(f.file, t as Record<string, unknown>, `tensors[${i}].`);
    const shape = e.get("shape", "array");
    if (!shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw e.fail("shape", `must be a list of sizes, got ${JSON.stringify(shape)}`);
    }
    return {
      name: e.get("name", "string"),
      shape: shape as number[],
      offset: e.get("offset", "int"),
    };
  });
  return {
    format: "stars-checkpoint",
    version: 1,
    step: f.get("step", "int"),
    model: modelConfig(f.sub("model")),
    config: f.get("config", "object"),
    adam_t: f.get("adam_t", "int"),
    weights,
    tensors,
    extra: "extra" in f.obj ? f.get("extra", "object") : {},
  };
}

/**
 * Parses and checks the text of a manifest (`file` names it in errors):
 * version 2, or version 1 of the old format.
 */
export function parseManifest(text: string, file: string): CheckpointManifest | LegacyManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(file, `is not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CheckpointError(file, "is not a JSON object");
  }
  const dup = duplicateKey(text);
  if (dup) throw new CheckpointError(file, `names field "${dup}" twice`);
  const f = new Fields(file, value as Record<string, unknown>, "");
  if (f.obj.format !== "stars-checkpoint") {
    throw f.fail("format", `must be "stars-checkpoint", got ${JSON.stringify(f.obj.format)}`);
  }
  const version = f.get("version", "int");
  if (version === CHECKPOINT_VERSION) return currentManifest(f);
  if (version === 1) return legacyManifest(f);
  throw f.fail("version", `must be 1 or ${CHECKPOINT_VERSION}, got ${version}`);
}
