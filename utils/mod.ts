/**
 * Utilities every layer uses: the seeded random number generator, the
 * input error (exit code 2 on the command line), and config-key tables
 * (each key's default, type, range and help, and the one checker).
 *
 * @example
 * ```ts
 * import { mixSeed, Rng } from "@stars/toolkit/utils";
 * const a = new Rng(mixSeed(1, 7)).next(), b = new Rng(mixSeed(1, 7)).next();
 * if (a !== b) throw new Error("a seed gives one stream");
 * ```
 *
 * @module
 */
export * from "./rng.ts";
export * from "./errors.ts";
export * from "./config_keys.ts";
export * from "./normal_stream.ts";
export * from "./file_reason.ts";
export * from "./numerics.ts";
