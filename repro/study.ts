/**
 * The seeded study's numbers: each arm's accuracy against depth as the mean
 * and spread over its seeds, each seed's peak and stability, and the
 * study's checks, all pure functions of the runs' results.
 *
 * Stability is how much of its own peak a run keeps at the deepest depth
 * (accuracy there over peak accuracy): 1 is flat, 0 is a collapse.
 *
 * @module
 */
import type { ArmResult } from "./run.ts";

/** Mean, spread and sample standard deviation of some numbers. */
export interface Spread {
  /** Mean. */
  mean: number;
  /** Smallest. */
  min: number;
  /** Largest. */
  max: number;
  /** Sample standard deviation (0 for one value). */
  sd: number;
  /** How many values. */
  n: number;
}

/** One seed's summary. */
export interface SeedSummary {
  /** The seed. */
  seed: number;
  /** Best accuracy over the depth grid, and where. */
  peak: { depth: number; accuracy: number };
  /** Accuracy at the deepest depth over the peak (null when the peak is 0). */
  keepAtDeepest: number | null;
  /** Accuracy at the deepest depth. */
  atDeepest: number;
  /** Relative latent step at the deepest depth. */
  relStepAtDeepest: number | null;
  /** First step where the 50-step mean cross-entropy fell below 0.1 (null: never). */
  plateauExit: number | null;
}

/** One arm over its seeds. */
export interface ArmSummary {
  /** The arm's id. */
  id: string;
  /** What the arm is. */
  label: string;
  /** Loop sampler, placement and penalty weight, for grouping. */
  sampler: string;
  /** Norm placement. */
  placement: string;
  /** Penalty weight. */
  penalty: number;
  /** Accuracy per depth over seeds. */
  depths: { depth: number; accuracy: Spread }[];
  /** Each seed. */
  seeds: SeedSummary[];
  /** Peak accuracy over seeds. */
  peak: Spread;
  /** Stability (accuracy at the deepest depth over peak) over seeds. */
  keepAtDeepest: Spread | null;
}

/**
 * Mean, range and sample standard deviation.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { spread } from "./study.ts";
 * assertEquals(spread([1, 2, 3]), { mean: 2, min: 1, max: 3, sd: 1, n: 3 });
 * ```
 */
export function spread(values: readonly number[]): Spread {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, min: Math.min(...values), max: Math.max(...values), sd, n };
}

/** One run's peak, stability and plateau exit. */
export function seedSummary(run: ArmResult): SeedSummary {
  const deepest = run.sweep.reduce((a, b) => (b.depth > a.depth ? b : a));
  const peak = run.sweep.reduce((best, p) => p.accuracy > best.accuracy ? p : best, run.sweep[0]);
  const dyn = run.dynamics.find((d) => d.depth === deepest.depth);
  return {
    seed: run.seed,
    peak: { depth: peak.depth, accuracy: peak.accuracy },
    keepAtDeepest: peak.accuracy > 0 ? deepest.accuracy / peak.accuracy : null,
    atDeepest: deepest.accuracy,
    relStepAtDeepest: dyn?.relStep ?? null,
    plateauExit: run.plateauExit ?? null,
  };
}

/** Groups runs by arm (in first-seen order) and summarises each arm over its seeds. */
export function summarizeArms(runs: readonly ArmResult[]): ArmSummary[] {
  const ids = [...new Set(runs.map((r) => r.id))];
  return ids.map((id) => {
    const arm = runs.filter((r) => r.id === id).sort((a, b) => a.seed - b.seed);
    const depths = arm[0].sweep.map((p, i) => ({
      depth: p.depth,
      accuracy: spread(arm.map((r) => r.sweep[i].accuracy)),
    }));
    const seeds = arm.map(seedSummary);
    const keeps = seeds.map((s) => s.keepAtDeepest).filter((k): k is number => k !== null);
    return {
      id,
      label: arm[0].label,
      sampler: arm[0].config.loop_sampler,
      placement: arm[0].config.norm_placement,
      penalty: arm[0].config.reg_weight,
      depths,
      seeds,
      peak: spread(seeds.map((s) => s.peak.accuracy)),
      keepAtDeepest: keeps.length ? spread(keeps) : null,
    };
  });
}

