/**
 * Tokenizers for math text: a character tokenizer over a configurable
 * character set (printable ASCII and newline by default; the default for
 * the tiny models trained here), and GPT-2's byte-level BPE from the
 * `js-tiktoken` npm package, whose ranks ship inside the package (no
 * network at run time).
 *
 * Size matters: the model's embedding (tied to its output head) has
 * `vocabSize x d_model` weights. The character tokenizer has 98 ids
 * (6 272 weights at d_model 64); GPT-2 BPE has 50 258 ids (3.2 million
 * weights at d_model 64, and a 50 258-way softmax per position), which
 * dwarfs a tiny looped block. BPE shortens sequences (about 4 characters
 * per token on English) at that price.
 *
 * @module
 */
import { Tiktoken } from "js-tiktoken/lite";
import gpt2Ranks from "js-tiktoken/ranks/gpt2";
import type { Tokenizer } from "../task.ts";
import { CharTokenizer, EOS, PAD } from "../tokenizer.ts";

/** Printable ASCII (space to `~`, 95 characters) and newline. */
export const MATH_CHARSET: string =
  Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))
    .join("") + "\n";

/**
 * A character tokenizer whose symbols are the distinct characters of
 * `charset` in order (ids 0, 1, ...), then PAD and EOS. With the default
 * {@linkcode MATH_CHARSET} PAD is 96, EOS 97 and the vocabulary 98.
 * Grow it with `.extend(chars)`, which keeps every id.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { mathCharTokenizer } from "@stars/toolkit/tasks";
 * const tok = mathCharTokenizer();
 * assertEquals(tok.decode(tok.encode("3/4 = 0.75\nA: 7")), "3/4 = 0.75\nA: 7");
 * ```
 */
export function mathCharTokenizer(charset: string = MATH_CHARSET): CharTokenizer {
  return new CharTokenizer([...new Set([...charset]), PAD, EOS]);
}

/** The characters of `text` that `charset` lacks, distinct, in order of first use. */
export function missingChars(text: string, charset: string = MATH_CHARSET): string[] {
  const have = new Set([...charset]);
  const out = new Set<string>();
  for (const c of text) if (!have.has(c)) out.add(c);
  return [...out];
}

/**
 * GPT-2's byte-level BPE (50 257 ids, `<|endoftext|>` = 50 256 serves as
 * EOS) plus one PAD id, 50 257: 50 258 ids in all. Text is encoded as
 * ordinary text throughout (a literal `<|endoftext|>` in it is not special).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { BpeTokenizer } from "@stars/toolkit/tasks";
 * const tok = new BpeTokenizer();
 * assertEquals(tok.decode([...tok.encode("48 / 2 = 24"), tok.eosId, 7]), "48 / 2 = 24");
 * ```
 */
export class BpeTokenizer implements Tokenizer {
  /** Number of ids: GPT-2's 50 257 and PAD. */
  readonly vocabSize: number;
  /** PAD, one past GPT-2's vocabulary. */
  readonly padId: number;
  /** GPT-2's `<|endoftext|>`. */
  readonly eosId: number;
  #enc: Tiktoken;

  /** Builds the tokenizer from the ranks bundled with `js-tiktoken`. */
  constructor() {
    this.#enc = new Tiktoken(gpt2Ranks);
    const eos = gpt2Ranks.special_tokens["<|endoftext|>"];
    this.eosId = eos;
    this.padId = eos + 1;
    this.vocabSize = eos + 2;
  }

  /** Text to BPE ids (no EOS added). */
  encode(text: string): number[] {
    return this.#enc.encode(text, [], []);
  }

  /** Ids to text: stops at EOS, leaves out PAD, throws on an id outside the vocabulary. */
  decode(ids: ArrayLike<number>): string {
    const kept: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id === this.eosId) break;
      if (id === this.padId) continue;
      if (!Number.isInteger(id) || id < 0 || id >= this.eosId) {
        throw new Error(`token id ${id} is outside the vocabulary`);
      }
      kept.push(id);
    }
    return this.#enc.decode(kept);
  }
}

let shared: BpeTokenizer | undefined;

/** One shared {@linkcode BpeTokenizer} (building the rank table takes a moment). */
export function bpeTokenizer(): BpeTokenizer {
  return shared ??= new BpeTokenizer();
}
