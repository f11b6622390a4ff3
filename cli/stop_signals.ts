/**
 * Ctrl-C (and SIGTERM, where there is one) stop a long command after its
 * current step, with a checkpoint: the signals abort an AbortSignal the
 * library watches. `using` removes the listeners when the command ends.
 *
 * @module
 */

const STOP_SIGNALS: Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT"]
  : ["SIGINT", "SIGTERM"];

/** A command's stop signals; dispose it to remove the listeners. */
export interface Stopper extends Disposable {
  /** Aborted by the first stop signal. */
  readonly signal: AbortSignal;
  /** The exit code of a command the first signal stopped: 130 for Ctrl-C, 143 for SIGTERM. */
  exitCode(): number;
}

/** Listens for the stop signals until disposed. */
export function stopOnSignals(): Stopper {
  const controller = new AbortController();
  let first: Deno.Signal | null = null;
  const listeners = STOP_SIGNALS.map((signal) => {
    const listener = () => {
      first ??= signal;
      controller.abort();
    };
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  return {
    signal: controller.signal,
    exitCode: () => first === "SIGTERM" ? 143 : 130,
    [Symbol.dispose]() {
      for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
    },
  };
}
