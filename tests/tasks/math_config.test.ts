import { assert, assertEquals, assertThrows } from "@std/assert";
import { ConfigError, DEFAULT_CONFIG, parseValue, resolveConfig } from "../../train/config.ts";
import { taskOf } from "../../train/data.ts";
import { isMathTask } from "../../tasks/math/mod.ts";

const fixture = new URL("../fixtures/math_prompt_answer.jsonl", import.meta.url).pathname;

Deno.test("math config: new keys, defaults, types and cross-checks", () => {
  assertEquals(
    [
      DEFAULT_CONFIG.steps_min,
      DEFAULT_CONFIG.steps_max,
      DEFAULT_CONFIG.data,
      DEFAULT_CONFIG.tokenizer,
    ],
    [2, 4, "", "char"],
  );
  assertEquals(DEFAULT_CONFIG.task, "addition");
  const c = resolveConfig({
    task: "gsm8k-synthetic",
    steps_min: 3,
    steps_max: 3,
    tokenizer: "bpe",
  });
  assertEquals([c.steps_min, c.steps_max, c.tokenizer], [3, 3, "bpe"]);
  assertThrows(
    () => resolveConfig({ task: "gsm8k-synthetic", steps_min: 5 }),
    ConfigError,
    `config key "steps_min" must be <= steps_max (4), got 5`,
  );
  // The math task's rule is the math task's: another task ignores its keys, as it ignores them.
  assertEquals(resolveConfig({ steps_min: 5 }).steps_min, 5);
  assertThrows(
    () => resolveConfig({ steps_min: 0 }),
    ConfigError,
    `"steps_min" must be an integer >= 1`,
  );
  assertThrows(() => resolveConfig({ tokenizer: "wordpiece" }), ConfigError, "one of char, bpe");
  assertThrows(
    () => resolveConfig({ task: "gsm8k-synthetic", data: 3 }),
    ConfigError,
    `"data" must be a string`,
  );
  assertThrows(
    () => resolveConfig({ data: "x.jsonl" }),
    ConfigError,
    `"data" needs task gsm8k-synthetic`,
  );
  assertEquals(parseValue("data", "some/file.jsonl"), "some/file.jsonl");
  assertEquals(parseValue("data", "12"), "12");
  assertEquals(parseValue("steps_max", "6"), 6);
}); // deno-fmt-ignore

Deno.test("math config: taskOf gives the generator or the file's task", () => {
  const gen = taskOf(resolveConfig({ task: "gsm8k-synthetic", steps_min: 2, steps_max: 3 }));
  assertEquals(gen.name, "gsm8k-synthetic-2-3");
  assert(isMathTask(gen));
  assert(gen.sample("train", 1, 20).every((p) => /\nA:$/.test(p.prompt)));
  const good = Deno.makeTempFileSync({ suffix: ".jsonl" });
  Deno.writeTextFileSync(good, `{"prompt":"1+1?","answer":"2"}\n{"prompt":"2+2?","answer":"4"}\n`);
  const file = taskOf(resolveConfig({ task: "gsm8k-synthetic", data: good }));
  assertEquals(file.name, `math-data-${good.split("/").pop()}`);
  assertEquals(file.seqLen, "1+1?\nA: 2".length);
  Deno.removeSync(good);
  // The fixture has malformed lines: the trainer's loader stops at the first, naming it.
  assertThrows(
    () => taskOf(resolveConfig({ task: "gsm8k-synthetic", data: fixture.replace("prompt_answer", "gsm8k") })),
    Error,
    "math_gsm8k.jsonl:5: bad JSON",
  );
  assertEquals(taskOf(resolveConfig({})).name, "addition-4");
});
