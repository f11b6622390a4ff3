/**
 * The safetensors format (Hugging Face's; PyTorch, JAX and Hugging Face
 * tools read it): an 8-byte little-endian header length N, N bytes of JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__: {str:
 * str}}`, then the raw little-endian tensor data, offsets counted from the
 * end of the header. Writes F32; reads F32, F16 and BF16 (as float32).
 *
 * The reader refuses every file the specification does: a header over
 * {@linkcode MAX_HEADER_BYTES}, invalid or duplicate-key JSON, unknown
 * dtypes, shapes whose size disagrees with the offsets, offsets that do not
 * cover the data section exactly once each byte, and a file longer or
 * shorter than the header says.
 *
 * @module
 */
import { duplicateKey } from "./json_keys.ts";

/** The largest header accepted, in bytes (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Element types the reader understands, with their size in bytes. */
export const SAFETENSORS_DTYPES = { F32: 4, F16: 2, BF16: 2 } as const;
/** One of {@linkcode SAFETENSORS_DTYPES}. */
export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPES;

/** A float32 tensor to write. */
export interface TensorToWrite {
  /** Its name in the header. */
  name: string;
  /** Its dimensions (`[]` for a scalar). */
  shape: number[];
  /** Row-major values; as many as the shape's product. */
  data: Float32Array;
}

/** A tensor read from a file. */
export interface ReadTensor {
  /** The dtype it was stored with. */
  dtype: SafetensorsDtype;
  /** Its dimensions. */
  shape: number[];
  /** Its values, widened to float32. */
  data: Float32Array;
}

/** What {@linkcode decodeSafetensors} returns. */
export interface SafetensorsContents {
  /** The tensors, in the order of their data. */
  tensors: Map<string, ReadTensor>;
  /** The `__metadata__` strings (empty when absent). */
  metadata: Record<string, string>;
}

