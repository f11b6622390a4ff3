/**
 * The task and penalty registries: an entry added from outside is taken by
 * a run's config (`task`, `reg_kind`) and used; names are registered once;
 * an unknown name is an error listing the registered ones.
 */
import * as tf from "@tensorflow/tfjs";
import { assertEquals, assertThrows } from "@std/assert";
import type { PenaltyCompute } from "../../regularizers/jacobian_penalty.ts";
import { penaltyKind, registerPenalty } from "../../regularizers/penalties.ts";
import { penaltyFromOptions } from "../../regularizers/penalty_options.ts";
import { arithmeticTask } from "../../tasks/arithmetic_task.ts";
import { registerTask, TASK_NAMES, taskFromKeys } from "../../tasks/registry.ts";
import { ConfigError, resolveConfig } from "../../train/config.ts";
import { taskOf } from "../../train/data.ts";
import { trainingMemory } from "../../train/memory.ts";
import { modelConfigOf } from "../../train/data.ts";

Deno.test("task registry: a registered task is what a config's task key builds", () => {
  registerTask({
    name: "addition-2",
    description: "two-digit addition",
    build: (k) => arithmeticTask({ digits: 2, reverse: k.reverse ?? true }),
  });
  assertEquals(TASK_NAMES.slice(0, 4), ["addition", "multiplication", "gsm8k-synthetic", "chain"]);
  // deno-lint-ignore no-explicit-any
  const config = resolveConfig({ task: "addition-2" as any, reverse: false });
  const task = taskOf(config);
  assertEquals(task.seqLen, arithmeticTask({ digits: 2, reverse: false }).seqLen);
  assertEquals(
    task.sample("test", 3, 2),
    arithmeticTask({ digits: 2, reverse: false }).sample("test", 3, 2),
  );
  assertThrows(() => registerTask({ ...penaltyLess, name: "chain" }), Error, "already registered");
  assertThrows(() => taskFromKeys({ task: "sorting" }), RangeError, "task must be one of addition");
});

Deno.test("task registry: a task's own check runs when a config of that task resolves", () => {
  registerTask({
    name: "addition-even",
    description: "addition with an even digit count",
    keys: { digits: { type: "int", help: "digits", min: 1, max: 9 } },
    check: (k) => {
      if (k.digits % 2) throw new ConfigError(`config key "digits" must be even, got ${k.digits}`);
    },
    build: (k) => arithmeticTask({ digits: k.digits ?? 4 }),
  });
  // deno-lint-ignore no-explicit-any
  const even = (digits: number) => resolveConfig({ task: "addition-even" as any, digits });
  assertEquals(even(2).digits, 2);
  assertThrows(() => even(3), ConfigError, '"digits" must be even, got 3');
  // Another task's rule is not checked, and data needs a task that reads a file.
  assertEquals(resolveConfig({ digits: 3 }).digits, 3);
  assertThrows(
    // deno-lint-ignore no-explicit-any
    () => resolveConfig({ task: "addition-even" as any, digits: 2, data: "x.jsonl" }),
    ConfigError,
    '"data" needs task gsm8k-synthetic (a math file), got task addition-even',
  );
});

const penaltyLess = { description: "", build: () => arithmeticTask({ digits: 1 }) };

Deno.test("penalty registry: a registered kind is built from reg_kind and sized for memory", () => {
  const zero: PenaltyCompute = () =>
    ({ value: tf.scalar(0) }) as unknown as ReturnType<PenaltyCompute>;
  registerPenalty({
    kind: "none_at_all",
    description: "a zero penalty",
    build: () => zero,
    evaluations: () => 7,
  });
  // deno-lint-ignore no-explicit-any
  const config = resolveConfig({ reg_kind: "none_at_all" as any, reg_weight: 0.1 });
  assertEquals(penaltyFromOptions(config), zero);
  const spectral = resolveConfig({ reg_weight: 0.1 });
  const bytes = (c: typeof config) => trainingMemory(c, modelConfigOf(c)).bytes;
  // 4 loops plus 7 evaluations against 4 plus 2 K + 1 = 3 for spectral with K = 1.
  assertEquals(bytes(config) > bytes(spectral), true);
  assertEquals(penaltyKind("spectral").evaluations(spectral), 3);
  assertThrows(
    () => penaltyKind("lipschitz"),
    RangeError,
    "reg_kind must be one of spectral, hutchinson",
  );
  assertThrows(
    () => registerPenalty({ ...penaltyKind("spectral") }),
    Error,
    `penalty "spectral" is already registered`,
  );
});
