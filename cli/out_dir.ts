/**
 * The `--out DIR` of every command that writes: checked writable before
 * any work.
 *
 * @module
 */
import { fileReason } from "../utils/file_reason.ts";
import { UsageError } from "./usage_error.ts";

/**
 * Makes sure `dir` is a folder this process can write: creates it (and its
 * parents) and writes and removes a probe file, so that an `--out` that is a
 * file, read-only or on a full disk stops before any work. A folder created
 * here is removed again when the probe fails.
 */
export async function ensureWritableDir(flag: string, dir: string): Promise<void> {
  let existed = true;
  try {
    const info = await Deno.stat(dir);
    if (!info.isDirectory) {
      throw new UsageError(`--${flag}: "${dir}" exists and is not a folder`);
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new UsageError(`--${flag}: cannot use "${dir}" (${fileReason(e)})`);
    }
    existed = false;
  }
  const created: string[] = [];
  if (!existed) {
    // Remember which folders are new, to remove them if the probe fails.
    for (let d = dir; d && d !== "." && d !== "/"; d = parentOf(d)) {
      try {
        await Deno.stat(d);
        break;
      } catch {
        created.push(d);
      }
    }
    try {
      await Deno.mkdir(dir, { recursive: true });
    } catch (e) {
      throw new UsageError(`--${flag}: cannot create the folder "${dir}" (${fileReason(e)})`);
    }
  }
  const probe = `${dir}/.stars-write-probe-${Deno.pid}`;
  try {
    await Deno.writeTextFile(probe, "probe\n");
    await Deno.remove(probe);
  } catch (e) {
    await Deno.remove(probe).catch(() => {});
    for (const d of created) await Deno.remove(d).catch(() => {});
    throw new UsageError(`--${flag}: cannot write in "${dir}" (${fileReason(e)})`);
  }
}

function parentOf(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const at = trimmed.lastIndexOf("/");
  return at <= 0 ? (at === 0 ? "/" : "") : trimmed.slice(0, at);
}
