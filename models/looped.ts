/**
 * The looped decoder: embed, (prelude), apply one shared block N times to a
 * latent state, (coda), final norm, head tied to the token embedding.
 *
 * The loop count is an argument of every forward pass, and the one-loop map
 * `h -> f(h)` is available on its own for the Jacobian regulariser.
 */
import * as tf from "@tensorflow/tfjs";
import { mixSeed } from "../utils/rng.ts";
import type { ModelConfig } from "./config.ts";
import { type KVEntry, type LayerContext, normParams, param, transformerLayer } from "./layer.ts";
import { norm } from "./norm.ts";
import { matmul, transposeLast } from "../ops/matmul.ts";
import { dense, dropout, seededTruncatedNormal } from "./ops.ts";
import { initParams, type Params } from "./params.ts";

/** Options of a forward pass. */
export interface ForwardOptions {
  /** Dropout on (default false). */
  training?: boolean;
  /** Seed for dropout and a random initial state (default 0). */
  seed?: number;
  /** Attention's dropout on its branch output (default) or on its probabilities. */
  dropoutAt?: "output" | "probs";
  /** Return the state after every loop, `states[0]` being h_0 (default false). */
  keepStates?: boolean;
  /** Continue from this state, reached after `loopsDone` loops, instead of h_0. */
  start?: { state: tf.Tensor3D; loopsDone: number };
  /**
   * Keys and values of earlier positions, extended in place: `ids` are then
   * the tokens that follow the cached ones (see {@linkcode DecodeCache}).
   */
  cache?: DecodeCache;
}

/**
 * Per-layer key/value caches for incremental decoding. Every loop has its
 * own cache, since each loop's attention sees that loop's states.
 */
export interface DecodeCache {
  /** Positions already cached. */
  length: number;
  /** One entry per prelude layer. */
  prelude: KVEntry[];
  /** `loops[t][l]`: loop t, block layer l. */
  loops: KVEntry[][];
  /** One entry per coda layer. */
  coda: KVEntry[];
}

/** An empty cache for a model config. */
export function emptyCache(c: ModelConfig): DecodeCache {
  const entries = (n: number) => Array.from({ length: n }, () => ({ k: null, v: null }));
  return { length: 0, prelude: entries(c.prelude_layers), loops: [], coda: entries(c.coda_layers) };
}

/** All tensors held by a cache (to keep or dispose them). */
export function cacheTensors(cache: DecodeCache): tf.Tensor[] {
  const all = [...cache.prelude, ...cache.loops.flat(), ...cache.coda];
  return all.flatMap((e) => [e.k, e.v]).filter((t): t is tf.Tensor => t !== null);
}

/** What a forward pass returns. */
export interface ForwardResult {
  /** Next-token logits [B, T, vocab]. */
  logits: tf.Tensor3D;
  /** The final latent state h_N [B, T, d], before coda and final norm. */
  state: tf.Tensor3D;
  /** h_0 .. h_N when `keepStates` was set, else empty. */
  states: tf.Tensor3D[];
}

function layerContext(opts: ForwardOptions, stream: number): LayerContext {
  let counter = 0;
  const seed = opts.seed ?? 0;
  const ctx: LayerContext = {
    training: opts.training ?? false,
    nextSeed: () => mixSeed(seed, stream, counter++),
  };
  if (opts.dropoutAt) ctx.dropoutAt = opts.dropoutAt;
  return ctx;
}

/** A looped language model: its config and its named parameters. */
export class LoopedLM {
  /** The model's configuration. */
  readonly config: ModelConfig;
  /** The model's parameters, by name. */
  readonly params: Params;

  /** Creates a model with fresh parameters (or the given ones). */
  constructor(config: ModelConfig, seed = 1, params?: Params) {
    if (config.d_model % config.n_heads !== 0) {
      throw new RangeError("model: d_model must be a multiple of n_heads");
    }
    this.config = config;
    this.params = params ?? initParams(config, seed);
  }

