/**
 * The base class of errors that are the user's input, not a failure of the
 * toolkit: a bad flag, config key, data file or output folder. The command
 * line prints such an error as one line and exits with code 2; anything
 * else keeps its stack trace.
 *
 * @module
 */

/**
 * An error in what the user gave (flags, config, files): its message names
 * the key, file or value and what is allowed.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { InputError } from "@stars/toolkit";
 * class DataError extends InputError {}
 * assert(new DataError("--data: test.jsonl:3: ...") instanceof InputError);
 * ```
 */
export class InputError extends Error {
  /** Creates an input error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InputError";
  }
}
