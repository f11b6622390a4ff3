/**
 * `deno task repro [--profile quick|full|micro] [--out DIR] [--arms A,B,C,D]`:
 * trains the four arms, sweeps them over loop depth on the paper's test
 * split, and writes results.json, results.md, accuracy.svg and dynamics.svg.
 */
import { parseBackend, useBackend } from "../backends/select.ts";
import {
  armConfig,
  type Profile,
  PROFILE_SPECS,
  profileArms,
  PROFILES,
  profileSeeds,
} from "../repro/arms.ts";
import { wasmKernelThreads } from "../backends/wasm/threads.ts";
import { nativeBlasStatus, productPathLine } from "../backends/native/blas.ts";
import { attentionPath } from "../ops/attention.ts";
import {
  reproAccuracySvg,
  reproDynamicsSvg,
  reproLossSvg,
  reproMarkdown,
} from "../repro/report.ts";
import { type ReproResult, runRepro, type SweepEvent } from "../repro/run.ts";
import type { TrainEvent } from "../train/trainer.ts";
import type { ExitPoint } from "../eval/sweep.ts";
import { Progress, sweepWork } from "./progress.ts";
import { PILOT_CANDIDATES, pilotMarkdown, runPilot } from "../repro/pilot.ts";
import {
  studyAccuracySvg,
  studyDynamicsSvg,
  studyLossSvg,
  studyMarkdown,
  studySeedsSvg,
  studyStabilitySvg,
} from "../repro/study_report.ts";
import { resolveConfig } from "../train/config.ts";
import {
  FINETUNE_PROFILE_SPECS,
  FINETUNE_PROFILES,
  type FinetuneProfile,
} from "../repro/finetune_arms.ts";
import { BASE_ID, runFinetune } from "../repro/finetune.ts";
import {
  finetuneAccuracySvg,
  finetuneMarkdown,
  finetuneStepsSvg,
} from "../repro/finetune_report.ts";
import { arithmeticTestFile } from "../train/test_set.ts";
import { blasFlag, listFlag as splitList, parseFlags, UsageError } from "./usage.ts";
import { stopOnSignals } from "./stop_signals.ts";

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
(exit 130); the same command resumes.`;

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
    provenance: await provenance(backend),
    signal: stop.signal,
    onEvent: runPrinter(),
  });
  if (stop.signal.aborted) {
    console.log(`interrupted; checkpoints are in ${outDir}/arms (run again to resume)`);
    return 130;
  }
  const command = await writeResultsJson(outDir, args, result);
  const files = reportFiles(result, command);
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${outDir}/${name}`, text);
  }
  console.log(files["results.md"]);
  return 0;
}

// The fine-tuning experiment: the base, then each arm and seed from it.
async function finetuneCommand(
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
    provenance: await provenance(backend),
    signal: stop.signal,
    onEvent: runPrinter(),
  });
  if (stop.signal.aborted) {
    console.log(`interrupted; checkpoints are in ${outDir} (run again to resume)`);
    return 130;
  }
  const command = await writeResultsJson(outDir, args, result);
  const markdown = finetuneMarkdown(result, command);
  await Deno.writeTextFile(`${outDir}/results.md`, markdown);
  if (result.models.length) {
    await Deno.writeTextFile(`${outDir}/accuracy.svg`, finetuneAccuracySvg(result));
    await Deno.writeTextFile(`${outDir}/steps.svg`, finetuneStepsSvg(result));
  }
  console.log(markdown);
  return 0;
}

const pct = (x: number) => (100 * x).toFixed(1);

type RunEvent = TrainEvent | SweepEvent | { kind: "exit"; point: ExitPoint };

// Prints a run's progress: a training line every 5 s and each evaluation on
// stdout; a sweep's progress line with its ETA on stderr and each loop
// count's (and exit rule's) row on stdout.
function runPrinter(): (run: string, e: RunEvent) => void {
  let lastPrint = 0;
  let progress: Progress | undefined;
  return (run, e) => {
    if (e.kind === "step" && performance.now() - lastPrint > 5000) {
      lastPrint = performance.now();
      console.log(
        `[${run}] step ${e.step}/${e.steps} loss ${e.metrics.loss.toFixed(4)} loops ${e.loops}` +
          (e.metrics.rho === undefined ? "" : ` rho ${e.metrics.rho.toFixed(3)}`),
      );
    } else if (e.kind === "eval") {
      console.log(`[${run}] step ${e.step}: held-out exact match ${pct(e.accuracy)}%`);
    } else if (e.kind === "sweep-start") {
      progress = new Progress(`[${run}] sweep`, sweepWork({ grid: e.grid, problems: e.problems }));
    } else if (e.kind === "problem") {
      progress?.advance(e.depth + 1, `${e.depth} loops`);
    } else if (e.kind === "sweep") {
      progress?.end();
      console.log(`[${run}] ${e.point.depth} loops: ${pct(e.point.accuracy)}%`);
    } else if (e.kind === "exit") {
      progress?.end();
      console.log(
        `[${run}] exit ${e.point.rule}: ${pct(e.point.accuracy)}% at ${
          e.point.meanLoops.toFixed(2)
        } loops`,
      );
    }
  };
}

