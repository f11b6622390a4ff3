/**
 * A dynamics record rendered as text: a table per loop with sparklines for
 * the terminal, and CSV.
 *
 * @module
 */
import type { DynamicsResult } from "../eval/dynamics.ts";
import { sparkline } from "./terminal.ts";

const fmt = (v: number | null, digits = 4) =>
  v === null || !Number.isFinite(v)
    ? "-"
    : Math.abs(v) >= 1e-3 || v === 0
    ? v.toFixed(digits)
    : v.toExponential(1);

/** The dynamics as a table for the terminal, under `head`, with sparklines. */
export function dynamicsTable(head: string, r: DynamicsResult): string {
  const lines = [
    head,
    "loop     ||h||   rel step     rho(J)   entropy        KL  token acc",
  ];
  for (const p of r.points) {
    lines.push(
      [
        String(p.loop).padStart(4),
        fmt(p.stateNorm, 3).padStart(9),
        fmt(p.relStep).padStart(10),
        (p.rho === null ? "" : fmt(p.rho) + (p.rhoConverged ? " " : "?")).padStart(10),
        fmt(p.entropy).padStart(9),
        fmt(p.kl).padStart(9),
        (p.accuracy === null ? "-" : `${(p.accuracy * 100).toFixed(1)}%`).padStart(10),
      ].join(" "),
    );
  }
  const log = (v: number | null) => v !== null && v > 0 ? Math.log10(v) : null;
  lines.push(
    "",
    "(? after rho: the estimate did not meet its tolerance)",
    `rel step (log)  ${sparkline(r.points.map((p) => log(p.relStep)))}`,
    `entropy         ${sparkline(r.points.map((p) => p.entropy))}`,
    `KL (log)        ${sparkline(r.points.map((p) => log(p.kl)))}`,
    `token acc       ${sparkline(r.points.map((p) => p.accuracy), 0, 1)}`,
  );
  return lines.join("\n");
}

/** The dynamics as CSV, one row per loop, with its header. */
export function dynamicsCsv(r: DynamicsResult): string {
  const rows = r.points.map((p) =>
    [
      p.loop,
      p.stateNorm,
      p.step ?? "",
      p.relStep ?? "",
      p.rho ?? "",
      p.rhoConverged ?? "",
      p.entropy ?? "",
      p.kl ?? "",
      p.accuracy ?? "",
    ].join(",")
  );
  return ["loop,state_norm,step,rel_step,rho,rho_converged,entropy,kl,accuracy", ...rows].join(
    "\n",
  );
}
