/**
 * WebAssembly SIMD causal self-attention for short sequences, one kernel
 * each way (ops/attention.ts), over float32 tensors at byte offsets of a
 * wasm memory, assembled by `asm.ts`. Shapes: `qkv [B, T, 3 d]` (queries,
 * keys, values side by side, head `h` at columns `h dh ..` of each),
 * `out` and `dy [B, T, d]` (heads merged), `probs [B, H, T, T]`; `d = H dh`
 * with `dh` a multiple of 4.
 *
 * - `forward(qkv, out, probs, batch, heads, t, scaleBits, scratch)`:
 *   for each (batch, head) pair, `S = scale Q K^T` over keys not after the
 *   query, `P = softmax(S)` (zeros above the diagonal), `out = P V`.
 *   `scratch` holds one row of scores, `t` rounded up to 4 floats.
 * - `backward(dy, qkv, probs, dqkv, batch, heads, t, scaleBits, scratch)`:
 *   `dP = dy V^T`, `dS = scale P (dP - rowsum(P dP))`, `dQ = dS K`,
 *   `dK = dS^T Q`, `dV = P^T dy`, every element of `dqkv` written.
 *   `scratch` holds one pair's `dS`, `t * t` floats.
 *
 * Each (batch, head) pair reads and writes its own columns, so the scores,
 * softmax, products and the heads' split and merge need no other tensor.
 * `scaleBits` is the score scale as float32 bits. The module is assembled
 * per head width `dh`, so one head's row lives in `dh / 4` v128 locals and
 * each product over it is unrolled.
 *
 * @module
 */
import {
  add,
  type Code,
  defineKernel,
  expr,
  type F32,
  f32Const,
  f32Load,
  f32Store,
  fAdd,
  fDiv,
  fMax,
  fMul,
  forLoop,
  forRange,
  fromBits,
  fSub,
  type FunctionBuilder,
  get,
  type I32,
  i32,
  instantiate,
  type KernelExports,
  kernelModule,
  laneSum,
  loadSplat,
  type Local,
  mul,
  set,
  splat,
  sub,
  type V128,
  v128Load,
  v128Store,
  v128Zero,
  vAdd,
  vMul,
  vSub,
} from "./asm.ts";
import { vExp } from "./simd_exp.ts";

/** The kernels' signatures (byte offsets, sizes, the scale's bits), the one declaration of each. */
export const SIMD_ATTENTION_SIGNATURES = {
  /** `out = softmax(scale Q K^T, causal) V` per (batch, head); saves the probabilities. */
  forward: ["qkv", "out", "probs", "batch", "heads", "t", "scaleBits", "scratch"],
  /** `dqkv` from `dy`, the inputs and the saved probabilities. */
  backward: ["dy", "qkv", "probs", "dqkv", "batch", "heads", "t", "scaleBits", "scratch"],
} as const;

type Sizes = { batch: Local<"i32">; heads: Local<"i32">; t: Local<"i32"> };

/**
 * Row strides and each (batch, head) pair's base addresses, shared by both
 * kernels, for heads of `dh` floats: the kernels are assembled per head
 * width, with one head's row held in `dh / 4` v128 locals.
 */
class Pairs {
  /** Bytes per row of `qkv` (3 d floats) and of `out` (d floats). */
  readonly rowBytes: Local<"i32">;
  readonly outBytes: Local<"i32">;
  /** This pair's first query, key, value, output (or `dy`) row, and probabilities. */
  readonly q: Local<"i32">;
  readonly k: Local<"i32">;
  readonly v: Local<"i32">;
  readonly o: Local<"i32">;
  readonly p: Local<"i32">;
  /** `dh / 4` lanes of one head's row, and as many accumulators. */
  readonly row: Local<"v128">[];
  readonly acc: Local<"v128">[];
  readonly #b: Local<"i32">;
  readonly #h: Local<"i32">;
  readonly #sum: Local<"v128">;

