/**
 * The `stars` command line: `train`, `eval`, `analyze`, `compare`, `repro` and `export`
 * subcommands over the library.
 * Bad input exits with code 2 and a message naming what is wrong.
 *
 * @module
 */
import { analyzeCommand } from "./analyze.ts";
import { compareCommand } from "./compare.ts";
import { evalCommand } from "./eval.ts";
import { exportCommand } from "./export.ts";
import { reproCommand } from "./repro.ts";
import { trainCommand } from "./train.ts";
import { isInputError, UsageError } from "./usage_error.ts";

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  train: trainCommand,
  eval: evalCommand,
  analyze: analyzeCommand,
  compare: compareCommand,
  repro: reproCommand,
  export: exportCommand,
};

/** Runs a subcommand with its arguments; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  try {
    const command = COMMANDS[name];
    if (!command) {
      throw new UsageError(
        `unknown command "${name ?? ""}"; allowed: ${
          Object.keys(COMMANDS).join(", ")
        } (add --help to any)`,
      );
    }
    return await command(rest);
  } catch (e) {
    if (isInputError(e)) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
