/**
 * Why a file operation failed, in words a message can end with.
 *
 * @module
 */

/**
 * The reason of a failed file operation, in words (no stack, no syscall
 * detail): "no such file or folder", "permission denied", ...
 *
 * @example
 * ```ts
 * import { fileReason } from "@stars/toolkit/utils";
 * const e = await Deno.readTextFile("/no/such/file").catch((e) => e);
 * if (fileReason(e) !== "no such file or folder") throw new Error(fileReason(e));
 * ```
 */
export function fileReason(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file or folder";
  if (e instanceof Deno.errors.IsADirectory) return "it is a folder, not a file";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.AlreadyExists) return "a file is in the way";
  if (e instanceof Deno.errors.NotADirectory) return "a part of the path is a file";
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/:? \w+ '.*'$/, "").replace(/ \(os error \d+\)/, "");
}
