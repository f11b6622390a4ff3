/**
 * The task registry: each task a run's `task` key names, built from the
 * run's flat task keys. The built-ins are `addition` and `multiplication`
 * (tasks/arithmetic_task.ts), `gsm8k-synthetic` (tasks/math/math_task.ts)
 * and `chain` (tasks/chain.ts); {@linkcode registerTask} adds one.
 *
 * @example
 * ```ts
 * import { type ChainProblem, taskFromKeys } from "@stars/toolkit";
 * const task = taskFromKeys({ task: "chain", chain_steps_max: 2 });
 * const problems = task.sample("train", 1, 20) as ChainProblem[];
 * if (problems.some((p) => p.steps > 2)) throw new Error("chains of 1-2 steps");
 * ```
 *
 * @module
 */
import { arithmeticTask } from "./arithmetic_task.ts";
import { type ChainOp, chainTask } from "./chain.ts";
import { loadMathDataTaskSync, mathTask } from "./math/math_task.ts";
import type { Task } from "./task.ts";

/** A run's task keys, as the registry's entries read them (absent keys take their defaults). */
export interface TaskKeys {
  /** The task's name. */
  readonly task: string;
  /** Arithmetic: digits per operand (default 4). */
  readonly digits?: number;
  /** Arithmetic: answers written reversed (default true). */
  readonly reverse?: boolean;
  /** Math: fewest reasoning steps (default 2). */
  readonly steps_min?: number;
  /** Math: most reasoning steps (default 4). */
  readonly steps_max?: number;
  /** Math: a GSM8K or MATH JSON-lines file instead of the generator. */
  readonly data?: string;
  /** Math: `char` or `bpe`. */
  readonly tokenizer?: "char" | "bpe";
  /** Chain: fewest steps of training chains (default 1). */
  readonly chain_steps_min?: number;
  /** Chain: most steps of training chains (default 4). */
  readonly chain_steps_max?: number;
  /** Chain: most steps of test chains (0 = `chain_steps_max`). */
  readonly chain_test_steps_max?: number;
  /** Chain: distractor definitions (default 2). */
  readonly chain_distractors?: number;
  /** Chain: `shuffled` or `ordered`. */
  readonly chain_order?: "shuffled" | "ordered";
  /** Chain: operations, e.g. `+-*`. */
  readonly chain_ops?: string;
  /** Chain: questions per training chain (0 = every variable). */
  readonly chain_questions?: number;
  /** Chain: training answers read back hidden. */
  readonly chain_hide_answers?: boolean;
}

/** One task of the registry. */
export interface TaskEntry {
  /** The `task` key's value. */
  readonly name: string;
  /** One line for `--help`. */
  readonly description: string;
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

/** The task `keys.task` names, built from the keys; a `RangeError` lists the tasks for another name. */
export function taskFromKeys(keys: TaskKeys): Task {
  const entry = ENTRIES.get(keys.task);
  if (!entry) {
    throw new RangeError(
      `task must be one of ${NAMES.join(", ")}, got ${JSON.stringify(keys.task)}`,
    );
  }
  return entry.build(keys);
}

const arithmetic = (op: "+" | "*") => (k: TaskKeys): Task =>
  arithmeticTask({ digits: k.digits ?? 4, op, reverse: k.reverse ?? true });

registerTask({
  name: "addition",
  description: "a + b with digits-digit operands, the answer reversed (the paper's task)",
  build: arithmetic("+"),
});
registerTask({
  name: "multiplication",
  description: "a * b with digits-digit operands, the answer reversed",
  build: arithmetic("*"),
});
registerTask({
  name: "gsm8k-synthetic",
  description: "math word problems of steps_min-steps_max steps, or the GSM8K/MATH file data",
  build: (k) => {
    const tokenizer = k.tokenizer ?? "char";
    if (k.data) return loadMathDataTaskSync(k.data, { tokenizer });
    return mathTask({ stepsMin: k.steps_min ?? 2, stepsMax: k.steps_max ?? 4, tokenizer });
  },
});
registerTask({
  name: "chain",
  description: "variables defined from one another mod 10, then a question (chain_* keys)",
  build: (k) => {
    const stepsMin = k.chain_steps_min ?? 1, stepsMax = k.chain_steps_max ?? 4;
    return chainTask({
      stepsMin,
      stepsMax,
      testStepsMax: k.chain_test_steps_max ? k.chain_test_steps_max : stepsMax,
      distractors: k.chain_distractors ?? 2,
      order: k.chain_order ?? "shuffled",
      ops: [...(k.chain_ops ?? "+-")] as ChainOp[],
      questions: k.chain_questions ?? 1,
      hideAnswers: k.chain_hide_answers ?? false,
    });
  },
});
