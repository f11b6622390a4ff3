/**
 * `deno task export --checkpoint DIR --names reference|toolkit --out FILE.safetensors`:
 * writes a checkpoint's parameters as one safetensors file, under the
 * toolkit's names or the STARS reference implementation's `state_dict`
 * names and layouts (see `train/weights.ts`).
 */
import { useBackend } from "../backends/select.ts";
import { exportWeights, type Naming, NAMINGS } from "../train/weights.ts";
import { parseFlags } from "./flags.ts";
import { UsageError } from "./usage_error.ts";

const HELP = `Export a checkpoint's parameters as one safetensors file.

Usage: deno task export --checkpoint DIR --out FILE.safetensors [--names toolkit|reference]

  --checkpoint DIR   folder written by deno task train
  --out FILE         the file to write
  --names NAMING     toolkit (default): the toolkit's own names (embed.tok,
                     block.0.attn.wqkv, ...); reference: the STARS reference
                     implementation's state_dict (token_embedding.weight,
                     layers.0.attn.c_attn.weight stored [out, in], lm_head.weight
                     tied), so its LoopedTransformer.load_state_dict takes it
  --help             this text

The file's __metadata__ carries the model config and the run's config, so
eval, analyze and train --init read it back without a checkpoint folder.

Exit codes: 0 written; 2 bad input (a flag, a missing or corrupt checkpoint).`;

/** Runs the export command; returns the process exit code. */
export async function exportCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, { strings: ["checkpoint", "out", "names"], booleans: ["help"] });
  if (flags.help) {
    console.log(HELP);
    return 0;
  }
  const checkpoint = flags.checkpoint as string | undefined;
  const out = flags.out as string | undefined;
  if (!checkpoint) throw new UsageError("--checkpoint DIR is required (a folder written by train)");
  if (!out) throw new UsageError("--out FILE.safetensors is required");
  const names = (flags.names as string | undefined) ?? "toolkit";
  if (!(NAMINGS as readonly string[]).includes(names)) {
    throw new UsageError(`--names must be one of ${NAMINGS.join(", ")}, got "${names}"`);
  }
  await useBackend("cpu"); // the values pass through tensors only to be read back
  const r = await exportWeights(checkpoint, names as Naming, out);
  console.log(
    `wrote ${r.out}: ${r.tensors} tensors, ${r.bytes} bytes, ${r.naming} names, step ${r.step}`,
  );
  return 0;
}
