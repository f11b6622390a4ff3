/**
 * `deno task repro [--profile quick|full|micro] [--out DIR] [--arms A,B,C,D]`:
 * trains the four arms, sweeps them over loop depth on the paper's test
 * split, and writes results.json, results.md, accuracy.svg and dynamics.svg.
 * `--profile finetune` and `--pilot` are their own files
 * (`repro_finetune.ts`, `repro_pilot.ts`).
 */
import { armConfig, type Profile, profileArms, PROFILES, profileSeeds } from "../repro/arms.ts";
import { runRepro } from "../repro/run.ts";
import { runProvenance } from "../repro/provenance.ts";
import { reproReportFiles } from "../repro/report_files.ts";
import { resolveConfig } from "../train/config.ts";
import { FINETUNE_PROFILES, type FinetuneProfile } from "../repro/finetune_arms.ts";
import { arithmeticTestFile } from "../train/test_set.ts";
import { blasFlag } from "./backend_flags.ts";
import { parseFlags } from "./flags.ts";
import { UsageError } from "./usage_error.ts";
import { stopOnSignals } from "./stop_signals.ts";
import { allowedList, runPrinter, start, writeResult } from "./repro_common.ts";
import { finetuneCommand } from "./repro_finetune.ts";
import { pilotCommand } from "./repro_pilot.ts";
import { PILOT_CANDIDATES } from "../repro/pilot.ts";

// A URL (file: in a checkout, https: from a registry), which eval's reader takes.
const PAPER_TEST = new URL("../data/stars_addition_test_4digit.jsonl", import.meta.url).href;

const HELP = `Reproduce the paper's addition result: arms A-D, accuracy against loop depth.

Usage: deno task repro [--profile NAME] [--out DIR] [--arms A,B,C,D] [--seeds 1,2,3]

  --profile NAME   quick (under 15 minutes on 2 cores, default), full (the
                   four-arm results, about 35 minutes on 2 cores as two
                   processes), micro (a plumbing check); study (the seeded
                   grid: F-* fixed 4 loops, R-* log-normal loops, S-* STARS,
                   for each norm placement pre, post, sb (sandwich_branch),
                   sd (sandwich_dual); seeds 1,2,3), study-micro (its check);
                   finetune (the paper's fine-tuning result on the chain
                   task: a base pretrained at fixed 4 loops, fine-tuned by
                   SFT, RAND (random loops) and STARS, seeds 1,2,3; arms
                   base,SFT,RAND,STARS; the base first, then the arms in
                   any number of processes), finetune-micro (its check)
  --out DIR        checkpoints and results (default runs/repro-<profile>); a
                   run that stops resumes from its checkpoints
  --arms LIST      arms to run (default all of the profile's); run two sets in
                   two processes to use two cores, then once more with all
                   arms to write the report (finished runs are only read)
  --seeds LIST     seeds to run (default all of the profile's)
  --report         train nothing: write the report (or the pilot's, with
                   --pilot) from the finished runs, listing the ones missing
  --pilot          instead: the pilot that picks the study's budget (each
                   candidate's penalty-free arms, seeds 1-3, trained up to the
                   penalty's first step; writes pilot.md and pilot.json;
                   default --out runs/pilot)
  --candidates L   the pilot's candidates (default all: ${
  PILOT_CANDIDATES.map((c) => c.name).join(",")
})
  --data FILE      test split (default the paper's, data/stars_addition_test_4digit.jsonl)
  --backend NAME   auto|wasm|webgpu|cpu (default auto, or STARS_BACKEND)
  --blas on|off    native matrix products (OpenBLAS through FFI) where found
                   (default on; or STARS_BLAS; STARS_THREADS sets its threads)
  --help           this text

Ctrl-C or SIGTERM stops after the current step with every checkpoint saved
(exit 130, or 143 for SIGTERM); the same command resumes.`;

/** Runs the repro command; returns the process exit code. */
export async function reproCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    strings: ["profile", "out", "arms", "seeds", "data", "backend", "blas", "candidates"],
    booleans: ["help", "pilot", "report"],
  });
  if (flags.help) {
    console.log(HELP);
    return 0;
  }
  blasFlag(flags.blas as string | undefined);
  if (flags.pilot) return await pilotCommand(args, flags);
  const profile = (flags.profile as string | undefined) ?? "quick";
  if ((FINETUNE_PROFILES as readonly string[]).includes(profile)) {
    return await finetuneCommand(args, flags, profile as FinetuneProfile);
  }
  if (!(PROFILES as readonly string[]).includes(profile)) {
    throw new UsageError(
      `--profile: "${profile}" is not one of ${[...PROFILES, ...FINETUNE_PROFILES].join(", ")}`,
    );
  }
  const known = profileArms(profile as Profile);
  const arms = allowedList(
    flags.arms,
    "arms",
    known.map((a) => a.id),
    (s) => known.find((a) => a.id.toLowerCase() === s.toLowerCase())?.id,
  );
  const allowedSeeds = profileSeeds(profile as Profile);
  const seeds = allowedList(
    flags.seeds,
    "seeds",
    allowedSeeds.map(String),
    (s) => allowedSeeds.find((x) => String(x) === s),
  );
  const outDir = (flags.out as string | undefined) ?? `runs/repro-${profile}`;
  const dataPath = (flags.data as string | undefined) ?? PAPER_TEST;
  // Every problem must fit every arm's model before arm A trains.
  const testProblems = await arithmeticTestFile(
    "data",
    dataPath,
    known.filter((a) => !arms || arms.includes(a.id)).map((arm) => ({
      name: `arm ${arm.id}`,
      config: resolveConfig(armConfig(profile as Profile, arm)),
    })),
  );
  const backend = await start(flags, `profile ${profile}`, outDir);
  using stop = stopOnSignals();
  const result = await runRepro({
    profile: profile as Profile,
    outDir,
    testProblems,
    arms,
    seeds,
    finishedOnly: flags.report === true,
    provenance: await runProvenance(backend),
    signal: stop.signal,
    onEvent: runPrinter(),
  });
  if (stop.signal.aborted) {
    console.log(`interrupted; checkpoints are in ${outDir}/arms (run again to resume)`);
    return stop.exitCode();
  }
  const markdown = await writeResult(outDir, args, result, (c) => reproReportFiles(result, c));
  console.log(markdown);
  return 0;
}
