/**
 * One trainer per run folder. `train.lock` in the folder holds an exclusive
 * advisory lock (flock) for as long as a trainer runs and records its pid.
 * The operating system drops the lock when the process dies, however it
 * dies, so a lock file left by a killed trainer is stale by construction and
 * is taken over; a lock held by a live process is an error naming it.
 *
 * @module
 */
import { CheckpointError } from "./checkpoint_error.ts";

/** The lock file's name inside a run folder. */
export const LOCK_FILE = "train.lock";

/** A held run-folder lock. */
export interface RunLock {
  /** The pid the lock file named when it was taken over from a dead process, if any. */
  tookOverFrom: number | null;
  /** Removes the lock file and releases the lock. */
  release(): Promise<void>;
}

async function lockHolder(file: Deno.FsFile): Promise<number | null> {
  const bytes = new Uint8Array(256);
  const n = await file.read(bytes);
  try {
    const pid = JSON.parse(new TextDecoder().decode(bytes.subarray(0, n ?? 0))).pid;
    return Number.isInteger(pid) ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Takes `dir`'s lock (creating the folder). Throws
 * {@linkcode CheckpointError} when another live process holds it.
 */
export async function acquireRunLock(dir: string): Promise<RunLock> {
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/${LOCK_FILE}`;
  for (let attempt = 0; attempt < 10; attempt++) {
    const file = await Deno.open(path, { read: true, write: true, create: true });
    if (!(await file.tryLock(true))) {
      const pid = await lockHolder(file);
      file.close();
      throw new CheckpointError(
        path,
        `the run folder "${dir}" is in use by another trainer` +
          `${pid === null ? "" : ` (process ${pid})`}; wait for it to finish or use another --out`,
      );
    }
    // The holder before us may have removed the file after we opened it:
    // then our lock is on a deleted inode, so start again on the new file.
    const [held, named] = await Promise.all([file.stat(), Deno.stat(path).catch(() => null)]);
    if (!named || named.ino !== held.ino) {
      file.close();
      continue;
    }
    const previous = await lockHolder(file);
    const record = new TextEncoder().encode(
      JSON.stringify({ pid: Deno.pid, started: new Date().toISOString() }) + "\n",
    );
    await file.truncate(0);
    await file.seek(0, Deno.SeekMode.Start);
    await file.write(record);
    return {
      tookOverFrom: previous,
      release: async () => {
        await Deno.remove(path).catch(() => {});
        file.close();
      },
    };
  }
  throw new CheckpointError(path, "could not take the lock (it kept changing hands)");
}
