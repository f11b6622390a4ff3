/**
 * `deno task compare --results A/results.json,B/results.json --out DIR`:
 * the accuracy curves of several `deno task eval` results overlaid in one
 * chart, `DIR/accuracy.svg`.
 */
import { parseSweepReports } from "../eval/report.ts";
import { accuracyChart } from "../plots/accuracy.ts";
import { sweepRun } from "../plots/sweep_output.ts";
import { fileReason } from "../utils/file_reason.ts";
import { jsonTextProblem, stripBom } from "../tasks/json_text.ts";
import { listFlag, parseFlags } from "./flags.ts";
import { ensureWritableDir } from "./out_dir.ts";
import { UsageError } from "./usage_error.ts";

const HELP = `Overlay the accuracy curves of deno task eval results in one chart.

Usage: deno task compare --results A/results.json,B/results.json --out DIR

  --results FILES  comma-separated results.json files of deno task eval (each
                   one run, or several as {"runs": [...]})
  --out DIR        where accuracy.svg goes
  --help           this text`;

/** Runs the compare command; returns the process exit code. */
export async function compareCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, { strings: ["results", "out"], booleans: ["help"] });
  if (flags.help) {
    console.log(HELP);
    return 0;
  }
  if (typeof flags.results !== "string") {
    throw new UsageError("--results FILES is required (results.json files of deno task eval)");
  }
  return await compareResults(flags.results, flags.out as string | undefined, "results");
}

/**
 * Writes `out/accuracy.svg` from the comma-separated results.json `files`;
 * errors name `flag` (`results`, or `compare` as `deno task analyze` spells it).
 */
export async function compareResults(
  files: string,
  out: string | undefined,
  flag: string,
): Promise<number> {
  if (!out) throw new UsageError(`--${flag} needs --out DIR (where accuracy.svg goes)`);
  const runs = [];
  for (const file of listFlag(flag, files)) {
    let text: string;
    try {
      text = stripBom(await Deno.readTextFile(file));
    } catch (e) {
      throw new UsageError(`--${flag}: cannot read "${file}" (${fileReason(e)})`);
    }
    const parsed = parseSweepReports(text);
    const reports = typeof parsed === "string" ? parsed : jsonTextProblem(text) ?? parsed;
    if (typeof reports === "string") {
      throw new UsageError(
        `--${flag}: "${file}" is not a results.json of deno task eval: ${reports}`,
      );
    }
    runs.push(...reports.map(sweepRun));
  }
  await ensureWritableDir("out", out);
  await Deno.writeTextFile(`${out}/accuracy.svg`, accuracyChart(runs));
  console.log(`wrote ${out}/accuracy.svg (${runs.length} runs)`);
  return 0;
}
