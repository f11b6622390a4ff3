/**
 * A tiny WebAssembly assembler: just enough of the binary format (integer
 * loops, float32 loads and stores, 128-bit SIMD multiply and add) to write
 * the toolkit's matmul kernels as readable TypeScript that emits bytes, so
 * the repository holds their source rather than a binary.
 *
 * Expressions are arrays of bytes, composed by concatenation in stack-machine
 * order, typed by the value they leave ({@linkcode Expr}: `i32`, `f32` or
 * `v128`), so an integer where lanes belong is a type error; locals are
 * numbered and typed by {@linkcode FunctionBuilder}.
 *
 * @module
 */

/** Opcodes used by the kernels (WebAssembly core specification). */
export const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  select: 0x1b,
  localGet: 0x20,
  localSet: 0x21,
  f32Load: 0x2a,
  f32Store: 0x38,
  i32Const: 0x41,
  f32Const: 0x43,
  i32Eqz: 0x45,
  i32LtU: 0x49,
  i32LeU: 0x4d,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32And: 0x71,
  i32Mul: 0x6c,
  f32Sqrt: 0x91,
  f32Add: 0x92,
  f32Sub: 0x93,
  f32Mul: 0x94,
  f32Div: 0x95,
  f32Max: 0x97,
  f32ConvertI32U: 0xb3,
  f32ReinterpretI32: 0xbe,
  miscPrefix: 0xfc,
  simdPrefix: 0xfd,
} as const;

/** Value and block types. */
export const TYPE = { i32: 0x7f, f32: 0x7d, v128: 0x7b, func: 0x60, void: 0x40 } as const;

/** SIMD opcodes (after the 0xfd prefix; WebAssembly SIMD specification). */
const SIMD = {
  load: 0x00,
  load32Splat: 0x09,
  store: 0x0b,
  i32x4Splat: 0x11,
  f32x4Splat: 0x13,
  f32x4ExtractLane: 0x1f,
  f32x4Ge: 0x46,
  v128Bitselect: 0x52,
  f32x4Nearest: 0x6a,
  i32x4Shl: 0xab,
  i32x4Add: 0xae,
  f32x4Abs: 0xe0,
  f32x4Sqrt: 0xe3,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  f32x4Max: 0xe9,
  i32x4TruncSatF32x4S: 0xf8,
  f32x4RelaxedMadd: 0x105,
};

declare const VALUE: unique symbol;
/** The WebAssembly value types the kernels use. */
export type ValueType = "i32" | "f32" | "v128";
/** Code that leaves one value of type `T` on the stack: an expression. */
export type Expr<T extends ValueType> = number[] & { readonly [VALUE]: T };
/** An i32 expression (addresses, counts). */
export type I32 = Expr<"i32">;
/** An f32 expression. */
export type F32 = Expr<"f32">;
/** A v128 expression (four float32 lanes). */
export type V128 = Expr<"v128">;
/** Code that leaves nothing on the stack (statements); an expression's bytes are code too. */
export type Code = readonly number[];
/** A local variable of type `T`: its index, typed. */
export type Local<T extends ValueType> = number & { readonly [VALUE]: T };

/** Bytes known to leave one `T`: the one place an expression's type is asserted. */
export const expr = <T extends ValueType>(bytes: readonly number[]): Expr<T> =>
  bytes as number[] as Expr<T>;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (the immediate of `i32.const`). */
