/**
 * `deno task repro --pilot [--candidates NAMES]`: the pilot's candidates x
 * penalty-free arms x seeds, each up to the penalty's first step
 * (`repro/pilot.ts`).
 *
 * @module
 */
import { PILOT_CANDIDATES, pilotMarkdown, runPilot } from "../repro/pilot.ts";
import { allowedList, start } from "./repro_common.ts";
import { stopOnSignals } from "./stop_signals.ts";
import { UsageError } from "./usage_error.ts";

// The pilot: candidates x penalty-free arms x seeds, up to the penalty.
export async function pilotCommand(
  args: string[],
  flags: Record<string, unknown>,
): Promise<number> {
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
  return stop.signal.aborted ? stop.exitCode() : 0;
}
