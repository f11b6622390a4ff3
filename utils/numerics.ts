/**
 * The toolkit's numerics revision: a number that goes up with every change
 * that alters the bits some run computes, on any backend, so that results
 * record which arithmetic made them (run provenance, checkpoints) and a
 * study does not mix revisions unnoticed. The product and attention paths
 * are recorded on their own; this counts changes of the code's arithmetic.
 *
 * 1. Everything before the revision was recorded (results without one).
 * 2. The Jacobian penalties and estimators take norms as
 *    `sqrt(sum(x * x))` (`regularizers/l2_norm.ts`), not by `tf.norm`'s
 *    `Pow(|x|, 2)`: the same values on the cpu backend; on wasm `powf`
 *    rounds about 7 in 10 000 squares differently, which moved a bench-size
 *    probe's norm in none of 820 measured, but can.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { NUMERICS_REVISION } from "@stars/toolkit/utils";
 * assert(Number.isInteger(NUMERICS_REVISION) && NUMERICS_REVISION >= 2);
 * ```
 *
 * @module
 */

/** The revision this code computes with (see the module notes for the list). */
export const NUMERICS_REVISION = 2;

/** The revision a result or checkpoint recorded: 1 where it recorded none. */
export function numericsRevisionOf(record: Record<string, unknown> | undefined): number {
  const revision = record?.numerics;
  return typeof revision === "number" ? revision : 1;
}
