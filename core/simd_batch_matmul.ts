/**
 * A WebAssembly SIMD kernel for batched matrix products of small matrices,
 * `C[g] = A[g] B[g]` (row-major float32), run directly on tfjs's wasm heap.
 *
 * tfjs-wasm sends every product with a batch dimension (attention's
 * `[B*H, T, dh] x [B*H, dh, T]` and friends) to a scalar fallback that runs at
 * about 2 GFLOP/s; its fast XNNPACK path is for single matrices only. This
 * kernel keeps four 4-lane accumulators per output row (16 columns at a
 * time), then 4 columns, then one, each summed over `k` in order.
 *
 * The module is assembled here, byte by byte, so the repository holds its
 * source rather than a binary: one exported function
 * `bmm(a, b, c, batch, m, k, n)` over byte offsets into an imported memory.
 *
 * @module
 */

// Opcodes (WebAssembly core and SIMD specifications).
const OP = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  f32Load: 0x2a,
  f32Store: 0x38,
  i32Const: 0x41,
  f32Const: 0x43,
  i32Eqz: 0x45,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Mul: 0x6c,
  f32Add: 0x92,
  f32Mul: 0x94,
  simd: 0xfd,
} as const;
const SIMD = { load: 0x00, store: 0x0b, f32x4Splat: 0x13, f32x4Add: 0xe4, f32x4Mul: 0xe6 };
const TYPE = { i32: 0x7f, f32: 0x7d, v128: 0x7b, func: 0x60, void: 0x40 };

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (for i32.const). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => vec([...new TextEncoder().encode(s)].map((b) => [b]));

// Locals: the seven parameters, then the loop state.
const [A, B, C, BATCH, M, K, N] = [0, 1, 2, 3, 4, 5, 6];
const [G, I, J, KK, P, Q, AROW, CROW, BMAT, ROWA, ROWB, ROWC] = [
  7,
  8,
  9,
  10,
  11,
  12,
  13,
  14,
  15,
  16,
  17,
  18,
];
const ACC = [19, 20, 21, 22]; // v128
const SPLAT = 23; // v128: A[i, k] in all four lanes
const SUM = 24; // f32
const LOCALS = [[12, TYPE.i32], [5, TYPE.v128], [1, TYPE.f32]];

const get = (i: number) => [OP.localGet, ...uleb(i)];
const set = (i: number) => [OP.localSet, ...uleb(i)];
const i32 = (n: number) => [OP.i32Const, ...sleb(n)];
const add = (x: number[], y: number[]) => [...x, ...y, OP.i32Add];
const mul = (x: number[], y: number[]) => [...x, ...y, OP.i32Mul];
const inc = (i: number, by: number[]) => [...add(get(i), by), ...set(i)];
const simd = (op: number, ...imm: number[]) => [OP.simd, ...uleb(op), ...imm];
const memarg = (offset: number) => [0, ...uleb(offset)]; // align hint 1 byte: always valid

/** `while (cond) body`, with `cond` an i32 expression. */
function whileLoop(cond: number[], body: number[]): number[] {
  return [
    OP.block,
    TYPE.void,
    OP.loop,
    TYPE.void,
    ...cond,
    OP.i32Eqz,
    OP.brIf,
    1,
    ...body,
    OP.br,
    0,
    OP.end,
    OP.end,
  ];
}

/** `i < limit` for locals `i` and `limit`, as an i32 condition (unsigned). */
const below = (i: number, limit: number) => [...get(i), ...get(limit), OP.i32GeU, OP.i32Eqz];

/** `j + width <= n`, as an i32 condition. */
const fits = (width: number) => [...get(N), ...add(get(J), i32(width)), OP.i32GeU];

/**
 * One block of `lanes * 4` output columns of row `i` (lanes 4 or 1):
 * `acc[l] += splat(A[i, k]) * B[k, j + 4l .. j + 4l + 3]` over `k`, then store.
 */
function vectorBlock(lanes: number): number[] {
  const zero = [OP.f32Const, 0, 0, 0, 0, ...simd(SIMD.f32x4Splat)];
  const body: number[] = [];
  for (let l = 0; l < lanes; l++) body.push(...zero, ...set(ACC[l]));
  body.push(
    ...get(AROW),
    ...set(P),
    ...add(get(BMAT), mul(get(J), i32(4))),
    ...set(Q),
    ...i32(0),
    ...set(KK),
  );
  const step = [...get(P), OP.f32Load, ...memarg(0), ...simd(SIMD.f32x4Splat), ...set(SPLAT)];
  for (let l = 0; l < lanes; l++) {
    step.push(
      ...get(ACC[l]),
      ...get(SPLAT),
      ...get(Q),
      ...simd(SIMD.load, ...memarg(16 * l)),
      ...simd(SIMD.f32x4Mul),
      ...simd(SIMD.f32x4Add),
      ...set(ACC[l]),
    );
  }
  step.push(...inc(P, i32(4)), ...inc(Q, get(ROWB)), ...inc(KK, i32(1)));
  body.push(...whileLoop(below(KK, K), step));
  const out = add(get(CROW), mul(get(J), i32(4)));
  for (let l = 0; l < lanes; l++) {
    body.push(...out, ...get(ACC[l]), ...simd(SIMD.store, ...memarg(16 * l)));
  }
  body.push(...inc(J, i32(4 * lanes)));
  return whileLoop(fits(4 * lanes), body);
}

