/**
 * Progress of long evaluations on stderr: while a sweep runs, a line with
 * how far it is and an ETA (rewritten in place on a terminal, every 30 s
 * otherwise); each loop count's accuracy as a line when it completes.
 * Work is counted in loops: a problem at `d` loops costs `d + 1` (the
 * loops and the read-out), so deep loop counts weigh what they cost.
 */

/** What a sweep will do: its loop counts, problems, and exit rules at their cap. */
export interface SweepPlan {
  /** Prefix of every line (e.g. the checkpoint). */
  label: string;
  /** Loop counts of the depth sweep. */
  grid: readonly number[];
  /** Problems per loop count. */
  problems: number;
  /** Exit rules (each decodes every problem at `exitMax` loops). */
  exitRules?: number;
  /** The exit rules' cap. */
  exitMax?: number;
}

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

/** Progress of one model's sweep (and exit rules); see the module doc. */
export class SweepProgress {
  readonly #plan: SweepPlan;
  readonly #total: number;
  readonly #start = performance.now();
  readonly #terminal = Deno.stderr.isTerminal();
  #done = 0;
  #lastLine = 0;
  #pending = false;

  constructor(plan: SweepPlan) {
    this.#plan = plan;
    const depthWork = plan.grid.reduce((s, d) => s + d + 1, 0);
    this.#total = plan.problems * (depthWork + (plan.exitRules ?? 0) * ((plan.exitMax ?? 0) + 1));
  }

  /** One problem decoded at `depth` loops (an exit rule: at its cap). */
  problem(depth: number): void {
    this.#done += depth + 1;
    const now = performance.now();
    if (now - this.#lastLine < (this.#terminal ? 500 : 30_000)) return;
    this.#lastLine = now;
    const elapsed = (now - this.#start) / 1000;
    const share = this.#done / this.#total;
    const eta = share > 0 ? elapsed * (1 - share) / share : 0;
    const line = `${this.#plan.label}: ${depth} loops, ${(100 * share).toFixed(0)}% of the ` +
      `sweep, ${formatDuration(elapsed)} so far, eta ${formatDuration(eta)}`;
    if (this.#terminal) {
      write(`\r\x1b[K${line}`);
      this.#pending = true;
    } else write(`${line}\n`);
  }

  /** A finished row (a loop count's or an exit rule's result). */
  row(text: string): void {
    this.#clear();
    write(`${this.#plan.label}: ${text}\n`);
  }

  /** Clears the in-place line (call when the sweep ends). */
  end(): void {
    this.#clear();
  }

  #clear() {
    if (this.#pending) write("\r\x1b[K");
    this.#pending = false;
  }
}
