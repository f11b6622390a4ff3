/**
 * A small XML well-formedness check for the SVG files the plots write (no
 * DOMParser in Deno): one root element, tags properly nested and closed,
 * attributes quoted and unique, only the five predefined or numeric
 * entities. Not a validator.
 *
 * @module
 */

const NAME = /^[A-Za-z_:][\w:.-]*$/;

/** Returns null when `text` is well-formed XML, else a message naming the first problem. */
export function xmlProblem(text: string): string | null {
  let i = 0, roots = 0;
  const stack: string[] = [];
  const badEntity = (s: string) =>
    /&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(s)
      ? `bad entity in "${s.slice(0, 40)}"`
      : null;
  while (i < text.length) {
    const lt = text.indexOf("<", i);
    const chars = text.slice(i, lt < 0 ? undefined : lt);
    if (chars.trim() && stack.length === 0) {
      return `text outside the root: "${chars.trim().slice(0, 30)}"`;
    }
    const e = badEntity(chars);
    if (e) return e;
    if (lt < 0) break;
    if (text.startsWith("<?", lt)) {
      const end = text.indexOf("?>", lt);
      if (end < 0) return "unterminated processing instruction";
      i = end + 2;
      continue;
    }
    if (text.startsWith("<!--", lt)) {
      const end = text.indexOf("-->", lt);
      if (end < 0) return "unterminated comment";
      i = end + 3;
      continue;
    }
    const gt = text.indexOf(">", lt);
    if (gt < 0) return "unterminated tag";
    const tag = text.slice(lt + 1, gt);
    if (tag.startsWith("/")) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (open !== name) return `</${name}> closes <${open ?? "nothing"}>`;
    } else {
      const selfClosing = tag.endsWith("/");
      const body = selfClosing ? tag.slice(0, -1) : tag;
      const m = /^([^\s]+)([\s\S]*)$/.exec(body);
      if (!m || !NAME.test(m[1])) return `bad tag name in <${tag.slice(0, 30)}>`;
      const attrs = m[2];
      const seen = new Set<string>();
      const re = /\s+([A-Za-z_:][\w:.-]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/gy;
      let rest = attrs, pos = 0, a: RegExpExecArray | null;
      re.lastIndex = 0;
      while ((a = re.exec(attrs)) !== null) {
        if (seen.has(a[1])) return `duplicate attribute ${a[1]} in <${m[1]}>`;
        seen.add(a[1]);
        const ent = badEntity(a[3] ?? a[4] ?? "");
        if (ent) return ent;
        pos = re.lastIndex;
      }
      rest = attrs.slice(pos);
      if (rest.trim()) return `bad attributes in <${m[1]}>: "${rest.trim().slice(0, 30)}"`;
      if (stack.length === 0) roots++;
      if (roots > 1) return "more than one root element";
      if (!selfClosing) stack.push(m[1]);
    }
    i = gt + 1;
  }
  if (stack.length) return `unclosed <${stack[stack.length - 1]}>`;
  if (roots !== 1) return "no root element";
  return null;
}
