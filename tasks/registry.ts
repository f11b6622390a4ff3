/**
 * The task registry: each task a run's `task` key names, built from the
 * run's flat task keys. The built-ins are `addition` and `multiplication`
 * (tasks/arithmetic_task.ts), `gsm8k-synthetic` (tasks/math/math_task.ts)
 * and `chain` (tasks/chain.ts); {@linkcode registerTask} adds one.
 *
 * @example
 * ```ts
 * import { type ChainProblem, taskFromKeys } from "@stars/toolkit/tasks";
 * const task = taskFromKeys({ task: "chain", chain_steps_max: 2 });
 * const problems = task.sample("train", 1, 20) as ChainProblem[];
 * if (problems.some((p) => p.steps > 2)) throw new Error("chains of 1-2 steps");
 * ```
 *
 * @module
 */
import type { KeySpec } from "../utils/config_keys.ts";
import { ARITHMETIC_KEYS, type ArithmeticKeys, arithmeticTaskFromKeys } from "./arithmetic_keys.ts";
import { CHAIN_KEYS, type ChainKeys, chainTaskFromKeys, checkChainKeys } from "./chain_keys.ts";
import { checkMathKeys, MATH_KEYS, type MathKeys, mathTaskFromKeys } from "./math/math_keys.ts";
import type { Task } from "./task.ts";

/**
 * A run's task keys, as the registry's entries read them: `task`, and the
 * built-in tasks' keys (absent keys take their defaults).
 */
export interface TaskKeys extends Partial<ArithmeticKeys & MathKeys & ChainKeys> {
  /** The task's name. */
  readonly task: string;
}

/** One task of the registry. */
export interface TaskEntry {
  /** The `task` key's value. */
  readonly name: string;
  /** One line for `--help`. */
  readonly description: string;
  /**
   * The config keys the task reads, declared by the task (a registered task
   * may read the built-ins' keys); a run of another task that sets `data`
   * is an error, since no other task reads a file.
   */
  readonly keys?: Readonly<Record<string, KeySpec>>;
  /** The rules between its keys, checked when a run's config resolves (throws an input error). */
  check?(keys: Required<TaskKeys>): void;
  /** The task the keys ask for. */
  build(keys: TaskKeys): Task;
}

const ENTRIES = new Map<string, TaskEntry>();
const NAMES: string[] = [];

/** The registered tasks' names (the built-ins first). */
export const TASK_NAMES: readonly string[] = NAMES;

/** Adds a task (its name must be new); a run's `task` key then accepts it. */
export function registerTask(entry: TaskEntry): void {
  if (ENTRIES.has(entry.name)) throw new Error(`task "${entry.name}" is already registered`);
  ENTRIES.set(entry.name, entry);
  NAMES.push(entry.name);
}

/** The registered task `name`; a `RangeError` lists the tasks for another name. */
export function taskEntry(name: string): TaskEntry {
  const entry = ENTRIES.get(name);
  if (!entry) {
    throw new RangeError(`task must be one of ${NAMES.join(", ")}, got ${JSON.stringify(name)}`);
  }
  return entry;
}

/** The task `keys.task` names, built from the keys; a `RangeError` lists the tasks for another name. */
export function taskFromKeys(keys: TaskKeys): Task {
  return taskEntry(keys.task).build(keys);
}

registerTask({
  name: "addition",
  description: "a + b with digits-digit operands, the answer reversed (the paper's task)",
  keys: ARITHMETIC_KEYS,
  build: (k) => arithmeticTaskFromKeys("+", k),
});
registerTask({
  name: "multiplication",
  description: "a * b with digits-digit operands, the answer reversed",
  keys: ARITHMETIC_KEYS,
  build: (k) => arithmeticTaskFromKeys("*", k),
});
registerTask({
  name: "gsm8k-synthetic",
  description: "math word problems of steps_min-steps_max steps, or the GSM8K/MATH file data",
  keys: MATH_KEYS,
  check: checkMathKeys,
  build: mathTaskFromKeys,
});
registerTask({
  name: "chain",
  description: "variables defined from one another mod 10, then a question (chain_* keys)",
  keys: CHAIN_KEYS,
  check: checkChainKeys,
  build: chainTaskFromKeys,
});
