/**
 * Whether a file's tensors are exactly the ones a model config needs: no
 * tensor missing (it would keep its initial value), none extra (another
 * model's), each float32 of the right shape, every value finite. Checked on
 * the bytes, before any tensor exists.
 *
 * @module
 */
import { CheckpointError } from "./checkpoint_error.ts";

/** A tensor as read from a file. */
export interface FoundTensor {
  /** The stored element type. */
  dtype: string;
  /** Its dimensions. */
  shape: number[];
  /** Its values. */
  data: Float32Array;
}

function listed(names: string[]): string {
  const shown = names.slice(0, 3).map((n) => `"${n}"`).join(", ");
  return names.length > 3 ? `${shown} and ${names.length - 3} more` : shown;
}

/**
 * Checks `found` (read from `file`) against `expected` (name and shape, in
 * order) and returns the values in that order. Names in `nonNegative` must
 * also have no negative value (AdamW's second moments).
 */
export function checkTensors(
  file: string,
  found: ReadonlyMap<string, FoundTensor>,
  expected: readonly [string, number[]][],
  nonNegative: (name: string) => boolean = () => false,
): Map<string, Float32Array> {
  const wanted = new Set(expected.map(([name]) => name));
  const missing = expected.map(([name]) => name).filter((name) => !found.has(name));
  if (missing.length) {
    throw new CheckpointError(
      file,
      `tensor ${listed(missing)} missing (the model config needs it)`,
    );
  }
  const extra = [...found.keys()].filter((name) => !wanted.has(name));
  if (extra.length) {
    throw new CheckpointError(file, `tensor ${listed(extra)} is not part of the model config`);
  }
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of expected) {
    const t = found.get(name)!;
    if (t.dtype !== "F32") {
      throw new CheckpointError(file, `tensor "${name}" is ${t.dtype}, checkpoints hold F32`);
    }
    if (t.shape.join() !== shape.join() || t.shape.length !== shape.length) {
      throw new CheckpointError(
        file,
        `tensor "${name}" has shape [${t.shape}], the model config needs [${shape}]`,
      );
    }
    const bad = t.data.findIndex((x) => !Number.isFinite(x) || (x < 0 && nonNegative(name)));
    if (bad >= 0) {
      const count = t.data.filter((x) => !Number.isFinite(x)).length;
      throw new CheckpointError(
        file,
        Number.isFinite(t.data[bad])
          ? `tensor "${name}" has a negative value ${t.data[bad]} at index ${bad}`
          : `tensor "${name}" has ${count} non-finite value(s), the first ${
            t.data[bad]
          } at index ${bad}`,
      );
    }
    out.set(name, t.data);
  }
  return out;
}
