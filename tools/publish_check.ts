/**
 * `deno publish --dry-run` for a machine that cannot reach JSR. There,
 * `deno.json`'s `"links"` resolve `jsr:@std/cli` and `jsr:@std/assert` to
 * `vendor/`, which the package leaves out (a user's Deno resolves the real
 * packages from JSR), so a dry run of the package as configured stops at
 * "excluded module". This runs the dry run with a copy of the config that
 * keeps `vendor/` in, and checks what the real config leaves out and keeps.
 *
 * @module
 */
const config = JSON.parse(await Deno.readTextFile("deno.json"));
const exclude: string[] = config.publish.exclude;
for (const path of ["docs/results/", "vendor/", "deno.lock", "tests/", "runs/"]) {
  if (!exclude.includes(path)) throw new Error(`deno.json: publish.exclude must list ${path}`);
}
if (exclude.some((path) => path.startsWith("data"))) {
  throw new Error("deno.json: publish.exclude must keep data/ (the paper's test file ships)");
}
const scratch = ".publish-check.json";
config.publish.exclude = exclude.filter((path) => path !== "vendor/");
await Deno.writeTextFile(scratch, JSON.stringify(config, null, 2));
try {
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty", "--config", scratch],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) Deno.exit(code);
} finally {
  await Deno.remove(scratch);
}
