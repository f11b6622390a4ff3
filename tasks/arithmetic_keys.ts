/**
 * The run-config keys of the arithmetic tasks (`addition`,
 * `multiplication`), declared once, and the task they ask for.
 *
 * @module
 */
import { boolKey, intKey, type KeyTable, withDefaults } from "../utils/config_keys.ts";
import type { Op, Problem } from "./arithmetic.ts";
import { arithmeticTask } from "./arithmetic_task.ts";
import type { Task } from "./task.ts";

/** The keys an arithmetic run reads. */
export interface ArithmeticKeys {
  /** Digits per operand. */
  digits: number;
  /** Whether the answer is written least-significant digit first. */
  reverse: boolean;
}

/** {@linkcode ArithmeticKeys} with their defaults, ranges and help. */
export const ARITHMETIC_KEYS: KeyTable<ArithmeticKeys> = {
  digits: intKey(4, "digits per operand", 1, 9),
  reverse: boolKey(true, "write the answer least-significant digit first"),
};

/** The arithmetic task of operation `op` that keys ask for (absent keys take their defaults). */
export function arithmeticTaskFromKeys(op: Op, keys: Partial<ArithmeticKeys>): Task<Problem> {
  const { digits, reverse } = withDefaults(ARITHMETIC_KEYS, keys);
  return arithmeticTask({ digits, op, reverse });
}
