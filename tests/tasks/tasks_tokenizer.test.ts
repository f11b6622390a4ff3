import { assertEquals, assertThrows } from "@std/assert";
import {
  ARITHMETIC_TOKENIZER,
  CharTokenizer,
  decode,
  encode,
  EOS,
  EOS_ID,
  MULTIPLICATION_TOKENIZER,
  PAD,
  PAD_ID,
  VOCAB_SIZE,
} from "../../tasks/mod.ts";

Deno.test("tokenizer: 15 symbols in the documented order", () => {
  assertEquals(VOCAB_SIZE, 15);
  assertEquals(
    ARITHMETIC_TOKENIZER.symbols.join("|"),
    [
      ..."0123456789+= ",
      PAD,
      EOS,
    ].join("|"),
  );
  assertEquals([PAD_ID, EOS_ID], [13, 14]);
  assertEquals(encode("0189+= "), [0, 1, 8, 9, 10, 11, 12]);
});

Deno.test("tokenizer: round trip, EOS stops and PAD is left out", () => {
  const text = "1234+5678= 2196";
  assertEquals(decode(encode(text)), text);
  assertEquals(decode([1, PAD_ID, 2, EOS_ID, 3]), "12");
  assertEquals(decode(Int32Array.from([12, 5, EOS_ID, PAD_ID])), " 5");
});

Deno.test("tokenizer: unknown characters and ids are clear errors", () => {
  assertThrows(() => encode("12-3"), Error, '"-"');
  assertThrows(() => encode("<pad>"), Error, '"<"');
  assertThrows(() => decode([15]), Error, "15");
  assertThrows(() => new CharTokenizer(["a", "b", PAD]), Error, EOS);
  assertThrows(() => new CharTokenizer(["ab", PAD, EOS]), Error, '"ab"');
  assertThrows(() => new CharTokenizer(["a", "a", PAD, EOS]), Error, "repeat");
});

Deno.test("tokenizer: multiplication extends without moving ids", () => {
  const t = MULTIPLICATION_TOKENIZER;
  assertEquals(t.vocabSize, 16);
  assertEquals([t.padId, t.eosId, t.idOf("*")], [13, 14, 15]);
  assertEquals(t.encode("2*3="), [2, 15, 3, 11]);
  assertEquals(t.decode(t.encode("12*34= 804")), "12*34= 804");
  assertThrows(() => ARITHMETIC_TOKENIZER.encode("2*3"), Error, '"*"');
});
