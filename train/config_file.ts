/**
 * A run config from a JSON file, as `deno task train --config` and
 * `eval --config` read it.
 *
 * @module
 */
import { jsonTextProblem, stripBom } from "../tasks/json_text.ts";
import { ConfigError } from "../utils/config_keys.ts";
import { fileReason } from "../utils/file_reason.ts";

/**
 * Reads and checks a JSON config file: one object of known keys, each
 * once (a repeated key is an error, not "the last one wins"), a leading
 * byte-order mark dropped. Every problem is a {@linkcode ConfigError}
 * naming `--config` and the file. The keys are checked by `resolveConfig`.
 *
 * @example
 * ```ts
 * import { readConfigFile } from "@stars/toolkit/train";
 * const path = await Deno.makeTempFile({ suffix: ".json" });
 * await Deno.writeTextFile(path, '{"lr": 1, "lr": 2}');
 * const e = await readConfigFile(path).catch((e) => e);
 * if (!e.message.includes('duplicate key "lr"')) throw new Error(e.message);
 * await Deno.remove(path);
 * ```
 */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = stripBom(await Deno.readTextFile(path));
  } catch (e) {
    throw new ConfigError(`--config: cannot read "${path}" (${fileReason(e)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`--config: "${path}" is not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(`--config: "${path}" must hold one JSON object`);
  }
  const problem = jsonTextProblem(text);
  if (problem) throw new ConfigError(`--config: "${path}": ${problem}`);
  return value as Record<string, unknown>;
}
