/**
 * Progress of long commands on stderr: while work runs, a line with how far
 * it is and an ETA (rewritten in place on a terminal, every 30 s
 * otherwise); finished rows (a loop count's accuracy) as lines when they
 * complete. Work is counted in units the caller chooses; for a sweep, a
 * problem at `d` loops costs `d + 1` (the loops and the read-out), so deep
 * loop counts weigh what they cost ({@linkcode sweepWork}).
 */

import type { LoopEvaluationOptions } from "../eval/evaluate.ts";

const encoder = new TextEncoder();
const write = (text: string) => Deno.stderr.writeSync(encoder.encode(text));

/** `1h02m`, `3m05s`, `42s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) {
    return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
  }
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/** What a sweep will do: its loop counts, problems, and exit rules at their cap. */
export interface SweepPlan {
  /** Loop counts of the depth sweep. */
  grid: readonly number[];
  /** Problems per loop count. */
  problems: number;
  /** Exit rules (each decodes every problem at `exitMax` loops). */
  exitRules?: number;
  /** The exit rules' cap. */
  exitMax?: number;
}

/** A sweep's work in units of one problem at one loop (see the module doc). */
export function sweepWork(plan: SweepPlan): number {
  const depthWork = plan.grid.reduce((s, d) => s + d + 1, 0);
  return plan.problems * (depthWork + (plan.exitRules ?? 0) * ((plan.exitMax ?? 0) + 1));
}

/** Progress of one piece of work of `total` units; see the module doc. */
export class Progress {
  readonly #label: string;
  readonly #total: number;
  readonly #start = performance.now();
  readonly #terminal = Deno.stderr.isTerminal();
  #done = 0;
  // The first line waits one interval too: an eta from the first moments is noise.
  #lastLine = this.#start;
  #pending = false;

  /** Work of `total` units, each line prefixed by `label`. */
  constructor(label: string, total: number) {
    this.#label = label;
    this.#total = Math.max(1, total);
  }

  /** `units` more done, now at `status` (e.g. `8 loops`). */
  advance(units: number, status: string): void {
    this.#done += units;
    const now = performance.now();
    if (now - this.#lastLine < (this.#terminal ? 500 : 30_000)) return;
    this.#lastLine = now;
    const elapsed = (now - this.#start) / 1000;
    const share = Math.min(1, this.#done / this.#total);
    const eta = share > 0 ? elapsed * (1 - share) / share : 0;
    const line = `${this.#label}: ${status}, ${(100 * share).toFixed(0)}% done, ` +
      `${formatDuration(elapsed)} so far, eta ${formatDuration(eta)}`;
    if (this.#terminal) {
      write(`\r\x1b[K${line}`);
      this.#pending = true;
    } else write(`${line}\n`);
  }

  /** A finished row (a loop count's or an exit rule's result). */
  row(text: string): void {
    this.#clear();
    write(`${this.#label}: ${text}\n`);
  }

  /** Clears the in-place line (call when the work ends). */
  end(): void {
    this.#clear();
  }

  #clear() {
    if (this.#pending) write("\r\x1b[K");
    this.#pending = false;
  }
}

/**
 * A sweep's callbacks that report on `progress`: each problem advances it
 * by its loops, each loop count and exit rule is a row when it completes.
 */
export function sweepProgress(
  progress: Progress,
): Pick<LoopEvaluationOptions, "onProblem" | "onDepth" | "onExit"> {
  return {
    onProblem: (o) => progress.advance(o.loops + 1, o.exit ? `exit ${o.exit}` : `${o.loops} loops`),
    onDepth: (p) =>
      progress.row(`${p.depth} loops ${(p.accuracy * 100).toFixed(1)}% (${p.correct}/${p.total})`),
    onExit: (e) =>
      progress.row(
        `exit ${e.rule} ${(e.accuracy * 100).toFixed(1)}% at ${e.meanLoops.toFixed(2)} loops`,
      ),
  };
}
