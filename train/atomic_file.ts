/**
 * Files written whole or not at all: the bytes go to a temporary sibling
 * (`NAME.tmp-<uuid>`), are synced, then renamed over the target in one
 * step, so a reader or a crash sees the old file or the new one. A failed
 * write removes its temporary; {@linkcode removeTempFiles} clears those a
 * killed process left.
 *
 * @module
 */

/** What marks a temporary file: `NAME.tmp-<id>`. */
export const TEMP_MARK = ".tmp-";

/** A fresh temporary name for `path`, with the id that ties a save's files together. */
export function tempPath(path: string, id: string = crypto.randomUUID()): string {
  return `${path}${TEMP_MARK}${id}`;
}

/** Writes `bytes` to `path` (fully, synced), without renaming it anywhere. */
export async function writeSynced(path: string, bytes: Uint8Array): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
  } finally {
    file.close();
  }
}

/** Replaces `path` by `bytes` atomically (temporary file, sync, rename). */
export async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = tempPath(path);
  try {
    await writeSynced(tmp, bytes);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** Removes every `*.tmp-*` file directly in `dir`; returns their names. */
export async function removeTempFiles(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.includes(TEMP_MARK)) {
      await Deno.remove(`${dir}/${entry.name}`).catch(() => {});
      removed.push(entry.name);
    }
  }
  return removed.sort();
}