/** A file that is not valid safetensors: names the file and the problem. */
export class SafetensorsError extends Error {
  /** Creates the error for `file`. */
  constructor(readonly file: string, readonly problem: string) {
    super(`${file}: ${problem}`);
    this.name = "SafetensorsError";
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Serialises float32 tensors and string metadata. The header is padded with
 * spaces to a multiple of 8 bytes, so every tensor's data starts aligned.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { decodeSafetensors, encodeSafetensors } from "@stars/toolkit/train";
 * const bytes = encodeSafetensors([{ name: "w", shape: [2], data: new Float32Array([1, 2]) }]);
 * const w = decodeSafetensors(bytes, "w.safetensors").tensors.get("w")!;
 * assertEquals(w.data, new Float32Array([1, 2]));
 * ```
 */
export function encodeSafetensors(
  tensors: readonly TensorToWrite[],
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") {
        throw new TypeError(`safetensors: metadata "${k}" is not a string`);
      }
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const t of tensors) {
    if (t.name === "__metadata__" || t.name in header) {
      throw new TypeError(`safetensors: tensor name "${t.name}" is reserved or repeated`);
    }
    if (elementCount(t.shape) !== t.data.length) {
      throw new TypeError(
        `safetensors: tensor "${t.name}" has ${t.data.length} values for shape [${t.shape}]`,
      );
    }
    header[t.name] = {
      dtype: "F32",
      shape: t.shape,
      data_offsets: [offset, offset + t.data.byteLength],
    };
    offset += t.data.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    json = new TextEncoder().encode(JSON.stringify(header) + " ".repeat(padded - json.length));
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors) {
    out.set(littleEndianBytes(t.data), at);
    at += t.data.byteLength;
  }
  return out;
}

function littleEndianBytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const bytes = new Uint8Array(data.byteLength);
  const view = new DataView(bytes.buffer);
  data.forEach((x, i) => view.setFloat32(4 * i, x, true));
  return bytes;
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

interface HeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Parses and checks a safetensors file; `file` names it in errors. Throws
 * {@linkcode SafetensorsError} for anything the specification rules out.
 */
export function decodeSafetensors(bytes: Uint8Array, file: string): SafetensorsContents {
  const fail = (problem: string) => new SafetensorsError(file, problem);
  if (bytes.length < 8) throw fail(`${bytes.length} bytes: too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw fail(`header length ${n} is over the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const headerBytes = Number(n);
  if (8 + headerBytes > bytes.length) {
    throw fail(`header length ${headerBytes} runs past the end of the ${bytes.length}-byte file`);
  }
  const { entries, metadata } = parseHeader(bytes.subarray(8, 8 + headerBytes), fail);
  const dataStart = 8 + headerBytes;
  checkTiling(entries, bytes.length - dataStart, fail);
  const tensors = new Map<string, ReadTensor>();
  for (const e of entries) {
    const data = widen(e.dtype, bytes.subarray(dataStart + e.begin, dataStart + e.end));
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

function parseHeader(
  raw: Uint8Array,
  fail: (problem: string) => SafetensorsError,
): { entries: HeaderEntry[]; metadata: Record<string, string> } {
  let text: string, header: unknown;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
    header = JSON.parse(text);
  } catch (e) {
    throw fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw fail("header is not a JSON object");
  }
  const dup = duplicateKey(text);
  if (dup) throw fail(`header names "${dup}" twice`);
  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw fail("__metadata__ is not an object of strings");
      }
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== "string") throw fail(`__metadata__ "${k}" is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    entries.push(headerEntry(name, value, fail));
  }
  return { entries, metadata };
}

function headerEntry(
  name: string,
  value: unknown,
  fail: (problem: string) => SafetensorsError,
): HeaderEntry {
  const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof v !== "object" || v === null) throw fail(`tensor "${name}" is not an object`);
  const extra = Object.keys(v).filter((k) => !["dtype", "shape", "data_offsets"].includes(k));
  if (extra.length) throw fail(`tensor "${name}" has unknown field "${extra[0]}"`);
  if (typeof v.dtype !== "string" || !(v.dtype in SAFETENSORS_DTYPES)) {
    throw fail(
      `tensor "${name}" has dtype ${JSON.stringify(v.dtype)}; readable: ${
        Object.keys(SAFETENSORS_DTYPES).join(", ")
      }`,
    );
  }
  const isCount = (x: unknown) => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
  if (!Array.isArray(v.shape) || !v.shape.every(isCount)) {
    throw fail(`tensor "${name}" has shape ${JSON.stringify(v.shape)}, not a list of sizes`);
  }
  const o = v.data_offsets;
  if (!Array.isArray(o) || o.length !== 2 || !o.every(isCount) || o[0] > o[1]) {
    throw fail(`tensor "${name}" has data_offsets ${JSON.stringify(o)}, not [begin, end]`);
  }
  const dtype = v.dtype as SafetensorsDtype;
  const expected = elementCount(v.shape) * SAFETENSORS_DTYPES[dtype];
  if (o[1] - o[0] !== expected) {
    throw fail(
      `tensor "${name}" spans ${o[1] - o[0]} bytes, but ${dtype} [${v.shape}] needs ${expected}`,
    );
  }
  return { name, dtype, shape: v.shape, begin: o[0], end: o[1] };
}

// The data section must be tiled: sorted by offset, each tensor starts where
// the previous ended, the first at 0, the last at the end of the file. A gap,
// an overlap or trailing bytes all mean the file is not what its header says.
function checkTiling(
  entries: HeaderEntry[],
  dataBytes: number,
  fail: (problem: string) => SafetensorsError,
): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin !== at) {
      throw fail(
        `tensor "${e.name}" starts at data byte ${e.begin}, expected ${at} ` +
          `(${e.begin > at ? "a gap" : "an overlap"}: offsets must cover the data exactly once)`,
      );
    }
    at = e.end;
  }
  if (at < dataBytes) {
    throw fail(`file is ${dataBytes - at} bytes longer than its header says`);
  }
  if (at > dataBytes) {
    throw fail(`file is ${at - dataBytes} bytes shorter than its header says`);
  }
}

function widen(dtype: SafetensorsDtype, raw: Uint8Array): Float32Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (dtype === "F32") {
    if (LITTLE_ENDIAN) return new Float32Array(raw.slice().buffer);
    return Float32Array.from({ length: raw.length / 4 }, (_, i) => view.getFloat32(4 * i, true));
  }
  const out = new Float32Array(raw.length / 2);
  if (dtype === "BF16") {
    // bfloat16 is the top half of a float32.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < out.length; i++) bits[i] = view.getUint16(2 * i, true) << 16;
    return out;
  }
  for (let i = 0; i < out.length; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f, fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
