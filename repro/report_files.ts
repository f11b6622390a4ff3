/**
 * Each experiment's report as files (name -> text): the markdown and the
 * charts a finished run writes next to its `results.json`.
 *
 * @module
 */
import { PROFILE_SPECS } from "./arms.ts";
import type { FinetuneResult } from "./finetune.ts";
import { finetuneAccuracySvg, finetuneMarkdown, finetuneStepsSvg } from "./finetune_report.ts";
import { reproAccuracySvg, reproDynamicsSvg, reproLossSvg, reproMarkdown } from "./report.ts";
import type { ReproResult } from "./run.ts";
import {
  studyAccuracySvg,
  studyDynamicsSvg,
  studyLossSvg,
  studyMarkdown,
  studySeedsSvg,
  studyStabilitySvg,
} from "./study_report.ts";

/** The four-arm report, or the seeded study's, for `command` (the one that made it). */
export function reproReportFiles(r: ReproResult, command: string): Record<string, string> {
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

/** The fine-tuning experiment's report (charts once a model is measured). */
export function finetuneReportFiles(r: FinetuneResult, command: string): Record<string, string> {
  const files: Record<string, string> = { "results.md": finetuneMarkdown(r, command) };
  if (r.models.length) {
    files["accuracy.svg"] = finetuneAccuracySvg(r);
    files["steps.svg"] = finetuneStepsSvg(r);
  }
  return files;
}
