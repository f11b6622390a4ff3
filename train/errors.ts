/**
 * The input error, re-exported where training's modules have always found
 * it (it lives in utils/errors.ts, so that every layer can throw it).
 *
 * @module
 */
export { InputError } from "../utils/errors.ts";