  constructor(f: FunctionBuilder, readonly sizes: Sizes, readonly dh: number) {
    [this.rowBytes, this.outBytes] = f.locals("i32", 2);
    [this.q, this.k, this.v, this.o, this.p, this.#b, this.#h] = f.locals("i32", 7);
    this.row = f.locals("v128", dh / 4);
    this.acc = f.locals("v128", dh / 4);
    this.#sum = f.local("v128");
  }

  /** `for` each (batch, head) pair, with the bases set from `qkv`, `out` and `probs`. */
  each(qkv: Local<"i32">, out: Local<"i32">, probs: Local<"i32">, body: Code): Code {
    const { batch, heads, t } = this.sizes;
    const [b, h] = [this.#b, this.#h];
    const headBytes = mul(get(h), i32(4 * this.dh));
    const pair = [
      ...add(add(get(qkv), mul(mul(get(b), get(t)), get(this.rowBytes))), headBytes),
      ...set(this.q),
      ...add(get(this.q), get(this.outBytes)),
      ...set(this.k),
      ...add(get(this.k), get(this.outBytes)),
      ...set(this.v),
      ...add(add(get(out), mul(mul(get(b), get(t)), get(this.outBytes))), headBytes),
      ...set(this.o),
      ...add(
        get(probs),
        mul(mul(add(mul(get(b), get(heads)), get(h)), mul(get(t), get(t))), i32(4)),
      ),
      ...set(this.p),
      ...body,
    ];
    return [
      ...mul(get(heads), i32(4 * this.dh)),
      ...set(this.outBytes),
      ...mul(get(this.outBytes), i32(3)),
      ...set(this.rowBytes),
      ...forLoop(b, batch, forLoop(h, heads, pair)),
    ];
  }

  /** Row `i` of a `qkv` operand based at `base`. */
  qkvRow(base: Local<"i32">, i: Local<"i32">): I32 {
    return add(get(base), mul(get(i), get(this.rowBytes)));
  }

  /** Row `i` of `out` or `dy`. */
  outRow(i: Local<"i32">): I32 {
    return add(get(this.o), mul(get(i), get(this.outBytes)));
  }

  /** Loads one head's row at `addr` into {@linkcode row}. */
  loadRow(addr: I32, into: Local<"v128">[] = this.row): Code {
    return into.flatMap((r, c) => [...v128Load(addr, 16 * c), ...set(r)]);
  }

  /** `row . x` for the head's row at `addr` (a local, read once per lane), as an f32. */
  dot(addr: Local<"i32">): F32 {
    const products = this.row.map((r, c) => vMul(get(r), v128Load(get(addr), 16 * c)));
    const tree = (xs: V128[]): V128 =>
      xs.length === 1
        ? xs[0]
        : vAdd(tree(xs.slice(0, xs.length >> 1)), tree(xs.slice(xs.length >> 1)));
    return expr([...tree(products), ...set(this.#sum), ...laneSum(this.#sum)]);
  }

  /** Sets the accumulators to zero. */
  clear(): Code {
    return this.acc.flatMap((a) => [...v128Zero, ...set(a)]);
  }

  /** `acc += splat(weight) * (the head's row at addr)`, `weight` a local holding the splat. */
  accumulate(weight: Local<"v128">, addr: Local<"i32">): Code {
    return this.acc.flatMap((a, c) => [
      ...vAdd(get(a), vMul(get(weight), v128Load(get(addr), 16 * c))),
      ...set(a),
    ]);
  }

  /** Stores the accumulators at `addr`. */
  store(addr: I32): Code {
    return this.acc.flatMap((a, c) => v128Store(addr, get(a), 16 * c));
  }
}

/** `[i][j]`'s address in a `t x t` block of floats at `base`. */
const at = (base: Local<"i32">, i: Local<"i32">, j: Local<"i32">, t: Local<"i32">): I32 =>
  add(get(base), mul(add(mul(get(i), get(t)), get(j)), i32(4)));

const forwardKernel = (dh: number) =>
  defineKernel("forward", SIMD_ATTENTION_SIGNATURES.forward, (f, a) => {
    const pairs = new Pairs(f, a, dh);
    const [i, j, end, addr, pRow] = f.locals("i32", 5);
    const [scale, top, sum, inv] = f.locals("f32", 4);
    const [weight, r, n] = f.locals("v128", 3);
    const score = (x: Local<"i32">) => add(get(a.scratch), mul(get(x), i32(4)));
    const prob = (x: Local<"i32">) => add(get(pRow), mul(get(x), i32(4)));
    const row = [
      ...add(get(pairs.p), mul(mul(get(i), get(a.t)), i32(4))),
      ...set(pRow),
      ...add(get(i), i32(1)),
      ...set(end),
      // scores of the keys up to i, and their maximum
      ...pairs.loadRow(pairs.qkvRow(pairs.q, i)),
      ...f32Const(-3.4e38),
      ...set(top),
      ...forLoop(j, end, [
        ...pairs.qkvRow(pairs.k, j),
        ...set(addr),
        ...f32Store(score(j), fMul(pairs.dot(addr), get(scale))),
        ...fMax(get(top), f32Load(score(j))),
        ...set(top),
      ]),
      // exp(s - max), four at a time (lanes past i are computed and ignored)
      ...forLoop(
        j,
        end,
        v128Store(
          score(j),
          vExp(vSub(v128Load(score(j)), splat(get(top))), r, n),
        ),
        4,
      ),
      ...f32Const(0),
      ...set(sum),
      ...forLoop(j, end, [...fAdd(get(sum), f32Load(score(j))), ...set(sum)]),
      ...fDiv(f32Const(1), get(sum)),
      ...set(inv),
      ...forLoop(j, end, f32Store(prob(j), fMul(f32Load(score(j)), get(inv)))),
      ...forRange(j, get(end), a.t, f32Store(prob(j), f32Const(0))),
      // out_i = sum_j p_ij v_j
      ...pairs.clear(),
      ...forLoop(j, end, [
        ...loadSplat(prob(j)),
        ...set(weight),
        ...pairs.qkvRow(pairs.v, j),
        ...set(addr),
        ...pairs.accumulate(weight, addr),
      ]),
      ...pairs.store(pairs.outRow(i)),
    ];
    return [
      ...fromBits(get(a.scaleBits)),
      ...set(scale),
      ...pairs.each(a.qkv, a.out, a.probs, forLoop(i, a.t, row)),
    ];
  });

const backwardKernel = (dh: number) =>
  defineKernel("backward", SIMD_ATTENTION_SIGNATURES.backward, (f, a) => {
    const pairs = new Pairs(f, a, dh);
    const [i, j, end, addr, gq, gk, gv] = f.locals("i32", 7);
    const [scale, rowSum] = f.locals("f32", 2);
    const weight = f.local("v128");
    const p = (x: Local<"i32">, y: Local<"i32">) => at(pairs.p, x, y, a.t);
    const ds = (x: Local<"i32">, y: Local<"i32">) => at(a.scratch, x, y, a.t);
    // dS row i: dP_ij = dy_i . v_j, then scale p_ij (dP_ij - sum_j p_ij dP_ij)
    const dsRow = [
      ...add(get(i), i32(1)),
      ...set(end),
      ...pairs.loadRow(pairs.outRow(i)),
      ...f32Const(0),
      ...set(rowSum),
      ...forLoop(j, end, [
        ...pairs.qkvRow(pairs.v, j),
        ...set(addr),
        ...f32Store(ds(i, j), pairs.dot(addr)),
        ...fAdd(get(rowSum), fMul(f32Load(ds(i, j)), f32Load(p(i, j)))),
        ...set(rowSum),
      ]),
      ...forLoop(
        j,
        end,
        f32Store(
          ds(i, j),
          fMul(fMul(f32Load(p(i, j)), fSub(f32Load(ds(i, j)), get(rowSum))), get(scale)),
        ),
      ),
    ];
    // dQ_i = sum_{j <= i} dS_ij k_j
    const dqRow = [
      ...add(get(i), i32(1)),
      ...set(end),
      ...pairs.clear(),
      ...forLoop(j, end, [
        ...loadSplat(ds(i, j)),
        ...set(weight),
        ...pairs.qkvRow(pairs.k, j),
        ...set(addr),
        ...pairs.accumulate(weight, addr),
      ]),
      ...pairs.store(pairs.qkvRow(gq, i)),
    ];
    // dK_j = sum_{i >= j} dS_ij q_i; dV_j = sum_{i >= j} p_ij dy_i
    const columnSum = (w: typeof p, rowOf: (i: Local<"i32">) => I32, into: Local<"i32">) => [
      ...pairs.clear(),
      ...forRange(i, get(j), a.t, [
        ...loadSplat(w(i, j)),
        ...set(weight),
        ...rowOf(i),
        ...set(addr),
        ...pairs.accumulate(weight, addr),
      ]),
      ...pairs.store(pairs.qkvRow(into, j)),
    ];
    const pair = [
      // this pair's columns of dqkv: the same offsets from dqkv as q, k, v from qkv
      ...add(get(a.dqkv), sub(get(pairs.q), get(a.qkv))),
      ...set(gq),
      ...add(get(gq), get(pairs.outBytes)),
      ...set(gk),
      ...add(get(gk), get(pairs.outBytes)),
      ...set(gv),
      ...forLoop(i, a.t, dsRow),
      ...forLoop(i, a.t, dqRow),
      ...forLoop(j, a.t, columnSum(ds, (x) => pairs.qkvRow(pairs.q, x), gk)),
      ...forLoop(j, a.t, columnSum(p, (x) => pairs.outRow(x), gv)),
    ];
    return [
      ...fromBits(get(a.scaleBits)),
      ...set(scale),
      ...pairs.each(a.qkv, a.dy, a.probs, pair),
    ];
  });

/** The module's bytes for heads of `dh` floats (a multiple of 4); `shared` must match the memory it will import. */
export function simdAttentionModule(dh: number, shared: boolean): Uint8Array<ArrayBuffer> {
  if (!(Number.isInteger(dh / 4) && dh > 0)) {
    throw new RangeError(
      `simd attention: the head width must be a positive multiple of 4, got ${dh}`,
    );
  }
  return kernelModule([forwardKernel(dh), backwardKernel(dh)], shared);
}

/** The kernels of one instance, over the memory it was made with (byte offsets). */
export type SimdAttention = KernelExports<typeof SIMD_ATTENTION_SIGNATURES>;

/** Instantiates the kernels for heads of `dh` floats over `memory`. */
export function simdAttention(memory: WebAssembly.Memory, dh: number): SimdAttention {
  return instantiate<SimdAttention>(
    memory,
    (shared) => new WebAssembly.Module(simdAttentionModule(dh, shared)),
  );
}
