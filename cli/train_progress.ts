/**
 * `deno task train`'s progress on stdout: the start, a step line every two
 * seconds (loss, accuracy, loops, learning rate, step time, ETA), notes,
 * and each held-out evaluation.
 *
 * @module
 */
import type { TrainEvent } from "../train/trainer.ts";
import { formatDuration } from "./progress.ts";

const eta = (seconds: number) => Number.isFinite(seconds) ? formatDuration(seconds) : "?";

/** A progress printer: a line every few seconds, each eval and checkpoint. */
export function trainProgress(): (e: TrainEvent) => void {
  let lastPrint = 0, firstStep = 0, t0 = 0;
  return (e) => {
    if (e.kind === "start") {
      firstStep = e.step;
      t0 = performance.now();
      console.log(
        `${
          e.resumed ? "resuming at" : "starting"
        } step ${e.step}/${e.steps}, ${e.params} parameters`,
      );
    } else if (e.kind === "step") {
      const now = performance.now();
      if (now - lastPrint < 2000 && e.step !== e.steps) return;
      lastPrint = now;
      const rate = (now - t0) / 1000 / (e.step - firstStep);
      const m = e.metrics;
      const extra = Object.entries(m)
        .filter(([k]) => !["loss", "ce", "accuracy", "grad_norm"].includes(k))
        .map(([k, v]) => ` ${k} ${v.toFixed(4)}`).join("");
      console.log(
        `step ${e.step}/${e.steps}  loss ${m.loss.toFixed(4)}  acc ${
          (m.accuracy * 100).toFixed(1)
        }%` +
          `  loops ${e.loops}  lr ${e.lr.toExponential(2)}${extra}  ${e.ms.toFixed(0)}ms/step` +
          `  eta ${eta(rate * (e.steps - e.step))}`,
      );
    } else if (e.kind === "note") {
      console.log(`note: ${e.message}`);
    } else if (e.kind === "eval") {
      console.log(
        `eval step ${e.step}: exact match ${
          (e.accuracy * 100).toFixed(2)
        }% (${e.correct}/${e.total}) at ${e.loops} loops`,
      );
    }
  };
}
