/**
 * `deno task train --help`'s config section, from the config schema: each
 * key with its help, type, range and default, under its group.
 *
 * @module
 */
import { CONFIG_GROUPS, CONFIG_SCHEMA, type KeySpec } from "../train/config.ts";

function allowed(spec: KeySpec): string {
  if (spec.type === "choice") return spec.choices!.join("|");
  if (spec.type === "bool") return "true|false";
  return `${spec.type}${range(spec)}`;
}

// A number key's bounds as `>= 1`, `> 0`, `0..0.99` (none when unbounded).
function range({ min, max, exclusiveMin }: KeySpec): string {
  const lo = min === undefined || min === -Infinity ? undefined : min;
  const hi = max === undefined || max === Infinity || max === Number.MAX_SAFE_INTEGER
    ? undefined
    : max;
  if (lo !== undefined && hi !== undefined) {
    return exclusiveMin ? ` in (${lo}, ${hi}]` : ` in ${lo}..${hi}`;
  }
  if (lo !== undefined) return exclusiveMin ? ` > ${lo}` : ` >= ${lo}`;
  if (hi !== undefined) return ` <= ${hi}`;
  return "";
}

/** One help line per config key, with its default, under its section's name. */
export function configHelp(defaults: Record<string, unknown>): string {
  const entries = Object.entries(CONFIG_SCHEMA as Record<string, KeySpec>);
  return CONFIG_GROUPS.map((group) =>
    [
      `  ${group} (keys may nest under "${group}" in a config file):`,
      ...entries.filter(([, spec]) => spec.group === group).map(([key, spec]) =>
        `  --${key.padEnd(16)} ${spec.help} (${allowed(spec)}; default ${
          JSON.stringify(defaults[key])
        })`
      ),
    ].join("\n")
  ).join("\n");
}
