/**
 * Learning rate at a step: linear warm-up to `lr`, then cosine decay to
 * `lr * min_lr_ratio` at the last step.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { learningRate } from "@stars/toolkit/train";
 * const config = { lr: 1e-3, warmup_steps: 10, steps: 100, min_lr_ratio: 0.1 };
 * assertEquals(learningRate(0, config), 1e-4); // first warmup step: lr / 10
 * ```
 */
export function learningRate(
  step: number,
  c: { lr: number; warmup_steps: number; steps: number; min_lr_ratio: number },
): number {
  if (step < c.warmup_steps) return (c.lr * (step + 1)) / c.warmup_steps;
  const span = Math.max(1, c.steps - c.warmup_steps);
  const progress = Math.min(1, (step - c.warmup_steps) / span);
  const minLr = c.lr * c.min_lr_ratio;
  return minLr + 0.5 * (c.lr - minLr) * (1 + Math.cos(Math.PI * progress));
}
