/**
 * `deno task repro --profile finetune [--arms base,SFT,RAND,STARS] [--seeds 1,2,3]`:
 * the fine-tuning experiment, the base, then each arm and seed from it
 * (`repro/finetune.ts`).
 *
 * @module
 */
import { FINETUNE_PROFILE_SPECS, type FinetuneProfile } from "../repro/finetune_arms.ts";
import { BASE_ID, runFinetune } from "../repro/finetune.ts";
import { runProvenance } from "../repro/provenance.ts";
import { finetuneReportFiles } from "../repro/report_files.ts";
import { allowedList, runPrinter, start, writeResult } from "./repro_common.ts";
import { stopOnSignals } from "./stop_signals.ts";
import { UsageError } from "./usage_error.ts";

// The fine-tuning experiment: the base, then each arm and seed from it.
export async function finetuneCommand(
  args: string[],
  flags: Record<string, unknown>,
  profile: FinetuneProfile,
): Promise<number> {
  for (const flag of ["data", "candidates"]) {
    if (flags[flag] !== undefined) {
      throw new UsageError(`--${flag} does not apply to --profile ${profile}`);
    }
  }
  const spec = FINETUNE_PROFILE_SPECS[profile];
  const known = [BASE_ID, ...spec.arms.map((a) => a.id)];
  const arms = allowedList(
    flags.arms,
    "arms",
    known,
    (s) => known.find((id) => id.toLowerCase() === s.toLowerCase()),
  );
  const seeds = allowedList(
    flags.seeds,
    "seeds",
    spec.seeds.map(String),
    (s) => spec.seeds.find((x) => String(x) === s),
  );
  const outDir = (flags.out as string | undefined) ?? `runs/repro-${profile}`;
  const backend = await start(flags, `profile ${profile}`, outDir);
  using stop = stopOnSignals();
  const result = await runFinetune({
    profile,
    outDir,
    arms,
    seeds,
    finishedOnly: flags.report === true,
    provenance: await runProvenance(backend),
    signal: stop.signal,
    onEvent: runPrinter(),
  });
  if (stop.signal.aborted) {
    console.log(`interrupted; checkpoints are in ${outDir} (run again to resume)`);
    return stop.exitCode();
  }
  const markdown = await writeResult(outDir, args, result, (c) => finetuneReportFiles(result, c));
  console.log(markdown);
  return 0;
}
