import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../core/backend.ts";
import { loadCheckpoint } from "../train/checkpoint.ts";
import { resolveConfig } from "../train/config.ts";
import { taskOf } from "../train/data.ts";
import type { ChainProblem } from "../tasks/chain.ts";
await useBackend("auto");
const ck = await loadCheckpoint(Deno.args[0], { optimizer: false });
const task = taskOf(resolveConfig(ck.manifest.config as Record<string, unknown>));
const problems = task.sample("test", 7, 400, true) as ChainProblem[];
for (const loops of [1, 2, 3, 4, 6, 8]) {
  const byStep = new Map<number, [number, number]>();
  const ids = problems.map((p) => task.tokenizer.encode(p.prompt));
  const groups = Map.groupBy(ids.map((x, i) => [x, i] as const), ([x]) => x.length);
  for (const g of groups.values()) {
    const logits = tf.tidy(() => ck.model.forward(tf.tensor2d(g.map(([x]) => x), undefined, "int32"), loops).logits);
    const v = await logits.data(); const [, t, vocab] = logits.shape; logits.dispose();
    g.forEach(([, i], r) => {
      const at = (r * t + t - 1) * vocab; let best = 0;
      for (let k = 1; k < vocab; k++) if (v[at + k] > v[at + best]) best = k;
      const ok = task.tokenizer.decode([best]) === problems[i].target;
      const s = byStep.get(problems[i].steps) ?? [0, 0]; s[0] += ok ? 1 : 0; s[1]++; byStep.set(problems[i].steps, s);
    });
  }
  console.log(`${loops} loops: ` + [...byStep].sort((a, b) => a[0] - b[0]).map(([s, [c, n]]) => `${s}:${(100 * c / n).toFixed(0)}%`).join(" "));
}
