/**
 * Loaders for math JSON-lines files: a streaming reader that yields one
 * typed problem per line as it reads (never holding the whole file), and a
 * synchronous parser of text for callers that cannot await (the trainer).
 *
 * Blank lines are ignored. A malformed line is an error naming the file
 * and its 1-based line; with `skipMalformed` it is skipped and recorded in
 * the caller's {@linkcode LoadStats} instead. Nothing is dropped silently.
 *
 * @module
 */
import { type MathFormat, MathFormatError, type MathItem, parseMathLine } from "./formats.ts";

/** Options of the loaders. */
export interface LoadOptions {
  /**
   * The file's format, or `"auto"` (default): the first well-formed line's
   * fields decide it and every later line must have the same format.
   */
  readonly format?: MathFormat | "auto";
  /** Skip malformed lines, recording them in `stats`, instead of throwing (default false). */
  readonly skipMalformed?: boolean;
  /** Filled in while loading: line counts and every skipped line with its reason. */
  readonly stats?: LoadStats;
}

/** Counts kept by the loaders (pass an object in {@linkcode LoadOptions.stats}). */
export interface LoadStats {
  /** Lines read, blank ones included. */
  lines: number;
  /** Problems yielded. */
  problems: number;
  /** Malformed lines skipped (only with `skipMalformed`). */
  skipped: MathFormatError[];
  /** The format in use (after auto-detection). */
  format?: MathFormat;
}

/** A fresh, empty {@linkcode LoadStats}. */
export function newLoadStats(): LoadStats {
  return { lines: 0, problems: 0, skipped: [] };
}

/** A line parser that keeps the auto-detected format and the stats. */
function lineParser(file: string, options: LoadOptions): (raw: string) => MathItem | undefined {
  let format = options.format ?? "auto";
  const stats = options.stats;
  let n = 0;
  return (raw) => {
    n++;
    if (stats) stats.lines = n;
    if (raw.trim() === "") return undefined;
    try {
      const item = parseMathLine(raw, file, n, format);
      format = item.format;
      if (stats) {
        stats.format = item.format;
        stats.problems++;
      }
      return item;
    } catch (e) {
      if (!(e instanceof MathFormatError) || !options.skipMalformed) throw e;
      stats?.skipped.push(e);
      return undefined;
    }
  };
}

function fileName(path: string | URL): string {
  return path instanceof URL && path.protocol === "file:"
    ? decodeURIComponent(path.pathname)
    : String(path);
}

/** The lines of a byte stream, decoded as UTF-8, without their `\n` / `\r\n`. */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    let at: number;
    while ((at = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, at).replace(/\r$/, "");
      rest = rest.slice(at + 1);
    }
  }
  if (rest !== "") yield rest.replace(/\r$/, "");
}

/**
 * Streams the problems of a JSON-lines byte stream, parsing each line as
 * it arrives; `file` names the source in errors. Stopping early cancels
 * the stream.
 */
export async function* streamMathLines(
  stream: ReadableStream<Uint8Array>,
  file: string,
  options: LoadOptions = {},
): AsyncGenerator<MathItem> {
  const parse = lineParser(file, options);
  const lines = readLines(stream);
  try {
    for await (const raw of lines) {
      const item = parse(raw);
      if (item) yield item;
    }
  } finally {
    await lines.return(undefined);
  }
}

/**
 * Streams the problems of a JSON-lines file, reading it line by line
 * (the file is closed when the stream ends or the caller stops early).
 *
 * @example
 * ```ts ignore
 * import { streamMathJsonl } from "@stars/toolkit/tasks";
 * for await (const item of streamMathJsonl("gsm8k_test.jsonl")) {
 *   console.log(item.line, item.answer);
 * }
 * ```
 */
export async function* streamMathJsonl(
  path: string | URL,
  options: LoadOptions = {},
): AsyncGenerator<MathItem> {
  const file = await Deno.open(path, { read: true });
  yield* streamMathLines(file.readable, fileName(path), options);
}

/** All problems of a JSON-lines file (streamed; see {@linkcode streamMathJsonl}). */
export async function loadMathJsonl(
  path: string | URL,
  options: LoadOptions = {},
): Promise<MathItem[]> {
  const out: MathItem[] = [];
  for await (const item of streamMathJsonl(path, options)) out.push(item);
  return out;
}

/**
 * Parses the text of a JSON-lines file synchronously (same rules as
 * {@linkcode streamMathJsonl}); `file` names it in errors.
 */
export function parseMathJsonl(text: string, file: string, options: LoadOptions = {}): MathItem[] {
  const parse = lineParser(file, options);
  const out: MathItem[] = [];
  for (const raw of text.split("\n")) {
    const item = parse(raw.replace(/\r$/, ""));
    if (item) out.push(item);
  }
  // A trailing newline is not an extra line.
  if (options.stats && text.endsWith("\n")) options.stats.lines--;
  return out;
}

/** Reads and parses a JSON-lines file synchronously (for the trainer's synchronous set-up). */
export function loadMathJsonlSync(path: string | URL, options: LoadOptions = {}): MathItem[] {
  return parseMathJsonl(Deno.readTextFileSync(path), fileName(path), options);
}