/** One part of the study's check. */
export interface CheckPart {
  /** What is checked. */
  claim: string;
  /** Whether it held (null: not evaluated, or a comparison that only reports). */
  held: boolean | null;
  /** A comparison to report, not a pass/fail claim. */
  report?: boolean;
  /** The numbers behind it, one line. */
  detail: string;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * The study's check, per seed: every STARS seed keeps at least 95% of its
 * own peak at the deepest depth; every fixed-depth pre_norm seed is below
 * 50% of its peak at depth 32; and each STARS arm's peak against the
 * random-depth arm with the same placement, with the seed spread (this
 * part reports, it does not pass or fail).
 */
export function studyCheck(arms: readonly ArmSummary[], runs: readonly ArmResult[]): CheckPart[] {
  const stars = arms.filter((a) => a.penalty > 0);
  const fixedPre = arms.filter((a) => a.sampler === "fixed" && a.placement === "pre_norm");
  const parts: CheckPart[] = [];
  const starsSeeds = stars.flatMap((a) => a.seeds.map((s) => ({ arm: a.id, ...s })));
  // Keeping one's own peak says nothing when the peak is low: say so.
  const unlearned = starsSeeds.filter((s) => s.peak.accuracy < 0.5);
  parts.push({
    claim: "every STARS seed keeps >= 95% of its own peak at the deepest depth",
    held: starsSeeds.length ? starsSeeds.every((s) => (s.keepAtDeepest ?? 0) >= 0.95) : null,
    detail: starsSeeds.map((s) =>
      `${s.arm} seed ${s.seed}: ${pct(s.atDeepest)} of peak ${pct(s.peak.accuracy)} (${
        s.keepAtDeepest === null ? "peak 0" : pct(s.keepAtDeepest)
      })`
    ).join("; ") +
      (unlearned.length
        ? ` (${unlearned.length} of ${starsSeeds.length} STARS seeds peak below 50%: ` +
          "for them the check is met by a model that did not learn the task)"
        : ""),
  });
  const at32 = fixedPre.flatMap((a) =>
    runs.filter((r) => r.id === a.id).sort((x, y) => x.seed - y.seed).map((r) => {
      const s = seedSummary(r);
      const acc = r.sweep.find((p) => p.depth === 32)?.accuracy;
      return { arm: a.id, seed: r.seed, acc, peak: s.peak.accuracy };
    })
  );
  parts.push({
    claim: "every fixed-depth pre_norm seed is below 50% of its peak at depth 32",
    held: at32.length && at32.every((s) => s.acc !== undefined)
      ? at32.every((s) => s.peak > 0 && s.acc! < 0.5 * s.peak)
      : null,
    detail: at32.map((s) =>
      `${s.arm} seed ${s.seed}: ${s.acc === undefined ? "depth 32 not swept" : pct(s.acc)} ` +
      `at 32 loops, peak ${pct(s.peak)}`
    ).join("; "),
  });
  for (const s of stars) {
    const r = arms.find((a) =>
      a.sampler === s.sampler && a.placement === s.placement &&
      a.penalty === 0
    );
    if (!r) continue;
    const diff = s.peak.mean - r.peak.mean;
    parts.push({
      claim: `${s.id}'s peak against ${r.id}'s (same sampler and placement, no penalty)`,
      held: null,
      report: true,
      detail: `${s.id} ${pct(s.peak.mean)} (sd ${pct(s.peak.sd)}, range ${pct(s.peak.min)}-${
        pct(s.peak.max)
      }, ${s.peak.n} seeds) against ${r.id} ${pct(r.peak.mean)} (sd ${pct(r.peak.sd)}, range ${
        pct(r.peak.min)
      }-${pct(r.peak.max)}, ${r.peak.n} seeds): difference ${diff >= 0 ? "+" : ""}${
        (100 * diff).toFixed(1)
      } points`,
    });
  }
  return parts;
}
