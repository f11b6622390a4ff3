/**
 * The run-config keys of the `chain` task (`chain_*`), declared once, their
 * cross-key rules, and the task they ask for.
 *
 * @module
 */
import {
  boolKey,
  choiceKey,
  ConfigError,
  intKey,
  type KeyTable,
  withDefaults,
} from "../utils/config_keys.ts";
import {
  CHAIN_NAMES,
  CHAIN_ORDERS,
  type ChainOp,
  type ChainOrder,
  type ChainProblem,
  chainTask,
} from "./chain.ts";
import type { Task } from "./task.ts";

/** The operation sets `chain_ops` takes (every one a bijection mod 10). */
export const CHAIN_OP_SETS = ["+-", "+-*"] as const;

/** The keys a chain run reads. */
export interface ChainKeys {
  /** Fewest steps (dependency-chain length) of a chain problem. */
  chain_steps_min: number;
  /** Most steps of a chain problem in training. */
  chain_steps_max: number;
  /** Most steps of a test chain problem (0 = chain_steps_max). */
  chain_test_steps_max: number;
  /** Distractor definitions per chain problem. */
  chain_distractors: number;
  /** Definition order of a chain problem: `shuffled` or `ordered` (the chain in its order). */
  chain_order: ChainOrder;
  /** Operations of a chain step: `+-` (add or subtract a digit) or `+-*` (also multiply by 3, 7 or 9). */
  chain_ops: typeof CHAIN_OP_SETS[number];
  /** Questions per training chain problem: the last link, then others (0 = every variable). */
  chain_questions: number;
  /** Read training answers back as PAD, so no chain question sees another's answer. */
  chain_hide_answers: boolean;
}

/** {@linkcode ChainKeys} with their defaults, ranges and help. */
export const CHAIN_KEYS: KeyTable<ChainKeys> = {
  chain_steps_min: intKey(1, "fewest steps of a chain problem", 1, 25),
  chain_steps_max: intKey(4, "most steps of a chain problem in training", 1, 25),
  chain_test_steps_max: intKey(
    0,
    "most steps of a test chain problem (0 = chain_steps_max)",
    0,
    25,
  ),
  chain_distractors: intKey(2, "distractor definitions per chain problem", 0, 24),
  chain_order: choiceKey(
    "shuffled",
    "definition order of a chain problem (ordered: each after what it reads)",
    CHAIN_ORDERS,
  ),
  chain_ops: choiceKey(
    "+-",
    "operations of a chain step, mod 10 (*: by 3, 7 or 9)",
    CHAIN_OP_SETS,
  ),
  chain_questions: intKey(
    1,
    "questions per training chain problem: the last link, then other variables (0 = all)",
    0,
    26,
  ),
  chain_hide_answers: boolKey(
    false,
    "read training chain answers back as PAD (no question sees another's answer)",
  ),
};

/** The rules between the chain keys; throws a {@linkcode ConfigError} naming the key. */
export function checkChainKeys(c: ChainKeys): void {
  if (c.chain_steps_min > c.chain_steps_max) {
    throw new ConfigError(
      `config key "chain_steps_min" must be <= chain_steps_max (${c.chain_steps_max}), got ` +
        `${c.chain_steps_min}`,
    );
  }
  if (c.chain_test_steps_max !== 0 && c.chain_test_steps_max < c.chain_steps_min) {
    throw new ConfigError(
      `config key "chain_test_steps_max" must be 0 or >= chain_steps_min (${c.chain_steps_min}), ` +
        `got ${c.chain_test_steps_max}`,
    );
  }
  const steps = Math.max(c.chain_steps_max, c.chain_test_steps_max);
  if (steps + 1 + c.chain_distractors > CHAIN_NAMES.length) {
    throw new ConfigError(
      `config key "chain_distractors": ${steps} steps + 1 + ${c.chain_distractors} distractors ` +
        "need more than the 26 variable names (a-z); lower chain_distractors or the steps",
    );
  }
}

/** The chain task that keys ask for (absent keys take their defaults). */
export function chainTaskFromKeys(keys: Partial<ChainKeys>): Task<ChainProblem> {
  const k = withDefaults(CHAIN_KEYS, keys);
  return chainTask({
    stepsMin: k.chain_steps_min,
    stepsMax: k.chain_steps_max,
    testStepsMax: k.chain_test_steps_max ? k.chain_test_steps_max : k.chain_steps_max,
    distractors: k.chain_distractors,
    order: k.chain_order,
    ops: [...k.chain_ops] as ChainOp[],
    questions: k.chain_questions,
    hideAnswers: k.chain_hide_answers,
  });
}
