/**
 * Every doc example in the library asserts what it shows (an assert or a
 * throw), so that `deno task test:doc`, which runs them, fails when the code
 * no longer does what its documentation says.
 */
import { assertEquals } from "@std/assert";

const ROOT = new URL("../", import.meta.url);
const LIBRARY = [
  "mod.ts",
  "utils",
  "ops",
  "backends",
  "models",
  "regularizers",
  "tasks",
  "eval",
  "train",
  "plots",
  "repro",
  "cli",
];

function* tsFiles(url: URL): Generator<URL> {
  if (url.pathname.endsWith(".ts")) {
    yield url;
    return;
  }
  for (const entry of Deno.readDirSync(url)) {
    if (entry.isDirectory) yield* tsFiles(new URL(entry.name + "/", url));
    else if (entry.name.endsWith(".ts")) yield new URL(entry.name, url);
  }
}

/** `file:line` of each ```ts example in `source` that neither asserts nor throws. */
function silentExamples(file: string, source: string): string[] {
  const silent: string[] = [];
  for (const m of source.matchAll(/```ts\n([\s\S]*?)```/g)) {
    const code = m[1].split("\n").map((line) => line.replace(/^\s*\* ?/, "")).join("\n");
    if (!/\bassert\w*\(|\bthrow\b/.test(code)) {
      silent.push(`${file}:${source.slice(0, m.index).split("\n").length}`);
    }
  }
  return silent;
}

Deno.test("every doc example asserts what it shows", () => {
  const silent: string[] = [];
  for (const entry of LIBRARY) {
    const url = new URL(entry + (entry.endsWith(".ts") ? "" : "/"), ROOT);
    for (const file of tsFiles(url)) {
      silent.push(
        ...silentExamples(file.pathname.slice(ROOT.pathname.length), Deno.readTextFileSync(file)),
      );
    }
  }
  assertEquals(silent, [], "doc examples without an assert or a throw");
});

Deno.test("the check finds an example that asserts nothing", () => {
  const doc = '/**\n * ```ts\n * bar(0.5, 10); // "█████"\n * ```\n */\n';
  assertEquals(silentExamples("x.ts", doc), ["x.ts:2"]);
  assertEquals(silentExamples("x.ts", doc.replace("bar(", "assertEquals(bar(")), []);
});
