import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { STUDY_ARMS } from "../../repro/arms.ts";
import {
  chosenCandidate,
  leftInTime,
  pilotArms,
  type PilotCandidate,
  pilotMarkdown,
  type PilotOutcome,
  runPilot,
} from "../../repro/pilot.ts";
import { readStepRecords } from "../../train/metrics_log.ts";
import { train } from "../../train/trainer.ts";
import "../_backend.ts";

const MICRO: PilotCandidate = {
  name: "micro",
  base: {
    digits: 2,
    d_model: 16,
    n_heads: 2,
    d_ff: 32,
    batch_size: 8,
    steps: 40,
    warmup_steps: 6,
    loop_max: 6,
    eval_size: 5,
    eval_every: 0,
    checkpoint_every: 0,
  },
  why: "a plumbing check",
};

Deno.test("pilot arms: the penalty-free study arms, random depth first", () => {
  const ids = pilotArms().map((a) => a.id);
  assertEquals(ids, ["R-pre", "R-post", "R-sb", "R-sd", "F-pre", "F-post", "F-sb", "F-sd"]);
  assert(pilotArms().every((a) => !a.overrides.reg_weight));
});

Deno.test("pilot runs stop before the penalty's first step; a failed candidate stops early", async () => {
  const dir = await Deno.makeTempDir();
  const arms = pilotArms().filter((a) => a.id === "R-sd" || a.id === "F-pre");
  const [outcome] = await runPilot({ outDir: dir, candidates: [MICRO], seeds: [1, 2], arms });
  // A 16-wide model does not learn 2-digit addition in 6 steps: the first run fails,
  // and the rest of the candidate is skipped.
  assertEquals(outcome.runs.length, 1);
  assertEquals(outcome.runs[0].arm, "R-sd");
  assertEquals(outcome.runs[0].penaltyStep, 7);
  assertEquals(outcome.runs[0].plateauExit, null);
  assertEquals(outcome.fit, false);
  assertEquals(outcome.skipped.map((s) => `${s.arm}/${s.seed}`), ["R-sd/2", "F-pre/1", "F-pre/2"]);
  const records = await readStepRecords(`${dir}/micro/R-sd/seed-1`);
  assertEquals(records.map((r) => r.step), [1, 2, 3, 4, 5, 6]);
  // Without failing fast every run is done; a rerun reads the saved ones.
  const all = await runPilot({
    outDir: dir,
    candidates: [MICRO],
    seeds: [1, 2],
    arms,
    failFast: false,
  });
  assertEquals(all[0].runs.length, 4);
  // Reading only: the saved runs, nothing trained for a candidate never run.
  const read = await runPilot({
    outDir: dir,
    candidates: [MICRO, { ...MICRO, name: "other" }],
    seeds: [1, 2],
    arms,
    failFast: false,
    finishedOnly: true,
  });
  assertEquals(read[0].runs, all[0].runs);
  assertEquals([read[1].runs.length, read[1].skipped.length, read[1].fit], [0, 4, null]);
  assertEquals(all[0].runs[0], outcome.runs[0]);
  const md = pilotMarkdown(all, "deno task repro --pilot");
  assertStringIncludes(md, "## micro: not fit");
  assertStringIncludes(md, "No candidate tried is fit");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("before the penalty's first step a STARS arm is its random-depth arm, step for step", async () => {
  const base = { ...MICRO.base, steps: 12, warmup_steps: 5, reg_warmup: 5 };
  const stars = STUDY_ARMS.find((a) => a.id === "S-sd")!;
  const random = STUDY_ARMS.find((a) => a.id === "R-sd")!;
  const sDirs = await Deno.makeTempDir(), rDirs = await Deno.makeTempDir();
  const ss = await train({ ...base, ...stars.overrides }, { outDir: sDirs });
  const rr = await train({ ...base, ...random.overrides }, { outDir: rDirs });
  ss.model.dispose();
  rr.model.dispose();
  const sRec = await readStepRecords(sDirs), rRec = await readStepRecords(rDirs);
  const loss = (recs: typeof sRec, from: number, to: number) =>
    recs.filter((x) => x.step > from && x.step <= to).map((x) => x.loss);
  assertEquals(loss(sRec, 0, 5), loss(rRec, 0, 5));
  // From the penalty's first step (step 6) on, they differ.
  assert(JSON.stringify(loss(sRec, 5, 12)) !== JSON.stringify(loss(rRec, 5, 12)));
  await Deno.remove(sDirs, { recursive: true });
  await Deno.remove(rDirs, { recursive: true });
});

Deno.test("the chosen candidate is the first fit one", () => {
  const run = (exit: number | null) => ({
    arm: "R-sd",
    seed: 1,
    penaltyStep: 100,
    plateauExit: exit,
    finalCe: 0,
    seconds: 1,
  });
  assert(leftInTime(run(99)));
  assert(!leftInTime(run(100)));
  assert(!leftInTime(run(null)));
  const outcome = (name: string, fit: boolean | null): PilotOutcome => ({
    name,
    why: "",
    base: {},
    runs: [],
    skipped: [],
    fit,
  });
  assertEquals(
    chosenCandidate([outcome("a", false), outcome("b", null), outcome("c", true)])?.name,
    "c",
  );
  assertEquals(chosenCandidate([outcome("a", false)]), null);
});
