/**
 * The error every checkpoint reader and the run directory throw for input
 * that is wrong (a corrupt or mismatched file, a folder in use): it names
 * the file and the problem, and the CLI prints it without a stack trace and
 * exits with code 2.
 *
 * @module
 */
import { InputError } from "./errors.ts";

/** A checkpoint or run-folder file that cannot be used as it is. */
export class CheckpointError extends InputError {
  /** Creates the error for `file` (a path) and what is wrong with it. */
  constructor(readonly file: string, readonly problem: string, options?: ErrorOptions) {
    super(`${file}: ${problem}`, options);
    this.name = "CheckpointError";
  }
}
