/**
 * Test set-up: activates the backend named by STARS_BACKEND (default wasm),
 * so `STARS_BACKEND=webgpu deno task test` runs the whole suite on WebGPU.
 */
import { parseBackend, useBackend } from "../backends/select.ts";

/** The backend the tests run on. */
export const BACKEND: string = await useBackend(
  parseBackend(Deno.env.get("STARS_BACKEND") ?? "wasm"),
);

/** Reads a tensor's values on any backend (webgpu has no dataSync in Deno). */
export async function values(t: { data(): Promise<ArrayLike<number>> }): Promise<number[]> {
  return Array.from(await t.data());
}

/** Largest absolute difference between two arrays of equal length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
