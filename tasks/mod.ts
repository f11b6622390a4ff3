/**
 * Arithmetic tasks for looped language models: the paper's character
 * tokenizer, the reversed-answer problem format, seeded train/test
 * generation, the paper's JSONL test files, and token batches with an
 * answer-only loss mask.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { arithmeticTask, encodeBatch } from "@stars/toolkit/tasks";
 * const task = arithmeticTask({ digits: 4 });
 * const train = task.sample("train", 1, 8);
 * const batch = encodeBatch(train, task.tokenizer, task.seqLen);
 * assertEquals([batch.batch, batch.seqLen], [8, 16]);
 * ```
 *
 * @module
 */

export * from "./task.ts";
export * from "./tokenizer.ts";
export * from "./arithmetic_task.ts";
export * from "./arithmetic_keys.ts";
export * from "./arithmetic.ts";
export * from "./split.ts";
export * from "./generate.ts";
export * from "./paper_data.ts";
export * from "./json_text.ts";
export * from "./batch.ts";
export * from "./chain.ts";
export * from "./chain_keys.ts";
export * from "./math/mod.ts";
export * from "./registry.ts";
