/**
 * What computed a run: recorded with each result so that runs on other code
 * or kernels are not mixed unnoticed (a study refuses to mix product or
 * attention paths, `repro/run.ts`).
 *
 * @module
 */
import { nativeBlasStatus } from "../backends/native/blas.ts";
import { wasmKernelThreads } from "../backends/wasm/threads.ts";
import { attentionPath } from "../ops/attention.ts";
import { NUMERICS_REVISION } from "../utils/numerics.ts";

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
