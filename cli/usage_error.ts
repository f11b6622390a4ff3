/**
 * The command line's input error and the one test for exit code 2.
 *
 * @module
 */
import { InputError } from "../utils/errors.ts";

/** A bad flag or value: printed without a stack trace, exit code 2. */
export class UsageError extends InputError {
  /** Creates a usage error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Whether an error is the user's input (exit 2) rather than a failure: the
 * single place that decides. Every input error is an {@linkcode InputError}
 * (a {@linkcode UsageError}, a `ConfigError`, ...); the commands turn the
 * library's own range errors into those where they check their input.
 */
export function isInputError(e: unknown): e is Error {
  return e instanceof InputError;
}
