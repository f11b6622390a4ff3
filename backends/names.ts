/**
 * The backend names, apart from the backends themselves, so that a config
 * can name one without loading tfjs and the kernels.
 *
 * @module
 */

/** The backends the toolkit can run on. */
export const BACKENDS = ["auto", "wasm", "webgpu", "cpu"] as const;
/** A backend name, or `auto`. */
export type BackendName = typeof BACKENDS[number];
