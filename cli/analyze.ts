/**
 * `deno task analyze --checkpoint DIR [--data FILE] [--samples N] [--loops T]
 * [--out DIR]`: the loop's latent dynamics on a sample of problems, per
 * loop: state norm, relative step, spectral radius of the one-loop
 * Jacobian, next-token entropy, KL between successive loops, token
 * accuracy, and a PCA of the state trajectories. `--compare` overlays the
 * accuracy curves of several `results.json` files from `deno task eval`.
 */
import { useBackend } from "../backends/select.ts";
import { dynamicsFiles, dynamicsHeading } from "../plots/dynamics_output.ts";
import { dynamicsTable } from "../plots/dynamics_text.ts";
import { analyzeCheckpoint, prepareCheckpointAnalysis } from "../train/analyze_checkpoint.ts";
import { backendFlag, BLAS_HELP, blasFlag } from "./backend_flags.ts";
import { compareResults } from "./compare.ts";
import { intFlag, parseFlags } from "./flags.ts";
import { MAX_EVAL_LOOPS } from "./loop_flags.ts";
import { ensureWritableDir } from "./out_dir.ts";
import { Progress } from "./progress.ts";
import { UsageError } from "./usage_error.ts";
import { openCheckpointFlag, WEIGHTS_HELP } from "./weights_flag.ts";
import { writeFiles } from "./write_files.ts";

const HELP = `Record a checkpoint's latent dynamics per loop, or overlay eval results.

Usage: deno task analyze --checkpoint DIR [--data FILE.jsonl] [--samples 64] [--loops 64] [--out DIR]
       deno task analyze --compare A/results.json,B/results.json --out DIR

  --checkpoint DIR   folder written by deno task train, or a safetensors file
                     of a model's parameters (deno task export, or a state_dict)
${WEIGHTS_HELP}
  --data FILE        problems as JSON lines (default: the run's held-out problems)
  --samples N        problems analysed (the first N; default 64)
  --skip_unfit       skip problems of --data that do not fit the model (see
                     deno task eval --help) instead of stopping
  --loops T          loops to run (default 64)
  --rho_every K      estimate rho(J) every K loops and at the last (default: about
                     16 estimates; 0: never)
  --rho_iters N      power-iteration steps per rho estimate (default 30; a Krylov
                     fallback follows when they do not settle)
  --backend NAME     auto|wasm|webgpu|cpu (default auto, or STARS_BACKEND)
${BLAS_HELP}
  --json             print JSON instead of a table
  --out DIR          also write dynamics.json, dynamics.csv, dynamics.svg, pca.svg
  --compare FILES    comma-separated results.json files of deno task eval: writes
                     their accuracy curves overlaid to DIR/accuracy.svg (needs --out;
                     the same as deno task compare --results FILES)
  --help             this text

What is measured: each problem's full sequence (prompt, answer, EOS) is fed
teacher-forced, the shared block looped T times from h_0, and per loop t the
metrics are averaged over every answer position (those predicting an answer
token or EOS) of every problem: ||h_t||, ||h_t - h_{t-1}|| / ||h_t||, the
entropy of the next-token distribution read out from h_t (nats),
KL(p_{t-1} || p_t), and the fraction of answer tokens predicted right. rho(J)
is the spectral radius of the loop map's Jacobian at h_t over the whole
[samples, T, d] state (problems do not interact: the largest over problems).
The PCA projects, per problem, the state at the first answer position whose
target differs between problems.`;

/** Runs the analyze command; returns the process exit code. */
export async function analyzeCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, {
    strings: [
      "checkpoint",
      "data",
      "samples",
      "loops",
      "rho_every",
      "rho_iters",
      "backend",
      "blas",
      "out",
      "compare",
      "names",
      "config",
    ],
    booleans: ["help", "json", "skip_unfit"],
  });
  if (flags.help) {
    console.log(HELP);
    return 0;
  }
  const out = flags.out as string | undefined;
  // The older spelling of `deno task compare`.
  if (typeof flags.compare === "string") return await compareResults(flags.compare, out, "compare");
  const dir = flags.checkpoint as string | undefined;
  if (!dir) {
    throw new UsageError("--checkpoint DIR is required (a folder written by deno task train)");
  }
  const opened = await openCheckpointFlag(
    dir,
    flags.names as string | undefined,
    flags.config as string | undefined,
  );
  const samples = intFlag("samples", flags.samples as string | undefined, 64, 1, 2 ** 20);
  const loops = intFlag("loops", flags.loops as string | undefined, 64, 1, MAX_EVAL_LOOPS);
  const rhoEvery = intFlag(
    "rho_every",
    flags.rho_every as string | undefined,
    Math.max(1, Math.ceil(loops / 16)),
    0,
    MAX_EVAL_LOOPS,
  );
  const rhoIters = intFlag("rho_iters", flags.rho_iters as string | undefined, 30, 1, 10000);
  const backend = backendFlag(flags.backend as string | undefined);
  blasFlag(flags.blas as string | undefined);

  // Checked before any work: the task, the problems, the memory, --out.
  const active = await useBackend(backend);
  const prepared = await prepareCheckpointAnalysis(dir, opened, {
    samples,
    loops,
    rhoEvery,
    rhoIters,
    data: flags.data as string | undefined,
    skipUnfit: flags.skip_unfit === true,
    backend: active,
  });
  if (out) await ensureWritableDir("out", out);

  // Progress per loop (the rho estimates fall evenly, so loops measure the work).
  const progress = new Progress(dir, loops + 1);
  let analysis;
  try {
    analysis = await analyzeCheckpoint(
      prepared,
      (t) => progress.advance(1, `loop ${t} of ${loops}`),
    );
  } finally {
    progress.end();
  }
  const { result, report, problems } = analysis;
  const run = {
    checkpoint: dir,
    step: opened.step,
    config: prepared.config,
    problems: problems.length,
    loops,
  };
  if (flags.json) console.log(JSON.stringify(report));
  else console.log(dynamicsTable(dynamicsHeading(run), result));
  const names = problems.map((p) => `${p.prompt}${p.answer}`);
  if (out) console.error(await writeFiles(out, dynamicsFiles(run, result, report, names)));
  return 0;
}
