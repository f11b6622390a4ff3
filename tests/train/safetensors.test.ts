import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import {
  decodeSafetensors,
  encodeSafetensors,
  MAX_HEADER_BYTES,
  SafetensorsError,
} from "../../train/safetensors.ts";
import { duplicateKey } from "../../train/json_keys.ts";

// A file exactly as the specification lays it out, from a header text and data bytes.
function file(header: string, data: Uint8Array = new Uint8Array(0), length?: bigint): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const u16 = (...xs: number[]) => new Uint8Array(new Uint16Array(xs).buffer);
const f32 = (...xs: number[]) => new Uint8Array(new Float32Array(xs).buffer);

Deno.test("encode: 8-byte LE header length, JSON header padded with spaces to 8 bytes, LE data", () => {
  const bytes = encodeSafetensors(
    [
      { name: "w", shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
      { name: "b", shape: [3], data: new Float32Array([-1, 0.5, 1e-30]) },
    ],
    { step: "7" },
  );
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assertEquals(n % 8, 0);
  const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assertEquals(header.trimEnd().length + (n - header.trimEnd().length), n);
  assert(/^\{.*\} *$/.test(header), header);
  assertEquals(JSON.parse(header), {
    __metadata__: { step: "7" },
    w: { dtype: "F32", shape: [2, 2], data_offsets: [0, 16] },
    b: { dtype: "F32", shape: [3], data_offsets: [16, 28] },
  });
  assertEquals(bytes.length, 8 + n + 28);
  const view = new DataView(bytes.buffer, 8 + n);
  assertEquals([0, 1, 2, 3].map((i) => view.getFloat32(4 * i, true)), [1, 2, 3, 4]);
  assertEquals(view.getFloat32(16, true), -1);
  const back = decodeSafetensors(bytes, "x.safetensors");
  assertEquals(back.metadata, { step: "7" });
  assertEquals([...back.tensors.keys()], ["w", "b"]);
  assertEquals(back.tensors.get("b")!.data, new Float32Array([-1, 0.5, 1e-30]));
  assertEquals(back.tensors.get("w")!.shape, [2, 2]);
});

Deno.test("decode: F16 and BF16 widen to float32 exactly; unpadded headers and empty tensors read", () => {
  const text = JSON.stringify({
    h: { dtype: "F16", shape: [6], data_offsets: [0, 12] },
    z: { dtype: "F32", shape: [0, 3], data_offsets: [12, 12] },
    b: { dtype: "BF16", shape: [2, 2], data_offsets: [12, 20] },
    s: { dtype: "F32", shape: [], data_offsets: [20, 24] },
  });
  // Unaligned: the reference reader accepts such headers, so this one does too.
  const header = text.length % 8 ? text : text + " ";
  assert(header.length % 8 !== 0);
  const data = new Uint8Array([
    ...u16(0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x8000),
    ...u16(0x3f80, 0xbf00, 0x4049, 0xff80),
    ...f32(2.5),
  ]);
  const t = decodeSafetensors(file(header, data), "mixed.safetensors").tensors;
  assertEquals([...t.get("h")!.data], [1, -2, 65504, 2 ** -24, Infinity, -0]);
  assertEquals(t.get("h")!.dtype, "F16");
  assertEquals(t.get("z")!.data.length, 0);
  assertEquals([...t.get("b")!.data], [1, -0.5, 3.140625, -Infinity]);
  assertEquals([...t.get("s")!.data], [2.5]);
  assertEquals(t.get("s")!.shape, []);
});

Deno.test("decode refuses what the specification rules out, naming the file and the problem", async (t) => {
  const entry = (o: number[], dtype = "F32", shape = [2]) => ({ dtype, shape, data_offsets: o });
  const two = f32(1, 2);
  const cases: [string, Uint8Array, string][] = [
    ["too short", new Uint8Array(5), "too short"],
    ["header over the limit", file("{}", two, BigInt(MAX_HEADER_BYTES + 1)), "limit"],
    ["header past the end", file("{}", two, 1000n), "runs past the end"],
    ["not JSON", file("{not json", two), "not valid UTF-8 JSON"],
    ["not UTF-8", file('{"ab": 1}').map((b, i) => i === 10 ? 0xff : b), "UTF-8"],
    ["not an object", file("[1, 2]", two), "not a JSON object"],
    [
      "duplicate name",
      file(`{"a": ${JSON.stringify(entry([0, 8]))}, "a": ${JSON.stringify(entry([0, 8]))}}`, two),
      'names "a" twice',
    ],
    ["unknown dtype", file(JSON.stringify({ a: entry([0, 8], "I32") }), two), 'dtype "I32"'],
    [
      "bad shape",
      file(JSON.stringify({ a: { dtype: "F32", shape: [-2], data_offsets: [0, 8] } }), two),
      "not a list of sizes",
    ],
    ["bad offsets", file(JSON.stringify({ a: entry([8, 0]) }), two), "not [begin, end]"],
    [
      "size disagrees with shape",
      file(JSON.stringify({ a: entry([0, 8], "F32", [3]) }), two),
      "needs 12",
    ],
    ["gap", file(JSON.stringify({ a: entry([4, 12]) }), f32(1, 2, 3)), "a gap"],
    [
      "overlap",
      file(JSON.stringify({ a: entry([0, 8]), b: entry([4, 12]) }), f32(1, 2, 3, 4)),
      "an overlap",
    ],
    ["trailing bytes", file(JSON.stringify({ a: entry([0, 8]) }), f32(1, 2, 3)), "4 bytes longer"],
    ["truncated data", file(JSON.stringify({ a: entry([0, 8]) }), f32(1)), "4 bytes shorter"],
    [
      "metadata not strings",
      file(JSON.stringify({ __metadata__: { step: 3 } })),
      '"step" is not a string',
    ],
    [
      "unknown field",
      file(JSON.stringify({ a: { ...entry([0, 8]), extra: 1 } }), two),
      "unknown field",
    ],
  ];
  for (const [name, bytes, problem] of cases) {
    await t.step(name, () => {
      const e = assertThrows(() => decodeSafetensors(bytes, "bad.safetensors"), SafetensorsError);
      assertEquals(e.file, "bad.safetensors");
      assertStringIncludes(e.message, "bad.safetensors: ");
      assertStringIncludes(e.message, problem);
    });
  }
  // The same layouts with the problem removed read, so each case fails for its own reason.
  assertEquals(
    decodeSafetensors(file(JSON.stringify({ a: entry([0, 8]) }), two), "ok").tensors.size,
    1,
  );
});

Deno.test("encode refuses names, sizes and metadata it cannot write faithfully", () => {
  const d = new Float32Array(2);
  assertThrows(
    () => encodeSafetensors([{ name: "a", shape: [3], data: d }]),
    TypeError,
    "2 values",
  );
  assertThrows(
    () =>
      encodeSafetensors([{ name: "a", shape: [2], data: d }, { name: "a", shape: [2], data: d }]),
    TypeError,
    "repeated",
  );
  assertThrows(() => encodeSafetensors([{ name: "__metadata__", shape: [2], data: d }]), TypeError);
  assertThrows(
    () => encodeSafetensors([], { step: 3 as unknown as string }),
    TypeError,
    "not a string",
  );
});

Deno.test("duplicateKey finds a repeated key at any depth, and only a key", () => {
  assertEquals(duplicateKey('{"a": 1, "b": 2}'), null);
  assertEquals(duplicateKey('{"a": 1, "a": 2}'), "a");
  assertEquals(duplicateKey('{"a": {"x": [{"y": 1, "y": 2}]}}'), "a.x.y");
  assertEquals(duplicateKey('{"a": ["a", "a"], "b": {"a": 1}}'), null);
  assertEquals(duplicateKey('{"a\\"b": 1, "a\\u0022b": 2}'), 'a"b');
  assertEquals(duplicateKey('{"a": "{\\"a\\": 1}", "c": 1}'), null);
});
