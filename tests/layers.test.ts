/**
 * The layering the README's Layout states, checked on the import graph:
 * each folder imports only the folders below it, so that (for example) the
 * model never loads a backend and evaluation never loads the plots.
 */
import { assertEquals } from "@std/assert";

const ROOT = new URL("../", import.meta.url);

/** Each library folder and the folders it may import from (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  utils: [],
  ops: ["utils"],
  backends: ["ops", "utils"],
  models: ["ops", "utils"],
  regularizers: ["backends", "models", "ops", "utils"],
  tasks: ["utils"],
  eval: ["models", "ops", "regularizers", "tasks", "utils"],
  train: ["backends", "eval", "models", "ops", "regularizers", "tasks", "utils"],
  plots: ["eval"],
  repro: ["backends", "eval", "models", "ops", "plots", "regularizers", "tasks", "train", "utils"],
};

/** Relative specifiers of a module's import and export statements (not its doc examples). */
function relativeImports(source: string): string[] {
  const specifiers: string[] = [];
  const statement = /^(?:import|export)\b[^;]*?from\s+"(\.[^"]+)"|^import\s+"(\.[^"]+)"/gms;
  for (const m of source.matchAll(statement)) specifiers.push(m[1] ?? m[2]);
  return specifiers;
}

function* tsFiles(dir: URL): Generator<URL> {
  for (const entry of Deno.readDirSync(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* tsFiles(url);
    else if (entry.name.endsWith(".ts")) yield url;
  }
}

/** `folder -> folder` edges that break {@linkcode ALLOWED}, as text. */
function violations(): string[] {
  const found: string[] = [];
  for (const [folder, allowed] of Object.entries(ALLOWED)) {
    for (const file of tsFiles(new URL(`${folder}/`, ROOT))) {
      for (const spec of relativeImports(Deno.readTextFileSync(file))) {
        const target = new URL(spec, file).href.slice(ROOT.href.length);
        const top = target.includes("/") ? target.split("/")[0] : ".";
        if (top !== folder && !allowed.includes(top)) {
          found.push(`${file.href.slice(ROOT.href.length)} imports ${target}`);
        }
      }
    }
  }
  return found;
}

Deno.test("layers: every library folder imports only the folders below it", () => {
  assertEquals(violations(), []);
});

Deno.test("layers: the check sees a real import and ignores doc examples", () => {
  const source = [
    '/**\n * ```ts\n * import { x } from "../mod.ts";\n * ```\n */',
    'import * as tf from "@tensorflow/tfjs";',
    'import { a,\n  b } from "../backends/select.ts";',
    'export { c } from "./c.ts";',
  ].join("\n");
  assertEquals(relativeImports(source), ["../backends/select.ts", "./c.ts"]);
});
