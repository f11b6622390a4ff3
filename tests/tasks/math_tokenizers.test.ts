import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  BpeTokenizer,
  bpeTokenizer,
  generateWordProblems,
  MATH_CHARSET,
  mathCharTokenizer,
  missingChars,
  toGsm8kJsonl,
} from "../../tasks/math/mod.ts";
import { EOS, PAD } from "../../tasks/tokenizer.ts";

const SAMPLES = [
  "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72",
  "What is $\\frac{1}{2} + \\frac{1}{4}$? \\boxed{\\dfrac{3}{4}} {x | x > 0} ~`^_",
  "",
  "  spaces   and\ttabs? no tabs: only spaces\n\nA: 1,000",
];

Deno.test("math tokenizers: character set, ids, PAD and EOS", () => {
  const tok = mathCharTokenizer();
  assertEquals(MATH_CHARSET.length, 96);
  assertEquals([tok.vocabSize, tok.padId, tok.eosId], [98, 96, 97]);
  assertEquals(tok.symbols.slice(-2), [PAD, EOS]);
  assertEquals(tok.encode(" !~\n"), [0, 1, 94, 95]);
  const digits = mathCharTokenizer("0123456789 +=");
  assertEquals([digits.vocabSize, digits.padId, digits.eosId], [15, 13, 14]);
  assertThrows(() => digits.encode("1-2"), Error, 'unknown character "-"');
  assertEquals(missingChars("a€b—c€", "abc"), ["€", "—"]);
  // .extend keeps every id, PAD and EOS included.
  const wide = tok.extend(["€"]);
  assertEquals([wide.padId, wide.eosId, wide.encode("€")[0]], [96, 97, 98]);
});

Deno.test("math tokenizers: character round trips, decode stops at EOS and drops PAD", () => {
  const tok = mathCharTokenizer();
  const text = toGsm8kJsonl(
    generateWordProblems({ count: 20, seed: 1, split: "train", stepsMin: 4 }),
  );
  for (const s of [...SAMPLES.filter((s) => !s.includes("\t")), text]) {
    assertEquals(tok.decode(tok.encode(s)), s);
  }
  assertThrows(() => tok.encode("a\tb"), Error, "unknown character");
  const ids = [...tok.encode("12"), tok.padId, ...tok.encode("3"), tok.eosId, ...tok.encode("9")];
  assertEquals(tok.decode(ids), "123");
});

Deno.test("math tokenizers: GPT-2 BPE round trips and special ids", () => {
  const tok = new BpeTokenizer();
  assertEquals([tok.vocabSize, tok.eosId, tok.padId], [50258, 50256, 50257]);
  for (const s of [...SAMPLES, "naïve café – 5€", "<|endoftext|> is text here"]) {
    const ids = tok.encode(s);
    assert(ids.every((id) => Number.isInteger(id) && id >= 0 && id < tok.eosId), s);
    assertEquals(tok.decode(ids), s);
  }
  // Known GPT-2 ids: "Hello" = 15496, " world" = 995.
  assertEquals(tok.encode("Hello world"), [15496, 995]);
  // BPE is shorter than characters on English.
  const text = toGsm8kJsonl(
    generateWordProblems({ count: 20, seed: 1, split: "train", stepsMin: 4 }),
  );
  assert(tok.encode(text).length < text.length / 2.5);
  const ids = [...tok.encode("72"), tok.padId, ...tok.encode(" apples"), tok.eosId, 15496];
  assertEquals(tok.decode(ids), "72 apples");
  assertThrows(() => tok.decode([50258]), Error, "outside the vocabulary");
  assertEquals(bpeTokenizer(), bpeTokenizer());
});

Deno.test("math tokenizers: BPE keeps prompt tokens a prefix of prompt + target", () => {
  const tok = bpeTokenizer();
  for (const p of generateWordProblems({ count: 100, seed: 2, split: "train", stepsMin: 3 })) {
    const prompt = tok.encode(p.question + "\nA:");
    const full = tok.encode(`${p.question}\nA: ${p.answer}`);
    assertEquals(full.slice(0, prompt.length), prompt);
  }
});