export function sleb(n: number): number[] {
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
// Alignment hint 2^0: valid for every access; the offset is a byte constant.
const memarg = (offset: number): number[] => [0, ...uleb(offset)];

/** `local.get i`. */
export const get = <T extends ValueType>(i: Local<T>): Expr<T> => expr([OP.localGet, ...uleb(i)]);
/** `local.set i` (pops the value to store). */
export const set = <T extends ValueType>(i: Local<T>): Code => [OP.localSet, ...uleb(i)];
/** `i32.const n`. */
export const i32 = (n: number): I32 => expr([OP.i32Const, ...sleb(n)]);
/** `x + y` (i32). */
export const add = (x: I32, y: I32): I32 => expr([...x, ...y, OP.i32Add]);
/** `x - y` (i32). */
export const sub = (x: I32, y: I32): I32 => expr([...x, ...y, OP.i32Sub]);
/** `x * y` (i32). */
export const mul = (x: I32, y: I32): I32 => expr([...x, ...y, OP.i32Mul]);
/** `x >= y` (i32, unsigned): 1 or 0. */
export const geU = (x: I32, y: I32): I32 => expr([...x, ...y, OP.i32GeU]);
/** `x < y` (i32, unsigned): 1 or 0. */
export const ltU = (x: I32, y: I32): I32 => expr([...x, ...y, OP.i32LtU]);
/** `local i += by` (i32). */
export const inc = (i: Local<"i32">, by: I32): Code => [...add(get(i), by), ...set(i)];
/** `i < limit` for two i32 locals, unsigned. */
export const below = (i: Local<"i32">, limit: Local<"i32">): I32 =>
  expr([...get(i), ...get(limit), OP.i32GeU, OP.i32Eqz]);
/** `memory.copy(dst, src, bytes)` (bulk memory): a memmove within the memory. */
export const memoryCopy = (dst: I32, src: I32, bytes: I32): Code => [
  ...dst,
  ...src,
  ...bytes,
  OP.miscPrefix,
  0x0a,
  0x00,
  0x00,
];
/** `min(x, y)`, unsigned (each expression is evaluated twice: keep them simple). */
export const minU = (x: I32, y: I32): I32 => expr([...x, ...y, ...x, ...y, OP.i32LeU, OP.select]);
/** `f32.const c` (rounded to float32). */
export const f32Const = (c: number): F32 =>
  expr([OP.f32Const, ...new Uint8Array(new Float32Array([c]).buffer)]);
/** `f32.const 0`. */
export const f32Zero: F32 = f32Const(0);
/** The float32 at byte address `addr + offset`. */
export const f32Load = (addr: I32, offset = 0): F32 =>
  expr([...addr, OP.f32Load, ...memarg(offset)]);
/** Stores a float32 `value` at `addr`. */
export const f32Store = (addr: I32, value: F32): Code => [
  ...addr,
  ...value,
  OP.f32Store,
  ...memarg(0),
];
/** `x + y` (f32). */
export const fAdd = (x: F32, y: F32): F32 => expr([...x, ...y, OP.f32Add]);
/** `x - y` (f32). */
export const fSub = (x: F32, y: F32): F32 => expr([...x, ...y, OP.f32Sub]);
/** `x * y` (f32). */
export const fMul = (x: F32, y: F32): F32 => expr([...x, ...y, OP.f32Mul]);
/** `x / y` (f32). */
export const fDiv = (x: F32, y: F32): F32 => expr([...x, ...y, OP.f32Div]);
/** `max(x, y)` (f32). */
export const fMax = (x: F32, y: F32): F32 => expr([...x, ...y, OP.f32Max]);
/** The float32 whose bits are the i32 `bits` (how a kernel takes a float argument). */
export const fromBits = (bits: I32): F32 => expr([...bits, OP.f32ReinterpretI32]);
/** `x * y + z` in float32 (two roundings, as wasm has no fused form in its base SIMD). */
export const f32MulAdd = (x: F32, y: F32, z: F32): F32 =>
  expr([...z, ...x, ...y, OP.f32Mul, OP.f32Add]);

const simd = (op: number, ...imm: number[]): number[] => [OP.simdPrefix, ...uleb(op), ...imm];
/** A float32 scalar expression broadcast to four lanes. */
export const splat = (x: F32): V128 => expr([...x, ...simd(SIMD.f32x4Splat)]);
/** Four float32 lanes, all 0. */
export const v128Zero: V128 = splat(f32Zero);
/** The four float32 at byte address `addr + offset`. */
export const v128Load = (addr: I32, offset = 0): V128 =>
  expr([...addr, ...simd(SIMD.load, ...memarg(offset))]);
/** The float32 at byte address `addr + offset` in all four lanes (one instruction, not load then splat). */
export const loadSplat = (addr: I32, offset = 0): V128 =>
  expr([...addr, ...simd(SIMD.load32Splat, ...memarg(offset))]);
/** Stores four lanes `value` at `addr + offset`. */
export const v128Store = (addr: I32, value: V128, offset = 0): Code => [
  ...addr,
  ...value,
  ...simd(SIMD.store, ...memarg(offset)),
];
/**
 * `acc += x * y`, lane by lane, for a v128 local `acc`: with `fused`, one
 * relaxed-SIMD multiply-add (a fused multiply-add where the CPU has one;
 * WebAssembly relaxed SIMD), else a multiply then an add.
 */
export const accumulate = (acc: Local<"v128">, x: V128, y: V128, fused: boolean): Code =>
  fused
    ? [...x, ...y, ...get(acc), ...simd(SIMD.f32x4RelaxedMadd), ...set(acc)]
    : [...get(acc), ...x, ...y, ...simd(SIMD.f32x4Mul), ...simd(SIMD.f32x4Add), ...set(acc)];

/** The square root of each lane (float32, correctly rounded). */
export const vSqrt = (x: V128): V128 => expr([...x, ...simd(SIMD.f32x4Sqrt)]);
/** `x + y`, lane by lane (float32). */
export const vAdd = (x: V128, y: V128): V128 => expr([...x, ...y, ...simd(SIMD.f32x4Add)]);
/** `x - y`, lane by lane (float32). */
export const vSub = (x: V128, y: V128): V128 => expr([...x, ...y, ...simd(SIMD.f32x4Sub)]);
/** `x * y`, lane by lane (float32). */
export const vMul = (x: V128, y: V128): V128 => expr([...x, ...y, ...simd(SIMD.f32x4Mul)]);
/** `x / y`, lane by lane (float32). */
export const vDiv = (x: V128, y: V128): V128 => expr([...x, ...y, ...simd(SIMD.f32x4Div)]);
/** `max(x, y)`, lane by lane (float32). */
export const vMax = (x: V128, y: V128): V128 => expr([...x, ...y, ...simd(SIMD.f32x4Max)]);
/** `|x|`, lane by lane (float32). */
export const vAbs = (x: V128): V128 => expr([...x, ...simd(SIMD.f32x4Abs)]);
/** `x` rounded to the nearest integer (ties to even), lane by lane, still float32. */
export const vNearest = (x: V128): V128 => expr([...x, ...simd(SIMD.f32x4Nearest)]);
/** All-ones lanes where `x >= y` (float32 compare), zeros elsewhere. */
export const vGe = (x: V128, y: V128): V128 => expr([...x, ...y, ...simd(SIMD.f32x4Ge)]);
/** Lanes of `x` where `mask` is all ones, of `y` where it is zero. */
export const vSelect = (mask: V128, x: V128, y: V128): V128 =>
  expr([...x, ...y, ...mask, ...simd(SIMD.v128Bitselect)]);
/** `c` in all four float32 lanes. */
export const vConst = (c: number): V128 => splat(f32Const(c));
/**
 * `2^n` for float32 lanes `n` holding integers in [-126, 127]: the exponent
 * bits `(n + 127) << 23`.
 */
export const vExp2Int = (n: V128): V128 =>
  expr([
    ...n,
    ...simd(SIMD.i32x4TruncSatF32x4S),
    ...i32(127),
    ...simd(SIMD.i32x4Splat),
    ...simd(SIMD.i32x4Add),
    ...i32(23),
    ...simd(SIMD.i32x4Shl),
  ]);
/** The sum of the four float32 lanes of the v128 local `v`. */
export function laneSum(v: Local<"v128">): F32 {
  const lane = (i: number) => [...get(v), ...simd(SIMD.f32x4ExtractLane, i)];
  return expr([...lane(0), ...lane(1), OP.f32Add, ...lane(2), OP.f32Add, ...lane(3), OP.f32Add]);
}

/** `while (cond) body`, with `cond` an i32 expression. */
export function whileLoop(cond: I32, body: Code): Code {
  const breakIfDone = [...cond, OP.i32Eqz, OP.brIf, 1];
  return [
    OP.block,
    TYPE.void,
    OP.loop,
    TYPE.void,
    ...breakIfDone,
    ...body,
    OP.br,
    0,
    OP.end,
    OP.end,
  ];
}

/** `if (cond) body`, with `cond` an i32 expression. */
export function when(cond: I32, body: Code): Code {
  return [...cond, OP.if, TYPE.void, ...body, OP.end];
}

/** `for (counter = 0; counter < limit; counter += step) body`, for i32 locals `counter`, `limit`. */
export function forLoop(
  counter: Local<"i32">,
  limit: Local<"i32">,
  body: Code,
  step = 1,
): Code {
  return [
    ...i32(0),
    ...set(counter),
    ...whileLoop(below(counter, limit), [...body, ...inc(counter, i32(step))]),
  ];
}

/** `for (counter = start; counter < limit; counter += step) body`, for i32 locals `counter`, `limit`. */
export function forRange(
  counter: Local<"i32">,
  start: I32,
  limit: Local<"i32">,
  body: Code,
  step = 1,
): Code {
  return [
    ...start,
    ...set(counter),
    ...whileLoop(below(counter, limit), [...body, ...inc(counter, i32(step))]),
  ];
}

/** Numbers a function's i32 parameters and declares its locals. */
export class FunctionBuilder {
  #next: number;
  #locals: number[] = [];

  /** A function of `params` i32 parameters (locals 0 .. params-1), returning nothing. */
  constructor(readonly params: number) {
    this.#next = params;
  }

  /** Declares a local of `type` and returns it. */
  local<T extends ValueType>(type: T): Local<T> {
    this.#locals.push(TYPE[type]);
    return this.#next++ as Local<T>;
  }

  /** Declares `count` locals of `type` and returns them. */
  locals<T extends ValueType>(type: T, count: number): Local<T>[] {
    return Array.from({ length: count }, () => this.local(type));
  }

  /** The function's code-section entry for body `code`. */
  encode(code: Code): number[] {
    const body = [...vec(this.#locals.map((t) => [...uleb(1), t])), ...code, OP.end];
    return [...uleb(body.length), ...body];
  }
}

/** A kernel's parameter names, in order: the one declaration of its signature (each an i32). */
export type Signature = readonly string[];

/** One number per parameter of a signature. */
export type NumberArgs<P extends readonly unknown[]> = { -readonly [I in keyof P]: number };

/**
 * The JavaScript side of a module built from a table of signatures: one
 * function per entry taking exactly its parameters, so a call with the
 * wrong number of arguments is a type error, not corrupted memory.
 */
export type KernelExports<T extends { readonly [name: string]: Signature }> = {
  readonly [N in keyof T]: (...args: NumberArgs<T[N]>) => void;
};

/** The local indices of a signature's parameters, by name. */
export type ParamLocals<S extends Signature> = { readonly [K in S[number]]: Local<"i32"> };

/**
 * The kernel `name` of `signature`: `build` gets the function's builder and
 * its parameters' locals by name, and returns the body's code.
 */
export function defineKernel<S extends Signature>(
  name: string,
  signature: S,
  build: (f: FunctionBuilder, params: ParamLocals<S>) => Code,
): KernelFunction {
  const f = new FunctionBuilder(signature.length);
  const params = Object.fromEntries(signature.map((p, i) => [p, i])) as ParamLocals<S>;
  return { name, params: signature.length, body: f.encode(build(f, params)) };
}

/** One exported function of a module: its name, parameter count and encoded body. */
export interface KernelFunction {
  /** Export name. */
  name: string;
  /** Number of i32 parameters. */
  params: number;
  /** The code-section entry, from {@linkcode FunctionBuilder.encode}. */
  body: number[];
}

/**
 * A module importing `env.memory` (shared, with up to 4 GiB, when `shared`;
 * the import must match the memory given at instantiation) and exporting
 * `functions`, each `(i32, ...) -> ()`.
 */
export function kernelModule(
  functions: KernelFunction[],
  shared: boolean,
): Uint8Array<ArrayBuffer> {
  const limits = shared ? [0x03, ...uleb(1), ...uleb(65536)] : [0x00, ...uleb(1)];
  const types = functions.map((f) => [TYPE.func, ...vec(Array(f.params).fill([TYPE.i32])), 0]);
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d], // "\0asm"
    ...[0x01, 0x00, 0x00, 0x00], // version 1
    ...section(1, vec(types)),
    ...section(2, vec([[...name("env"), ...name("memory"), 0x02, ...limits]])),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(functions.map((f) => f.body))),
  ]);
}

let relaxed: boolean | undefined;

/**
 * Whether the runtime takes relaxed SIMD's fused multiply-add: validates a
 * one-instruction module (so a kernel that then fails to compile is a bug,
 * reported as an error, not a missing feature).
 */
export function hasRelaxedSimd(): boolean {
  if (relaxed === undefined) {
    const f = new FunctionBuilder(0);
    const acc = f.local("v128");
    const probe = {
      name: "probe",
      params: 0,
      body: f.encode(accumulate(acc, v128Zero, v128Zero, true)),
    };
    relaxed = WebAssembly.validate(kernelModule([probe], false));
  }
  return relaxed;
}

/** Whether `memory` is shared (the threaded tfjs-wasm build's heap is). */
export function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
}

/**
 * Instantiates the module `compile(shared)` over `memory` (with `shared`
 * matching it) and returns its exports as `T`.
 */
export function instantiate<T>(
  memory: WebAssembly.Memory,
  compile: (shared: boolean) => WebAssembly.Module,
): T {
  return new WebAssembly.Instance(compile(isShared(memory)), { env: { memory } })
    .exports as unknown as T;
}
