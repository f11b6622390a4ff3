/**
 * The run-config keys of the `gsm8k-synthetic` task, declared once, their
 * cross-key rule, and the task they ask for (the generator, or a GSM8K/MATH
 * file given by `data`).
 *
 * @module
 */
import {
  choiceKey,
  ConfigError,
  intKey,
  type KeyTable,
  stringKey,
  withDefaults,
} from "../../utils/config_keys.ts";
import { loadMathDataTaskSync, type MathTask, mathTask } from "./math_task.ts";

/** Tokenizers of the math task selectable by `tokenizer`. */
export const TOKENIZERS = ["char", "bpe"] as const;

/** The keys a math run reads. */
export interface MathKeys {
  /** Fewest reasoning steps of a word problem. */
  steps_min: number;
  /** Most reasoning steps of a word problem. */
  steps_max: number;
  /** Math JSON-lines file to train on instead of the generator ("" = none). */
  data: string;
  /** Tokenizer of the math task: characters, or GPT-2 BPE (50 258 ids). */
  tokenizer: typeof TOKENIZERS[number];
}

/** {@linkcode MathKeys} with their defaults, ranges and help. */
export const MATH_KEYS: KeyTable<MathKeys> = {
  steps_min: intKey(2, "fewest reasoning steps of a word problem", 1, 30),
  steps_max: intKey(4, "most reasoning steps of a word problem", 1, 30),
  data: stringKey("", 'math JSON-lines file to train on ("" = the generator)'),
  tokenizer: choiceKey("char", "math tokenizer (bpe: 50 258 ids, a big embedding)", TOKENIZERS),
};

/** The rule between the math keys (`steps_min <= steps_max`); throws a {@linkcode ConfigError}. */
export function checkMathKeys(k: MathKeys): void {
  if (k.steps_min > k.steps_max) {
    throw new ConfigError(
      `config key "steps_min" must be <= steps_max (${k.steps_max}), got ${k.steps_min}`,
    );
  }
}

/** The math task that keys ask for (absent keys take their defaults). */
export function mathTaskFromKeys(keys: Partial<MathKeys>): MathTask {
  const k = withDefaults(MATH_KEYS, keys);
  if (k.data) return loadMathDataTaskSync(k.data, { tokenizer: k.tokenizer });
  return mathTask({ stepsMin: k.steps_min, stepsMax: k.steps_max, tokenizer: k.tokenizer });
}
