/** Test helper: runs the CLI as a user would, capturing its exit code and output. */

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;

/** The paper's test split, as committed in data/. */
export const PAPER_DATA: URL = new URL("../data/stars_addition_test_4digit.jsonl", import.meta.url);

/** What a CLI run gave. */
export interface CliResult {
  /** Exit code. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/** Runs `deno run -A cli/main.ts ...args` on wasm without colour. */
export function cli(...args: string[]): Promise<CliResult> {
  return cliWithEnv({}, ...args);
}

/** As {@linkcode cli}, with extra environment variables. */
export async function cliWithEnv(
  env: Record<string, string>,
  ...args: string[]
): Promise<CliResult> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1", STARS_BACKEND: "wasm", ...env },
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, stdout: text(stdout), stderr: text(stderr) };
}
