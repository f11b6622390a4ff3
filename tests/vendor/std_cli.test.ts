// Behaviour of jsr:@std/cli's parseArgs (minimist semantics), checked against
// the local stand-in that deno.json links in (vendor/std_cli).
import { assertEquals } from "@std/assert";
import { parseArgs } from "@std/cli";
import { parseArgs as parseArgsSubpath } from "@std/cli/parse-args";

Deno.test("parseArgs: the documented example", () => {
  assertEquals(parseArgs(["--foo", "--bar=baz", "./quux.txt"]), {
    _: ["./quux.txt"],
    foo: true,
    bar: "baz",
  });
  assertEquals(parseArgsSubpath === parseArgs, true);
});

Deno.test("parseArgs: short, long, grouped and attached values", () => {
  assertEquals(
    parseArgs([
      "-x",
      "3",
      "-y",
      "4",
      "-n5",
      "-abc",
      "--beep=boop",
      "foo",
      "bar",
      "baz",
    ]),
    {
      _: ["foo", "bar", "baz"],
      x: 3,
      y: 4,
      n: 5,
      a: true,
      b: true,
      c: true,
      beep: "boop",
    },
  );
  assertEquals(parseArgs(["-abc", "hello"]), {
    _: [],
    a: true,
    b: true,
    c: "hello",
  });
  assertEquals(parseArgs(["-k=v"]), { _: [], k: "v" });
  assertEquals(parseArgs(["--key", "value"]), { _: [], key: "value" });
  assertEquals(parseArgs(["--key=a=b"]), { _: [], key: "a=b" });
  assertEquals(parseArgs(["-x", "\t"]), { _: [], x: "\t" });
});

Deno.test("parseArgs: keys keep hyphens, underscores and case (no camelCase)", () => {
  assertEquals(
    parseArgs(["--d-model", "512", "--warmup_steps=100", "--maxLoops", "8"]),
    {
      _: [],
      "d-model": 512,
      warmup_steps: 100,
      maxLoops: 8,
    },
  );
});

Deno.test("parseArgs: numeric-looking values become numbers unless declared strings", () => {
  assertEquals(
    parseArgs([
      "-x",
      "1234",
      "-y",
      "5.67",
      "-z",
      "1e7",
      "-w",
      "10f",
      "--hex",
      "0xdeadbeef",
      "--lr=3e-4",
      "--neg=-2.5",
      "789",
    ]),
    {
      _: [789],
      x: 1234,
      y: 5.67,
      z: 1e7,
      w: "10f",
      hex: 0xdeadbeef,
      lr: 3e-4,
      neg: -2.5,
    },
  );
  assertEquals(parseArgs(["-s", "0001234"], { string: ["s"] }).s, "0001234");
  assertEquals(parseArgs(["--seed", "007"], { string: ["seed"] }), {
    _: [],
    seed: "007",
  });
  assertEquals(parseArgs(["12", "x"], { string: ["_"] })._ as unknown, ["12", "x"]);
  assertEquals(parseArgs(["-n-5"]), { _: [], n: -5 });
});

Deno.test("parseArgs: a value starting with '-' is not taken by a long flag", () => {
  assertEquals(parseArgs(["--lr", "-3"]), { _: [], lr: true, "3": true });
});

Deno.test("parseArgs: string flags without a value are empty strings", () => {
  assertEquals(parseArgs(["-s"], { string: ["s"] }).s, "");
  assertEquals(parseArgs(["--str"], { string: ["str"] }).str, "");
  assertEquals(parseArgs(["-s", "--"], { string: "s" }), { _: [], s: "" });
});