  /**
   * Embeds token ids [B, T] into e [B, T, d]: one-hot matmul (wasm has no
   * gradient kernel for gather) plus learned positions, then the prelude.
   */
  embed(ids: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor3D {
    const c = this.config;
    const [b, t] = ids.shape;
    const oneHot = tf.oneHot(ids.reshape([-1]), c.vocab_size).toFloat();
    const tok = matmul(oneHot, param(this.params, "embed.tok")).reshape([b, t, c.d_model]);
    const offset = opts.cache?.length ?? 0;
    if (offset + t > c.max_seq_len) {
      throw new RangeError(
        `model: sequence length ${offset + t} exceeds max_seq_len ${c.max_seq_len}`,
      );
    }
    const pos = param(this.params, "embed.pos").slice([offset, 0], [t, c.d_model]);
    const ctx = layerContext(opts, 1);
    let x = tf.add(tok, pos);
    if (ctx.training) x = dropout(x, c.dropout, ctx.nextSeed());
    for (let i = 0; i < c.prelude_layers; i++) {
      x = transformerLayer(c, this.params, `prelude.${i}`, x, ctx, opts.cache?.prelude[i]);
    }
    return x as tf.Tensor3D;
  }

  /** The loop's starting state h_0 for embedded input e. */
  initialState(e: tf.Tensor3D, opts: ForwardOptions = {}): tf.Tensor3D {
    switch (this.config.init_state) {
      case "embedding":
        return e;
      case "zeros":
        return tf.zerosLike(e);
      case "random": {
        // Huginn: h_0 ~ TruncNormal(0, 2 / (5 d)) (variance), per call.
        const std = Math.sqrt(2 / (5 * this.config.d_model));
        return seededTruncatedNormal(e.shape, std, mixSeed(opts.seed ?? 0, 2)) as tf.Tensor3D;
      }
    }
  }

  /**
   * One application of the shared block: `h_{t+1} = f(h_t [, e])`.
   * `loop` distinguishes dropout masks between loops.
   */
  step(h: tf.Tensor3D, e: tf.Tensor3D, opts: ForwardOptions = {}, loop = 0): tf.Tensor3D {
    const c = this.config;
    let x: tf.Tensor = h;
    if (c.injection === "add") x = tf.add(h, e);
    if (c.injection === "linear") x = dense(tf.concat([h, e], -1), param(this.params, "inject.w"));
    const ctx = layerContext(opts, 100 + loop);
    const cache = opts.cache;
    if (cache && !cache.loops[loop]) {
      cache.loops[loop] = Array.from({ length: c.n_layers }, () => ({ k: null, v: null }));
    }
    for (let i = 0; i < c.n_layers; i++) {
      x = transformerLayer(c, this.params, `block.${i}`, x, ctx, cache?.loops[loop][i]);
    }
    return x as tf.Tensor3D;
  }

  /**
   * The one-loop map `f` as a function of the state alone, for input
   * embedding `e` (the regulariser differentiates it with respect to h).
   */
  loopMap(e: tf.Tensor3D, opts: ForwardOptions = {}): (h: tf.Tensor3D) => tf.Tensor3D {
    return (h) => this.step(h, e, opts);
  }

  /** Coda, final norm and the tied head: logits [B, T, vocab] from h_N. */
  readout(h: tf.Tensor3D, opts: ForwardOptions = {}): tf.Tensor3D {
    const c = this.config;
    const ctx = layerContext(opts, 3);
    let x: tf.Tensor = h;
    for (let i = 0; i < c.coda_layers; i++) {
      x = transformerLayer(c, this.params, `coda.${i}`, x, ctx, opts.cache?.coda[i]);
    }
    x = norm(c.norm_type, x, normParams(this.params, "final_norm"));
    const [b, t] = h.shape;
    const head = transposeLast(param(this.params, "embed.tok"));
    return matmul(x.reshape([b * t, c.d_model]), head).reshape([b, t, c.vocab_size]) as tf.Tensor3D;
  }

  /**
   * Runs the loop `loops` times from h_0, or from `opts.start` (a state
   * reached earlier, for example by loops computed outside a gradient tape
   * as in Huginn's truncated backprop: a tensor created outside
   * `tf.variableGrads` is a constant to it).
   */
  forward(ids: tf.Tensor2D, loops: number, opts: ForwardOptions = {}): ForwardResult {
    if (!Number.isInteger(loops) || loops < 0) {
      throw new RangeError(`model: loops must be an integer >= 0, got ${loops}`);
    }
    const e = this.embed(ids, opts);
    let h = opts.start?.state ?? this.initialState(e, opts);
    const offset = opts.start?.loopsDone ?? 0;
    const states: tf.Tensor3D[] = opts.keepStates ? [h] : [];
    for (let i = 0; i < loops; i++) {
      h = this.step(h, e, opts, offset + i);
      if (opts.keepStates) states.push(h);
    }
    const logits = this.readout(h, opts);
    if (opts.cache) opts.cache.length += ids.shape[1];
    return { logits, state: h, states };
  }

  /** Releases the parameters' memory. */
  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}
