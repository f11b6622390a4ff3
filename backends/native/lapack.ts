/**
 * Eigenvalues of a real square matrix by LAPACK's `dgeev`, from the same
 * native library as the matrix products (backends/native/blas.ts), through
 * Deno's FFI: about 25x ml-matrix's JavaScript port at n = 1 024. Null where
 * the library (or its LAPACK part) is not loaded; the caller falls back.
 *
 * @module
 */
import { nativeBlasStatus } from "./blas.ts";

const DGEEV = {
  // jobvl, jobvr, n, a, lda, wr, wi, vl, ldvl, vr, ldvr, work, lwork, info,
  // then gfortran's hidden lengths of the two character arguments.
  parameters: [
    "buffer",
    "buffer",
    "buffer",
    "buffer",
    "buffer",
    "buffer",
    "buffer",
    "buffer",
    "buffer",
    "buffer",
    "buffer",
    "buffer",
    "buffer",
    "buffer",
    "usize",
    "usize",
  ],
  result: "void",
} as const;

type Dgeev = (...args: unknown[]) => void;
let dgeev: Dgeev | null | undefined;

function load(): Dgeev | null {
  const path = nativeBlasStatus();
  if (path.products !== "native" || !path.library) return null;
  try {
    const lib = Deno.dlopen(path.library, { dgeev_: { ...DGEEV, optional: true } });
    return (lib.symbols.dgeev_ as Dgeev | null) ?? null;
  } catch {
    return null;
  }
}

/** Whether {@linkcode nativeEigenvalues} can run here. */
export function nativeEigenvaluesReady(): boolean {
  dgeev ??= load();
  return dgeev !== null;
}

/**
 * The eigenvalues of the `n x n` matrix `a` (row-major or column-major: a
 * matrix and its transpose have the same eigenvalues) as real and
 * imaginary parts, in LAPACK's order, or null where `dgeev` is not loaded.
 * Throws if LAPACK reports a failure.
 */
export function nativeEigenvalues(
  a: Float64Array,
  n: number,
): { re: Float64Array; im: Float64Array } | null {
  dgeev ??= load();
  if (!dgeev) return null;
  const int = (v: number) => new Int32Array([v]);
  const no = new Uint8Array(["N".charCodeAt(0)]);
  const copy = a.slice(); // dgeev overwrites its input
  const re = new Float64Array(n), im = new Float64Array(n);
  const dummy = new Float64Array(1);
  const info = int(0);
  const call = (work: Float64Array, lwork: number) =>
    dgeev!(
      no,
      no,
      int(n),
      copy,
      int(Math.max(1, n)),
      re,
      im,
      dummy,
      int(1),
      dummy,
      int(1),
      work,
      int(lwork),
      info,
      1,
      1,
    );
  const query = new Float64Array(1);
  call(query, -1); // workspace query
  call(new Float64Array(Math.max(1, query[0])), Math.max(1, query[0]));
  if (info[0] !== 0) throw new Error(`dgeev failed (info ${info[0]})`);
  return { re, im };
}
