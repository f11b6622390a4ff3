/**
 * What `deno task analyze` prints and writes for one checkpoint's
 * dynamics: the table's heading and the `--out` files (dynamics.json,
 * dynamics.csv, dynamics.svg, pca.svg). Pure: data in, text out.
 *
 * @module
 */
import type { DynamicsResult } from "../eval/dynamics.ts";
import { dynamicsChart, pcaChart } from "./dynamics.ts";
import { dynamicsCsv } from "./dynamics_text.ts";

/** The analysed run, as the output names it. */
export interface AnalysedRun {
  /** The checkpoint folder or file. */
  checkpoint: string;
  /** The checkpoint's training step. */
  step: number;
  /** The loops it was trained at, and its loop sampler. */
  config: { loops: number; loop_sampler: string };
  /** Problems analysed. */
  problems: number;
  /** Loops run. */
  loops: number;
}

/** The table's first line: the run, its training depth, and what was measured. */
export function dynamicsHeading(run: AnalysedRun): string {
  const { config } = run;
  return `checkpoint ${run.checkpoint} (step ${run.step}, trained at ${config.loops} loops${
    config.loop_sampler !== "fixed" ? `, ${config.loop_sampler} sampler` : ""
  }), ${run.problems} problems, ${run.loops} loops; means over answer positions`;
}

/**
 * The `--out` files by name. `report` is the JSON report; `problemNames`
 * label the PCA's points (each problem's prompt and answer).
 */
export function dynamicsFiles(
  run: AnalysedRun,
  result: DynamicsResult,
  report: unknown,
  problemNames: readonly string[],
): Record<string, string> {
  const name = run.checkpoint.replace(/\/+$/, "").split("/").pop() ?? run.checkpoint;
  return {
    "dynamics.json": JSON.stringify(report) + "\n",
    "dynamics.csv": dynamicsCsv(result) + "\n",
    "dynamics.svg": dynamicsChart(result, {
      title: `Latent dynamics: ${name}`,
      trainLoops: run.config.loop_sampler === "fixed" ? run.config.loops : undefined,
    }),
    "pca.svg": pcaChart(result, 10, `${name}: states (PCA)`, problemNames),
  };
}
