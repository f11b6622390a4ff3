/**
 * The loop-sampler registry: a sampler added from outside (one object)
 * validates, draws, has a pmf and a description, and a run's config accepts
 * its kind; a kind is registered once.
 */
import { assertEquals, assertThrows } from "@std/assert";
import {
  describeLoopSpec,
  expectedLoops,
  LOOP_KINDS,
  loopPmf,
  type LoopSampler,
  loopSpecFromKeys,
  registerLoopSampler,
  sampleLoops,
  validateLoopSpec,
} from "../../regularizers/loop_sampler.ts";
import { FIXED } from "../../regularizers/samplers/fixed.ts";
import { resolveConfig } from "../../train/config.ts";
import { loopSpecOf } from "../../train/data.ts";

/** Loop counts alternating between two values by the step's generator. */
interface TwoPointLoops {
  readonly kind: "two_point";
  readonly min: number;
  readonly max: number;
}

const TWO_POINT: LoopSampler<TwoPointLoops> = {
  kind: "two_point",
  required: ["min", "max"],
  optional: [],
  check: (c) => c.range(),
  draw: (spec, rng) => {
    const total = rng.next() < 0.5 ? spec.min : spec.max;
    return { total, noGrad: 0, withGrad: total };
  },
  pmf: (spec) => {
    const pmf = new Array<number>(spec.max + 1).fill(0);
    pmf[spec.min] += 0.5;
    pmf[spec.max] += 0.5;
    return pmf;
  },
  describe: (spec, mean) => `N = ${spec.min} or ${spec.max}, ${mean}`,
  fromKeys: (k) => ({ kind: "two_point", min: k.loop_min, max: k.loop_max }),
};

Deno.test("loop samplers: a registered sampler works through every function and the config", () => {
  registerLoopSampler(TWO_POINT);
  assertEquals(LOOP_KINDS.includes("two_point" as never), true);
  // deno-lint-ignore no-explicit-any
  const spec = { kind: "two_point", min: 2, max: 6 } as any;
  validateLoopSpec(spec);
  const draws = new Set(Array.from({ length: 40 }, (_, s) => sampleLoops(spec, 1, s).total));
  assertEquals([...draws].sort(), [2, 6]);
  assertEquals(loopPmf(spec)[6], 0.5);
  assertEquals(expectedLoops(spec), 4); // from the pmf: the sampler has no closed form
  assertEquals(describeLoopSpec(spec), "N = 2 or 6, E[N] ≈ 4");
  // Its own range check, with the registry's message.
  assertThrows(
    () => validateLoopSpec({ ...spec, min: 7 }),
    RangeError,
    "loops.min must be <= loops.max",
  );
  assertThrows(() => validateLoopSpec({ ...spec, lambda: 1 }), TypeError, "not a key of kind");
  // A run's config takes the kind and reads its keys.
  // deno-lint-ignore no-explicit-any
  const config = resolveConfig({ loop_sampler: "two_point" as any, loop_min: 3, loop_max: 5 });
  assertEquals(loopSpecOf(config), { kind: "two_point", min: 3, max: 5 } as never);
  assertEquals(loopSpecFromKeys("two_point", config), loopSpecOf(config));
});

Deno.test("loop samplers: a kind is registered once, and an unknown one is named", () => {
  assertThrows(() => registerLoopSampler(FIXED), Error, `"fixed" is already registered`);
  assertThrows(
    () => loopSpecFromKeys("geometric", resolveConfig({})),
    TypeError,
    `loop sampler must be one of "fixed", "lognormal"`,
  );
});
