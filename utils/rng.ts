/**
 * A small seeded pseudo-random generator (mulberry32), so every random
 * choice in the toolkit (data, loop counts, initialisation, dropout) is
 * reproducible from a seed and, where it matters, from (seed, step).
 */

/** Hashes any number of integers into one 32-bit seed (splitmix-style). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    // Mix in the high part of large (non-32-bit) integers too.
    const hi = Math.floor(p / 4294967296) >>> 0;
    h = Math.imul(h ^ hi, 0x27d4eb2f);
    h ^= h >>> 15;
  }
  return h >>> 0;
}

/** A seeded generator of uniform, normal and integer variates. */
export class Rng {
  #state: number;

  /** Creates a generator from a 32-bit seed (any integer is hashed). */
  constructor(seed: number) {
    this.#state = mixSeed(seed);
  }

  /** The generator's internal state, to save in a checkpoint. */
  get state(): number {
    return this.#state;
  }

  /** Restores a generator from a saved {@linkcode Rng.state}. */
  static fromState(state: number): Rng {
    const rng = new Rng(0);
    rng.#state = state >>> 0;
    return rng;
  }

  /** A uniform variate in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer uniform in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** A standard normal variate (Box-Muller). */
  normal(): number {
    const u = 1 - this.next(); // (0, 1], so log is finite
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}
