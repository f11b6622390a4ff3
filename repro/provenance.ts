/**
 * What computed a run: recorded with each result so that runs on other code
 * or kernels are not mixed unnoticed (a study refuses to mix numerics
 * revisions, product or attention paths: {@linkcode mixedComputation}).
 *
 * @module
 */
import { nativeBlasStatus } from "../backends/native/blas.ts";
import { wasmKernelThreads } from "../backends/wasm/threads.ts";
import { attentionPath } from "../ops/attention.ts";
import { NUMERICS_REVISION, numericsRevisionOf } from "../utils/numerics.ts";

/**
 * The commit (`+uncommitted` when the checkout has changes; `unknown` when
 * the code is not a git checkout, e.g. loaded from a registry), the numerics
 * revision (`utils/numerics.ts`), the backend,
 * and on wasm the product path, attention path and kernel threads.
 */
export async function runProvenance(backend: string): Promise<Record<string, unknown>> {
  let commit = "unknown";
  const root = new URL("..", import.meta.url);
  try {
    if (root.protocol !== "file:") throw new Error("loaded from a registry");
    const git = (...args: string[]) => new Deno.Command("git", { args, cwd: root }).output();
    const head = await git("rev-parse", "HEAD");
    const dirty = await git("status", "--porcelain", "--untracked-files=no");
    if (head.success) {
      commit = new TextDecoder().decode(head.stdout).trim() +
        (dirty.stdout.length ? "+uncommitted" : "");
    }
  } catch {
    // not a git checkout, or no permission to run git
  }
  return {
    commit,
    numerics: NUMERICS_REVISION,
    backend,
    kernels: backend === "wasm" ? "toolkit wasm SIMD" : backend,
    ...(backend === "wasm" ? { products: nativeBlasStatus(), attention: attentionPath() } : {}),
    wasm_threads: backend === "wasm" ? wasmKernelThreads() : undefined,
    deno: Deno.version.deno,
  };
}

/**
 * Which path computed a run's matrix products: `native` (a BLAS) or `wasm`
 * (the toolkit's kernels; also what results from before the native path
 * recorded), or the backend's name.
 */
export function productPathOf(provenance: Record<string, unknown> | undefined): string {
  const products = (provenance?.products as { products?: string } | undefined)?.products;
  if (products) return products;
  return provenance?.kernels === "toolkit wasm SIMD" ? "wasm" : String(provenance?.backend);
}

/**
 * Which path computed a run's attention: `fused` (the backend's kernel) or
 * `reference` (tfjs ops; also what results from before the fused kernel
 * recorded).
 */
export function attentionPathOf(provenance: Record<string, unknown> | undefined): string {
  return String(provenance?.attention ?? "reference");
}

/**
 * Why a finished run computed as `there` (its recorded provenance) must not
 * join a study this process computes as `here`, completing the sentence
 * "<run> ...": another numerics revision, attention path or product path,
 * each with what to do instead. Null when they match or `there` recorded
 * nothing.
 *
 * @example
 * ```ts
 * import { assertEquals, assertStringIncludes } from "@std/assert";
 * import { mixedComputation } from "@stars/toolkit/repro";
 * const here = { numerics: 2, products: { products: "native" }, attention: "fused" };
 * assertEquals(mixedComputation(here, here), null);
 * const older = mixedComputation({ ...here, numerics: 1, commit: "abc" }, here)!;
 * assertStringIncludes(older, "numerics revision 1 (commit abc)");
 * ```
 */
export function mixedComputation(
  there: Record<string, unknown> | undefined,
  here: Record<string, unknown> | undefined,
): string | null {
  if (!there) return null;
  const [revision, revisionHere] = [numericsRevisionOf(there), numericsRevisionOf(here)];
  if (revision !== revisionHere) {
    return `was computed with the toolkit's numerics revision ${revision} (commit ` +
      `${there.commit ?? "unknown"}) and this code computes revision ${revisionHere}; runs of ` +
      "one study must not mix revisions (run that commit to add to this study, or a new --out)";
  }
  const [attention, attentionHere] = [attentionPathOf(there), attentionPathOf(here)];
  if (attention !== attentionHere) {
    const fix = attention === "reference"
      ? "set STARS_FUSED_ATTENTION=off"
      : "unset STARS_FUSED_ATTENTION";
    return `was computed with ${attention} attention and this process computes it with ` +
      `${attentionHere}; runs of one study must not mix paths (${fix}, or a new --out)`;
  }
  const [products, productsHere] = [productPathOf(there), productPathOf(here)];
  if (products !== productsHere) {
    const fix = products === "wasm" ? "add --blas off" : "use the same --blas";
    return `was computed with ${products} matrix products and this process computes them ` +
      `with ${productsHere}; runs of one study must not mix paths (${fix}, or a new --out)`;
  }
  return null;
}