Deno.test("parseArgs: booleans", () => {
  assertEquals(
    parseArgs(["-x", "-z", "one", "two", "three"], {
      boolean: ["x", "y", "z"],
    }),
    {
      _: ["one", "two", "three"],
      x: true,
      y: false,
      z: true,
    },
  );
  assertEquals(parseArgs(["-b", "123"], { boolean: "b" }), {
    _: [123],
    b: true,
  });
  assertEquals(
    parseArgs(["--flag", "false", "--other", "true"], {
      boolean: ["flag", "other"],
    }),
    {
      _: [],
      flag: false,
      other: true,
    },
  );
  assertEquals(parseArgs(["--flag=false"], { boolean: ["flag"] }), {
    _: [],
    flag: false,
  });
  assertEquals(
    parseArgs(["--honk", "moo", "--tacos=good", "p"], { boolean: true }),
    {
      _: ["moo", "p"],
      honk: true,
      tacos: "good",
    },
  );
  assertEquals(
    parseArgs(["moo"], {
      boolean: ["t", "verbose"],
      default: { verbose: false, t: false },
    }),
    {
      _: ["moo"],
      verbose: false,
      t: false,
    },
  );
  // An undeclared flag followed by "true"/"false" takes it as a value.
  assertEquals(parseArgs(["--x", "false"]), { _: [], x: "false" });
});

Deno.test("parseArgs: --no-flag negates only negatable keys", () => {
  assertEquals(
    parseArgs(["--no-color"], { boolean: ["color"], negatable: ["color"] }),
    {
      _: [],
      color: false,
    },
  );
  assertEquals(
    parseArgs(["--color"], { boolean: ["color"], negatable: ["color"] }),
    { _: [], color: true },
  );
  assertEquals(
    parseArgs(["--no-config"], { string: ["config"], negatable: ["config"] }),
    {
      _: [],
      config: false,
    },
  );
  assertEquals(parseArgs(["--no-moo"]), { _: [], "no-moo": true });
});

Deno.test("parseArgs: aliases set every name", () => {
  assertEquals(
    parseArgs(["-f", "11", "--zoom", "55"], { alias: { z: "zoom" } }),
    {
      _: [],
      f: 11,
      zoom: 55,
      z: 55,
    },
  );
  assertEquals(
    parseArgs(["-f", "11", "--zoom", "55"], { alias: { z: ["zm", "zoom"] } }),
    {
      _: [],
      f: 11,
      zoom: 55,
      z: 55,
      zm: 55,
    },
  );
  assertEquals(
    parseArgs(["-h", "derp"], { boolean: ["herp"], alias: { h: "herp" } }),
    {
      _: ["derp"],
      herp: true,
      h: true,
    },
  );
  assertEquals(parseArgs([], { boolean: ["help"], alias: { h: "help" } }), {
    _: [],
    help: false,
    h: false,
  });
  assertEquals(
    parseArgs([], { default: { steps: 10 }, alias: { steps: "s" } }),
    { _: [], steps: 10, s: 10 },
  );
});

Deno.test("parseArgs: defaults fill absent keys only", () => {
  assertEquals(
    parseArgs(["--steps", "5"], {
      default: { steps: 100, lr: 1e-4 },
      string: ["name"],
    }),
    { _: [], steps: 5, lr: 1e-4 },
  );
  assertEquals(parseArgs([], { string: ["s"], default: { s: "x" } }), {
    _: [],
    s: "x",
  });
});

Deno.test("parseArgs: dotted keys nest", () => {
  assertEquals(parseArgs(["--a.b", "22"], { default: { "a.b": 11 } }), {
    _: [],
    a: { b: 22 },
  });
  assertEquals(parseArgs(["--aa.bb=11", "--aa.cc", "x"]), {
    _: [],
    aa: { bb: 11, cc: "x" },
  });
  assertEquals(parseArgs([], { default: { "a.b": 11 } }), {
    _: [],
    a: { b: 11 },
  });
});

Deno.test("parseArgs: collect gathers repeated values", () => {
  assertEquals(
    parseArgs(["--foo", "a", "--foo", "b", "-v", "-v"], {
      string: ["foo"],
      boolean: ["v"],
      collect: ["foo", "v"],
    }),
    { _: [], foo: ["a", "b"], v: [true, true] },
  );
  assertEquals(
    parseArgs([], { string: ["foo"], boolean: ["v"], collect: ["foo", "v"] }),
    { _: [], foo: [], v: [] },
  );
  // Without collect, the last value wins.
  assertEquals(parseArgs(["--foo", "a", "--foo", "b"]), { _: [], foo: "b" });
});