// A comma list of allowed items (undefined when the flag is absent): each one
// found, or a usage error naming it.
function allowedList<T>(
  value: unknown,
  flag: string,
  allowed: readonly string[],
  find: (item: string) => T | undefined,
): T[] | undefined {
  if (value === undefined) return undefined;
  return splitList(flag, String(value)).map((s) => {
    const item = find(s);
    if (item === undefined) {
      throw new UsageError(`--${flag}: "${s}" is not allowed; allowed: ${allowed.join(",")}`);
    }
    return item;
  });
}

// The pilot: candidates x penalty-free arms x seeds, up to the penalty.
async function pilotCommand(args: string[], flags: Record<string, unknown>): Promise<number> {
  for (const flag of ["profile", "arms", "seeds", "data"]) {
    if (flags[flag] !== undefined) throw new UsageError(`--${flag} does not apply to --pilot`);
  }
  const candidates = allowedList(
    flags.candidates,
    "candidates",
    PILOT_CANDIDATES.map((c) => c.name),
    (s) => PILOT_CANDIDATES.find((c) => c.name === s),
  );
  const outDir = (flags.out as string | undefined) ?? "runs/pilot";
  await start(flags, "pilot", outDir);
  using stop = stopOnSignals();
  let lastPrint = 0;
  const outcomes = await runPilot({
    outDir,
    candidates,
    finishedOnly: flags.report === true,
    signal: stop.signal,
    onEvent: (run, e) => {
      if (e.kind === "step" && performance.now() - lastPrint > 5000) {
        lastPrint = performance.now();
        console.log(`[${run}] step ${e.step} ce ${e.metrics.ce.toFixed(4)}`);
      }
    },
  });
  const command = ["deno task repro", ...args].join(" ");
  const markdown = pilotMarkdown(outcomes, command);
  await Deno.writeTextFile(
    `${outDir}/pilot.json`,
    JSON.stringify({ command, outcomes }, null, 1),
  );
  await Deno.writeTextFile(`${outDir}/pilot.md`, markdown);
  console.log(markdown);
  return stop.signal.aborted ? 130 : 0;
}

// The backend (and product path) in use, said once, and the output folder made.
async function start(flags: Record<string, unknown>, what: string, outDir: string) {
  const backend = await useBackend(
    parseBackend((flags.backend as string | undefined) ?? Deno.env.get("STARS_BACKEND") ?? "auto"),
  );
  const products = backend === "wasm" ? `, ${productPathLine()}` : "";
  console.log(`backend ${backend}${products}, ${what}, output ${outDir}`);
  await Deno.mkdir(outDir, { recursive: true });
  return backend;
}

// results.json: the command that made it, then the result; returns the command.
async function writeResultsJson(outDir: string, args: string[], result: object): Promise<string> {
  const command = ["deno task repro", ...args].join(" ");
  await Deno.writeTextFile(
    `${outDir}/results.json`,
    JSON.stringify({ command, ...result }, null, 1),
  );
  return command;
}

// The report's files: the four-arm report, or the seeded study's.
function reportFiles(r: ReproResult, command: string): Record<string, string> {
  if (!PROFILE_SPECS[r.profile].seeds) {
    return {
      "results.md": reproMarkdown(r, command),
      "accuracy.svg": reproAccuracySvg(r),
      "dynamics.svg": reproDynamicsSvg(r),
      "loss.svg": reproLossSvg(r),
    };
  }
  return {
    "results.md": studyMarkdown(r, command),
    "accuracy.svg": studyAccuracySvg(r),
    "seeds.svg": studySeedsSvg(r),
    "stability.svg": studyStabilitySvg(r),
    "dynamics.svg": studyDynamicsSvg(r),
    "loss.svg": studyLossSvg(r),
  };
}

// What computed a run, recorded with its result so runs on other code or
// kernels are not mixed unnoticed.
async function provenance(backend: string): Promise<Record<string, unknown>> {
  let commit = "unknown";
  const root = new URL("..", import.meta.url);
  try {
    if (root.protocol !== "file:") throw new Error("loaded from a registry");
    const git = (...args: string[]) => new Deno.Command("git", { args, cwd: root }).output();
    const head = await git("rev-parse", "HEAD");
    const dirty = await git("status", "--porcelain", "--untracked-files=no");
    if (head.success) {
      commit = new TextDecoder().decode(head.stdout).trim() +
        (dirty.stdout.length ? "+uncommitted" : "");
    }
  } catch {
    // not a git checkout (e.g. loaded from a registry)
  }
  return {
    commit,
    backend,
    kernels: backend === "wasm" ? "toolkit wasm SIMD" : backend,
    ...(backend === "wasm" ? { products: nativeBlasStatus(), attention: attentionPath() } : {}),
    wasm_threads: backend === "wasm" ? wasmKernelThreads() : undefined,
    deno: Deno.version.deno,
  };
}
