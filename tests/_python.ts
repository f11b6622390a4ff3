/**
 * Finding a Python with PyTorch for the interop tests: `STARS_PYTHON`, else
 * `python3`, else `/usr/bin/python3` (Debian's `python3-torch` lives there
 * when another python3 comes first on PATH). None: the tests are ignored.
 */

async function hasTorch(python: string): Promise<boolean> {
  try {
    const out = await new Deno.Command(python, {
      args: ["-c", "import torch, torch.distributed"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

async function findPython(): Promise<string | null> {
  const given = Deno.env.get("STARS_PYTHON");
  for (const python of given ? [given] : ["python3", "/usr/bin/python3"]) {
    if (await hasTorch(python)) return python;
  }
  return null;
}

/** A python3 that imports torch, or null. */
export const PYTHON: string | null = await findPython();

/** What a finished process said. */
export interface Ran {
  /** Exit code. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/** Runs `PYTHON args` (the torch threads capped at one, for a 2-core machine). */
export async function python(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  if (!PYTHON) throw new Error("no python3 with torch");
  const out = await new Deno.Command(PYTHON, {
    args,
    env: { OMP_NUM_THREADS: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}