/** The last `n mod 4` columns of row `i`, one at a time. */
function scalarTail(): number[] {
  const body = [
    OP.f32Const,
    0,
    0,
    0,
    0,
    ...set(SUM),
    ...get(AROW),
    ...set(P),
    ...add(get(BMAT), mul(get(J), i32(4))),
    ...set(Q),
    ...i32(0),
    ...set(KK),
    ...whileLoop(below(KK, K), [
      ...get(SUM),
      ...get(P),
      OP.f32Load,
      ...memarg(0),
      ...get(Q),
      OP.f32Load,
      ...memarg(0),
      OP.f32Mul,
      OP.f32Add,
      ...set(SUM),
      ...inc(P, i32(4)),
      ...inc(Q, get(ROWB)),
      ...inc(KK, i32(1)),
    ]),
    ...add(get(CROW), mul(get(J), i32(4))),
    ...get(SUM),
    OP.f32Store,
    ...memarg(0),
    ...inc(J, i32(1)),
  ];
  return whileLoop(fits(1), body);
}

function bmmBody(): number[] {
  const row = [
    ...add(get(A), mul(add(mul(get(G), get(M)), get(I)), get(ROWA))),
    ...set(AROW),
    ...add(get(C), mul(add(mul(get(G), get(M)), get(I)), get(ROWC))),
    ...set(CROW),
    ...i32(0),
    ...set(J),
    ...vectorBlock(4),
    ...vectorBlock(1),
    ...scalarTail(),
    ...inc(I, i32(1)),
  ];
  const matrix = [
    ...add(get(B), mul(mul(get(G), get(K)), get(ROWB))),
    ...set(BMAT),
    ...i32(0),
    ...set(I),
    ...whileLoop(below(I, M), row),
    ...inc(G, i32(1)),
  ];
  const code = [
    ...mul(get(K), i32(4)),
    ...set(ROWA),
    ...mul(get(N), i32(4)),
    ...set(ROWB),
    ...mul(get(N), i32(4)),
    ...set(ROWC),
    ...i32(0),
    ...set(G),
    ...whileLoop(below(G, BATCH), matrix),
    OP.end,
  ];
  const body = [...vec(LOCALS.map(([count, type]) => [...uleb(count), type])), ...code];
  return [...uleb(body.length), ...body];
}

/** The module's bytes; `shared` must match the memory it will import. */
export function simdBatchMatMulModule(shared: boolean): Uint8Array<ArrayBuffer> {
  const limits = shared ? [0x03, ...uleb(1), ...uleb(65536)] : [0x00, ...uleb(1)];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec([[TYPE.func, ...vec(Array(7).fill([TYPE.i32])), ...vec([])]])),
    ...section(2, vec([[...name("env"), ...name("memory"), 0x02, ...limits]])),
    ...section(3, vec([uleb(0)])),
    ...section(7, vec([[...name("bmm"), 0x00, ...uleb(0)]])),
    ...section(10, vec([bmmBody()])),
  ]);
}

/**
 * `bmm(a, b, c, batch, m, k, n)`: writes `C[g] = A[g] B[g]` for `g < batch`,
 * with `A` `[batch, m, k]`, `B` `[batch, k, n]` and `C` `[batch, m, n]`
 * float32 row-major at byte offsets `a`, `b`, `c` of `memory`.
 */
export type BatchMatMulFn = (
  a: number,
  b: number,
  c: number,
  batch: number,
  m: number,
  k: number,
  n: number,
) => void;

/** Instantiates the kernel over `memory` (tfjs-wasm's heap, or any other). */
export function simdBatchMatMul(memory: WebAssembly.Memory): BatchMatMulFn {
  const shared = typeof SharedArrayBuffer !== "undefined" &&
    memory.buffer instanceof SharedArrayBuffer;
  const module = new WebAssembly.Module(simdBatchMatMulModule(shared));
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports.bmm as BatchMatMulFn;
}
