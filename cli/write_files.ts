/**
 * Writes a command's `--out` files (already rendered) and says so on stderr.
 *
 * @module
 */

/** Writes each named file into `dir`; returns the line that lists them. */
export async function writeFiles(dir: string, files: Record<string, string>): Promise<string> {
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  return `wrote ${Object.keys(files).map((name) => `${dir}/${name}`).join(", ")}`;
}
