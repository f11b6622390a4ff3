/**
 * The subset of `jsr:@std/assert` that this project's tests use, with the
 * same names and signatures, built on `node:assert`.
 *
 * @module
 */
import nodeAssert from "node:assert";

/** Error thrown when an assertion fails. */
export class AssertionError extends Error {
  /** Creates an assertion error with a message. */
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

function fail(message: string, msg?: string): never {
  throw new AssertionError(msg ? `${msg}: ${message}` : message);
}

/** Asserts that `expr` is truthy. */
export function assert(expr: unknown, msg = ""): asserts expr {
  if (!expr) fail("expected a truthy value", msg);
}

/** Asserts deep equality of `actual` and `expected`. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  try {
    nodeAssert.deepStrictEqual(actual, expected);
  } catch (e) {
    fail((e as Error).message, msg);
  }
}

/** Asserts that `actual` and `expected` are not deeply equal. */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  try {
    nodeAssert.notDeepStrictEqual(actual, expected);
  } catch (e) {
    fail((e as Error).message, msg);
  }
}

/** Asserts `|actual - expected| <= tolerance` (default 1e-7). */
export function assertAlmostEquals(
  actual: number,
  expected: number,
  tolerance = 1e-7,
  msg?: string,
): void {
  if (Object.is(actual, expected)) return;
  const delta = Math.abs(expected - actual);
  if (!(delta <= tolerance)) {
    fail(
      `expected ${actual} to be within ${tolerance} of ${expected} (off by ${delta})`,
      msg,
    );
  }
}

/** Asserts `actual > expected`. */
export function assertGreater<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual > expected)) fail(`expected ${actual} > ${expected}`, msg);
}

/** Asserts `actual >= expected`. */
export function assertGreaterOrEqual<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual >= expected)) fail(`expected ${actual} >= ${expected}`, msg);
}

/** Asserts `actual < expected`. */
export function assertLess<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual < expected)) fail(`expected ${actual} < ${expected}`, msg);
}

/** Asserts `actual <= expected`. */
export function assertLessOrEqual<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual <= expected)) fail(`expected ${actual} <= ${expected}`, msg);
}

/** Asserts that `actual` contains `expected`. */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  if (!actual.includes(expected)) fail(`expected "${actual}" to contain "${expected}"`, msg);
}

/** Asserts that `actual` matches `expected`. */
export function assertMatch(actual: string, expected: RegExp, msg?: string): void {
  if (!expected.test(actual)) fail(`expected "${actual}" to match ${expected}`, msg);
}

// deno-lint-ignore no-explicit-any
type ErrorClass<E extends Error> = abstract new (...args: any[]) => E;

function checkError<E extends Error>(
  error: unknown,
  ErrorClass: ErrorClass<E>,
  msgIncludes?: string,
  msg?: string,
): E {
  if (!(error instanceof Error)) fail(`a non-Error object was thrown: ${String(error)}`, msg);
  if (!(error instanceof ErrorClass)) {
    fail(`expected error of class ${ErrorClass.name}, got ${error.name}: ${error.message}`, msg);
  }
  if (msgIncludes !== undefined && !error.message.includes(msgIncludes)) {
    fail(`expected error message to include "${msgIncludes}", got "${error.message}"`, msg);
  }
  return error as E;
}

// The second argument is an error class or, as in @std/assert, the message.
function classOrMessage<E extends Error>(
  second: ErrorClass<E> | string | undefined,
  third: string | undefined,
  fourth: string | undefined,
): { ErrorClass?: ErrorClass<E>; msgIncludes?: string; msg?: string } {
  if (typeof second === "string") return { msg: second };
  if (second === undefined) return { msg: fourth }; // as @std/assert: no class, no message check
  return { ErrorClass: second, msgIncludes: third, msg: fourth };
}

/**
 * Asserts that `fn` throws and returns what it threw; with an `ErrorClass`,
 * that it is an instance of it whose message includes `msgIncludes`.
 * Without one the result is `unknown`, as in `@std/assert`.
 */
export function assertThrows(fn: () => unknown, msg?: string): unknown;
/** Asserts that `fn` throws an `ErrorClass` (whose message includes `msgIncludes`), and returns it. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  ErrorClass: ErrorClass<E>,
  msgIncludes?: string,
  msg?: string,
): E;
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  second?: ErrorClass<E> | string,
  msgIncludes?: string,
  msg?: string,
): unknown {
  const o = classOrMessage(second, msgIncludes, msg);
  try {
    fn();
  } catch (error) {
    return o.ErrorClass ? checkError(error, o.ErrorClass, o.msgIncludes, o.msg) : error;
  }
  return fail("expected function to throw", o.msg);
}

/**
 * Asserts that the promise `fn` returns rejects, and returns the reason;
 * with an `ErrorClass`, as {@linkcode assertThrows}.
 */
export function assertRejects(fn: () => PromiseLike<unknown>, msg?: string): Promise<unknown>;
/** Asserts that the promise `fn` returns rejects with an `ErrorClass`, and returns it. */
export function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  ErrorClass: ErrorClass<E>,
  msgIncludes?: string,
  msg?: string,
): Promise<E>;
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  second?: ErrorClass<E> | string,
  msgIncludes?: string,
  msg?: string,
): Promise<unknown> {
  const o = classOrMessage(second, msgIncludes, msg);
  try {
    await fn();
  } catch (error) {
    return o.ErrorClass ? checkError(error, o.ErrorClass, o.msgIncludes, o.msg) : error;
  }
  return fail("expected promise to reject", o.msg);
}
