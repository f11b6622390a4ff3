/**
 * Math word problems for looped language models: streaming loaders of
 * GSM8K, MATH / MATH500 and `{prompt, answer}` JSON-lines files, answer
 * extraction and normalised exact match, a seeded multi-step word-problem
 * generator in GSM8K's format with structure-disjoint splits, character and
 * GPT-2 BPE tokenizers, and the {@linkcode mathTask} task.
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { answersMatch, mathTask } from "@stars/toolkit/tasks";
 * const task = mathTask({ stepsMin: 2, stepsMax: 3 });
 * const [p] = task.sample("train", 1, 1);
 * assert(p.prompt.endsWith("\nA:"));
 * assert(answersMatch("$1,000", "1000"));
 * ```
 *
 * @module
 */
export * from "./answer.ts";
export * from "./formats.ts";
export * from "./load.ts";
export * from "./tokenizers.ts";
export * from "./word_problems.ts";
export * from "./math_task.ts";
export * from "./math_keys.ts";
