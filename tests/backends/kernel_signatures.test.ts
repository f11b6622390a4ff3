/**
 * Each wasm kernel's signature is declared once, in its table, and the
 * JavaScript side's type comes from it: a call with the wrong number of
 * arguments does not type-check (the `@ts-expect-error` lines below fail
 * the test run's type check if it ever does), and neither does an integer
 * expression where four float lanes belong; the module exports
 * exactly the table's functions with its parameter counts.
 */
import { assertEquals } from "@std/assert";
import { SIMD_GELU_SIGNATURES, simdGelu } from "../../backends/wasm/simd_gelu.ts";
import { SIMD_LAYER_NORM_SIGNATURES, simdLayerNorm } from "../../backends/wasm/simd_layer_norm.ts";
import { SIMD_ADAMW_SIGNATURES, simdAdamW } from "../../backends/wasm/simd_adamw.ts";
import { SIMD_MATMUL_SIGNATURES, simdMatMul } from "../../backends/wasm/simd_matmul.ts";
import { WASM_COPY_SIGNATURES, wasmCopy } from "../../backends/wasm/copy.ts";
import { add, FunctionBuilder, get, i32, v128Load, vAdd, vConst } from "../../backends/wasm/asm.ts";

Deno.test("kernel signatures: each module exports its table's functions with their arity", () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const modules: [Record<string, readonly string[]>, Record<string, unknown>][] = [
    [SIMD_GELU_SIGNATURES, simdGelu(memory)],
    [SIMD_LAYER_NORM_SIGNATURES, simdLayerNorm(memory)],
    [SIMD_ADAMW_SIGNATURES, simdAdamW(memory)],
    [SIMD_MATMUL_SIGNATURES, simdMatMul(memory)],
    [WASM_COPY_SIGNATURES, wasmCopy(memory)],
  ];
  for (const [table, exports] of modules) {
    assertEquals(Object.keys(exports).sort(), Object.keys(table).sort());
    for (const [name, params] of Object.entries(table)) {
      assertEquals((exports[name] as (...a: number[]) => void).length, params.length, name);
    }
  }
});

Deno.test("kernel signatures: a call with the wrong arity is a type error", () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const gelu = simdGelu(memory);
  gelu.forward(0, 16, 4);
  // @ts-expect-error forward takes x, y and count
  const tooFew = () => gelu.forward(0, 16);
  // @ts-expect-error bmmT takes 7 arguments, not bmm's 9
  const tooMany = () => simdMatMul(memory).bmmT(0, 0, 0, 1, 1, 1, 1, 4, 4);
  assertEquals([typeof tooFew, typeof tooMany], ["function", "function"]);
});

Deno.test("assembler expressions are typed: lanes, integers and locals do not mix", () => {
  const f = new FunctionBuilder(1);
  const [lanes] = f.locals("v128", 1);
  const [index] = f.locals("i32", 1);
  const ok = vAdd(v128Load(add(get(index), i32(16))), get(lanes));
  // @ts-expect-error an i32 expression is not four lanes
  const wrong = () => vAdd(i32(1), vConst(2));
  // @ts-expect-error a v128 local is not an address
  const badAddress = () => v128Load(get(lanes));
  assertEquals([ok.length > 0, typeof wrong, typeof badAddress], [true, "function", "function"]);
});
