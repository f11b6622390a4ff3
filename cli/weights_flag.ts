/**
 * The `--checkpoint PATH` of `eval` and `analyze`: a checkpoint folder, or a
 * safetensors file of a model's parameters (toolkit or reference names,
 * `--names`), whose run config comes from the file's metadata or from
 * `--config FILE.json`.
 *
 * @module
 */
import { resolveConfig } from "../train/config.ts";
import { hasCheckpoint } from "../train/checkpoint.ts";
import { type Naming, NAMINGS, type OpenedWeights, openWeights } from "../train/weights.ts";
import { readConfigFile } from "../train/config_file.ts";
import { UsageError } from "./usage_error.ts";

/** Help lines for `--names` and `--config`. */
export const WEIGHTS_HELP =
  "  --names NAMING     a safetensors --checkpoint's names: auto (default), toolkit\n" +
  "                     or reference (the STARS reference implementation's)\n" +
  "  --config FILE      the run's config, for a safetensors file without one in\n" +
  "                     its metadata (not written by deno task export)";

/** Opens `path` as a checkpoint folder or a weights file; every problem an input error. */
export async function openCheckpointFlag(
  path: string,
  names: string | undefined,
  configFile: string | undefined,
): Promise<OpenedWeights> {
  if (names !== undefined && names !== "auto" && !(NAMINGS as readonly string[]).includes(names)) {
    throw new UsageError(`--names must be auto, ${NAMINGS.join(" or ")}, got "${names}"`);
  }
  const isFile = await Deno.stat(path).then((s) => s.isFile).catch(() => false);
  if (!isFile && !(await hasCheckpoint(path))) {
    throw new UsageError(`--checkpoint: no checkpoint in "${path}"`);
  }
  const config = configFile ? resolveConfig(await readConfigFile(configFile)) : undefined;
  return await openWeights(path, {
    names: (names ?? "auto") as Naming | "auto",
    ...(config ? { config } : {}),
  });
}
