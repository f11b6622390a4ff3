import { assertAlmostEquals, assertEquals } from "@std/assert";
import { trainingFlops } from "../../bench/ceiling.ts";
import { BENCH_SMALL } from "../../bench/step_time.ts";

Deno.test("trainingFlops counts bench-small's matmuls by hand", () => {
  // Per token and loop: QKV 2*128*384, projection 2*128*128, MLP 2*2*128*256,
  // attention scores and values 2*2*16*128; x 1024 tokens x 8 loops x 3.
  const perTokenLoop = 98_304 + 32_768 + 131_072 + 8_192;
  assertEquals(trainingFlops(BENCH_SMALL, 16), perTokenLoop * 1024 * 8 * 3);
  assertAlmostEquals(trainingFlops(BENCH_SMALL, 16) / 1e9, 6.64, 0.01);
  // Linear in batch and loops.
  assertEquals(
    trainingFlops({ ...BENCH_SMALL, batch: 128, loops: 4 }, 16),
    trainingFlops(BENCH_SMALL, 16),
  );
});