Deno.test("parseArgs: -- ends options", () => {
  assertEquals(
    parseArgs(["--name", "John", "before", "--", "after", "-x", "5"]),
    {
      _: ["before", "after", "-x", "5"],
      name: "John",
    },
  );
  assertEquals(
    parseArgs(["--name", "John", "before", "--", "after"], { "--": true }),
    {
      _: ["before"],
      name: "John",
      "--": ["after"],
    },
  );
  assertEquals(parseArgs(["a"], { "--": true }), { _: ["a"], "--": [] });
  assertEquals(parseArgs(["-b", "--"], { boolean: "b" }), { _: [], b: true });
});

Deno.test("parseArgs: single dashes", () => {
  assertEquals(parseArgs(["-n", "-"]), { _: [], n: "-" });
  assertEquals(parseArgs(["-"]), { _: ["-"] });
  assertEquals(parseArgs(["-f-"]), { _: [], f: "-" });
});

Deno.test("parseArgs: stopEarly", () => {
  assertEquals(
    parseArgs(["--aaa", "bbb", "ccc", "--ddd"], { stopEarly: true }),
    {
      _: ["ccc", "--ddd"],
      aaa: "bbb",
    },
  );
});

Deno.test("parseArgs: unknown is called for undeclared flags and positionals", () => {
  const seen: unknown[] = [];
  const unknown = (arg: string, key?: string, value?: unknown) => {
    seen.push({ arg, key, value });
    return false;
  };
  const options = { alias: { h: "herp" }, boolean: "h", unknown };
  assertEquals(parseArgs(["-h", "true", "--derp", "true"], options) as unknown, {
    _: [],
    h: true,
    herp: true,
  });
  assertEquals(parseArgs(["--herp", "true", "-d", "false"], options) as unknown, {
    _: [],
    h: true,
    herp: true,
  });
  assertEquals(seen, [
    { arg: "--derp", key: "derp", value: "true" },
    { arg: "-d", key: "d", value: "false" },
  ]);

  const kept = parseArgs(["--steps", "3", "--bad=1", "file"], {
    string: ["steps"],
    unknown: (arg, key) => key === undefined ? arg !== "file" : key !== "bad",
  });
  assertEquals(kept, { _: [], steps: "3" });
  // Returning anything but false keeps the argument.
  assertEquals(parseArgs(["--x", "1", "pos"], { unknown: () => undefined }), {
    _: ["pos"],
    x: 1,
  });
});

Deno.test("parseArgs: typed results", () => {
  const typed = parseArgs(["--name", "7", "-v"], {
    string: ["name"],
    boolean: ["v"],
  });
  const name: string | undefined = typed.name;
  const verbose: boolean = typed.v;
  assertEquals([name, verbose], ["7", true]);
  const untyped = parseArgs(["--steps", "7"]);
  const steps: number = untyped.steps;
  assertEquals(steps, 7);
  const withDash = parseArgs(["--", "x"], { "--": true });
  const after: string[] = withDash["--"];
  assertEquals(after, ["x"]);
});

Deno.test("parseArgs: __proto__ keys do not pollute prototypes", () => {
  const parsed = parseArgs([
    "--__proto__.polluted",
    "yes",
    "--constructor.prototype.bad",
    "1",
    "--__proto__",
    "x",
    "--keep",
    "2",
  ]);
  assertEquals(({} as Record<string, unknown>).polluted, undefined);
  assertEquals(({} as Record<string, unknown>).bad, undefined);
  // as @std/cli does: such paths are dropped, the rest kept
  assertEquals(Object.keys(parsed), ["_", "keep"]);
  assertEquals(Object.getPrototypeOf(parsed), Object.prototype);
});
