/**
 * A character tokenizer built from an ordered symbol list: every ordinary
 * symbol is one character, and two named special symbols mark padding and
 * end of sequence.
 *
 * The paper's addition task uses 15 symbols. Its public code was not
 * available to us, so the order here is our own: digits 0-9 are ids 0-9,
 * `+` = 10, `=` = 11, space = 12, PAD = 13, EOS = 14.
 *
 * @module
 */
import type { Tokenizer } from "./task.ts";

/** Name of the padding symbol in a symbol list. */
export const PAD = "<pad>";
/** Name of the end-of-sequence symbol in a symbol list. */
export const EOS = "<eos>";

/** The paper's 15-symbol vocabulary for addition, in id order. */
export const ARITHMETIC_SYMBOLS: readonly string[] = Object.freeze([
  ..."0123456789",
  "+",
  "=",
  " ",
  PAD,
  EOS,
]);

/**
 * A character tokenizer: symbol `i` of the list has id `i`. Ordinary
 * symbols must be single characters; the list must contain {@linkcode PAD}
 * and {@linkcode EOS} once each.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { ARITHMETIC_TOKENIZER } from "@stars/toolkit/tasks";
 * const ids = ARITHMETIC_TOKENIZER.encode("12+34=");
 * assertEquals(ARITHMETIC_TOKENIZER.decode(ids), "12+34=");
 * ```
 */
export class CharTokenizer implements Tokenizer {
  /** The symbols in id order (special symbols by name). */
  readonly symbols: readonly string[];
  /** Id of the padding symbol. */
  readonly padId: number;
  /** Id of the end-of-sequence symbol. */
  readonly eosId: number;
  #ids: Map<string, number>;

  /** Builds a tokenizer from an ordered symbol list (see the class doc). */
  constructor(symbols: readonly string[]) {
    this.#ids = new Map();
    symbols.forEach((s, i) => {
      if (s !== PAD && s !== EOS && [...s].length !== 1) {
        throw new Error(
          `tokenizer symbol ${JSON.stringify(s)} must be one character`,
        );
      }
      if (this.#ids.has(s)) {
        throw new Error(`tokenizer symbol ${JSON.stringify(s)} is repeated`);
      }
      this.#ids.set(s, i);
    });
    const pad = this.#ids.get(PAD);
    const eos = this.#ids.get(EOS);
    if (pad === undefined || eos === undefined) {
      throw new Error(`tokenizer symbols must include "${PAD}" and "${EOS}"`);
    }
    this.symbols = Object.freeze([...symbols]);
    this.padId = pad;
    this.eosId = eos;
  }

  /** Number of symbols (the model's vocabulary size). */
  get vocabSize(): number {
    return this.symbols.length;
  }

  /**
   * A new tokenizer with `chars` appended after the existing symbols, so
   * every existing id (PAD and EOS included) keeps its value.
   */
  extend(chars: Iterable<string>): CharTokenizer {
    return new CharTokenizer([...this.symbols, ...chars]);
  }

  /** The id of one character; throws naming the character if unknown. */
  idOf(char: string): number {
    const id = char === PAD || char === EOS ? undefined : this.#ids.get(char);
    if (id === undefined) {
      throw new Error(
        `unknown character ${JSON.stringify(char)} (not in the vocabulary ${
          JSON.stringify(this.symbols.join(""))
        })`,
      );
    }
    return id;
  }

  /** Encodes text character by character (no EOS is added). */
  encode(text: string): number[] {
    return [...text].map((c) => this.idOf(c));
  }

  /**
   * Decodes ids to text: stops at the first EOS and leaves out PAD.
   * Throws on an id outside the vocabulary.
   */
  decode(ids: ArrayLike<number>): string {
    let out = "";
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id === this.eosId) break;
      if (id === this.padId) continue;
      const s = this.symbols[id];
      if (!Number.isInteger(id) || s === undefined) {
        throw new Error(`token id ${id} is outside the vocabulary`);
      }
      out += s;
    }
    return out;
  }
}

/** The paper's 15-symbol tokenizer for addition. */
export const ARITHMETIC_TOKENIZER: CharTokenizer = new CharTokenizer(
  ARITHMETIC_SYMBOLS,
);

/**
 * Tokenizer for multiplication: the addition vocabulary with `*` appended
 * as id 15 (16 symbols; every addition id is unchanged).
 */
export const MULTIPLICATION_TOKENIZER: CharTokenizer = ARITHMETIC_TOKENIZER
  .extend(["*"]);

/** Vocabulary size of {@linkcode ARITHMETIC_TOKENIZER} (15). */
export const VOCAB_SIZE: number = ARITHMETIC_TOKENIZER.vocabSize;
/** PAD id of {@linkcode ARITHMETIC_TOKENIZER} (13). */
export const PAD_ID: number = ARITHMETIC_TOKENIZER.padId;
/** EOS id of {@linkcode ARITHMETIC_TOKENIZER} (14). */
export const EOS_ID: number = ARITHMETIC_TOKENIZER.eosId;

/** Encodes text with {@linkcode ARITHMETIC_TOKENIZER}. */
export function encode(text: string): number[] {
  return ARITHMETIC_TOKENIZER.encode(text);
}

/** Decodes ids with {@linkcode ARITHMETIC_TOKENIZER} (stops at EOS). */
export function decode(ids: ArrayLike<number>): string {
  return ARITHMETIC_TOKENIZER.decode(ids);
}
