import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import {
  CONFIG_GROUPS,
  CONFIG_SCHEMA,
  ConfigError,
  DEFAULT_CONFIG,
  parseValue,
  resolveConfig,
} from "../../train/config.ts";

Deno.test("defaults resolve, and overrides apply in order", () => {
  assertEquals(resolveConfig(), DEFAULT_CONFIG);
  const c = resolveConfig({ steps: 10, lr: 0.1 }, { steps: 20 });
  assertEquals([c.steps, c.lr], [20, 0.1]);
});

Deno.test("an unknown key is an error naming it and listing the allowed keys", () => {
  const e = assertThrows(() => resolveConfig({ d_modle: 8 }), ConfigError, '"d_modle"');
  assertStringIncludes(e.message, "d_model");
});

Deno.test("wrong types and out-of-range values name the key and what is allowed", () => {
  const cases: [Record<string, unknown>, string, string][] = [
    [{ steps: "ten" }, '"steps"', "integer >= 1"],
    [{ steps: 2.5 }, '"steps"', "integer"],
    [{ lr: -1 }, '"lr"', "> 0"],
    [{ dropout: 1.5 }, '"dropout"', "<= 0.99"],
    [{ norm_placement: "middle" }, '"norm_placement"', "pre_norm, post_norm"],
    [{ reverse: "yes" }, '"reverse"', "true or false"],
    [{ n_heads: 3 }, '"n_heads"', "divide d_model"],
    [{ loop_min: 9, loop_max: 4 }, '"loop_min"', "<= loop_max"],
    [{ init_state: "zeros" }, '"injection"', "add or linear"],
    [{ lr: Infinity }, '"lr"', "a number"],
  ];
  for (const [override, key, allowed] of cases) {
    const e = assertThrows(() => resolveConfig(override), ConfigError, key);
    assertStringIncludes(e.message, allowed);
  }
});

Deno.test("command-line strings parse to the key's type", () => {
  assertEquals(parseValue("steps", "200"), 200);
  assertEquals(parseValue("lr", "1e-3"), 1e-3);
  assertEquals(parseValue("reverse", "false"), false);
  assertEquals(parseValue("norm_type", "rmsnorm"), "rmsnorm");
  assertThrows(() => parseValue("steps", "abc"), ConfigError, '"abc" (not a decimal number');
  assertThrows(() => parseValue("steps", "0x3"), ConfigError, "not a decimal number");
  assertThrows(() => parseValue("steps", " 3 "), ConfigError, "not a decimal number");
  assertThrows(() => parseValue("lr", "Infinity"), ConfigError, "not a finite number");
  assertThrows(() => parseValue("lr", "1e400"), ConfigError, "overflows to Infinity");
  assertEquals(parseValue("lr", "-.5e-3"), -5e-4);
  assertThrows(() => parseValue("nope", "1"), ConfigError, '"nope"');
});

Deno.test("keys may nest under their section; a wrong section or a key given twice is an error", () => {
  const nested = resolveConfig({ model: { d_model: 16, n_heads: 2 }, optimizer: { steps: 7 } });
  assertEquals([nested.d_model, nested.n_heads, nested.steps], [16, 2, 7]);
  assertEquals(nested, resolveConfig({ d_model: 16, n_heads: 2, steps: 7 }));
  // Every key has a section, and --help's sections cover every key once.
  const groups = Object.values(CONFIG_SCHEMA).map((s) => s.group);
  assertEquals(groups.every((g) => g !== undefined && CONFIG_GROUPS.includes(g)), true);
  assertThrows(
    () => resolveConfig({ model: { steps: 3 } }),
    ConfigError,
    'config key "model.steps" is not a key of section model',
  );
  assertThrows(
    () => resolveConfig({ model: { d_model: 16 }, d_model: 32 }),
    ConfigError,
    'config key "d_model" is given both flat and in its section',
  );
  assertThrows(
    () => resolveConfig({ sampler: 3 }),
    ConfigError,
    'config section "sampler" must be an object',
  );
  // Nested values are checked like flat ones.
  assertThrows(
    () => resolveConfig({ penalty: { reg_weight: 2 } }),
    ConfigError,
    '"reg_weight" must be',
  );
});
