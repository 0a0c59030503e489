/**
 * The one home of the project's XML character rules: XML 1.0 (5th edition) name characters and
 * NCNames, whitespace, character checks, the predefined entities and escaping. The engine, the
 * client's selectors and conflict reports, the schema checker and the CLI all use these. Not
 * exported from the package.
 *
 * @module
 */

/** The namespace bound to the `xml` prefix by definition (Namespaces in XML 1.0 §3). */
export const XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace";
/** The namespace of `xmlns` attributes; no prefix may be bound to it. */
export const XMLNS_NAMESPACE = "http://www.w3.org/2000/xmlns/";

/** XML 1.0 §2.4 `NameStartChar` without `:` (the colon is handled by the QName split). */
export function isNameStartCode(cp: number): boolean {
  if (cp < 0x80) {
    return (cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a) || cp === 0x5f;
  }
  return (cp >= 0xc0 && cp <= 0xd6) || (cp >= 0xd8 && cp <= 0xf6) ||
    (cp >= 0xf8 && cp <= 0x2ff) || (cp >= 0x370 && cp <= 0x37d) ||
    (cp >= 0x37f && cp <= 0x1fff) || (cp >= 0x200c && cp <= 0x200d) ||
    (cp >= 0x2070 && cp <= 0x218f) || (cp >= 0x2c00 && cp <= 0x2fef) ||
    (cp >= 0x3001 && cp <= 0xd7ff) || (cp >= 0xf900 && cp <= 0xfdcf) ||
    (cp >= 0xfdf0 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0xeffff);
}

/** XML 1.0 §2.4 `NameChar` without `:`. */
export function isNameCode(cp: number): boolean {
  if (cp < 0x80) {
    return (cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a) ||
      (cp >= 0x30 && cp <= 0x39) || cp === 0x5f || cp === 0x2d || cp === 0x2e;
  }
  return cp === 0xb7 || (cp >= 0x300 && cp <= 0x36f) || (cp >= 0x203f && cp <= 0x2040) ||
    isNameStartCode(cp);
}

/** Whether `text` is an XML Namespaces `NCName`. */
export function isNCName(text: string): boolean {
  if (text.length === 0) return false;
  let first = true;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (first ? !isNameStartCode(cp) : !isNameCode(cp)) return false;
    first = false;
  }
  return true;
}

/** XML `S`: space, tab, CR, LF. */
export function isSpaceCode(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

/** Whether the code point is an XML 1.0 `Char` (§2.2). */
export function isXmlCharCode(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** Matches the first character that is not an XML `Char` (a lone surrogate included). */
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** Offset of the first character of `text` that XML 1.0 forbids, or -1. */
export function firstNonXmlChar(text: string): number {
  const match = NOT_XML_CHAR.exec(text);
  return match === null ? -1 : match.index;
}

/** `U+XXXX` notation for the code point at `offset`. */
export function codePointLabel(text: string, offset: number): string {
  const cp = text.codePointAt(offset) ?? 0;
  return "U+" + cp.toString(16).toUpperCase().padStart(4, "0");
}

/** The five entities XML predefines (§4.6). */
export const PREDEFINED_ENTITIES: Readonly<Record<string, string>> = {
  lt: "<",
  gt: ">",
  amp: "&",
  apos: "'",
  quot: '"',
};

/** Escape character data (`&`, `<`, `>`, and CR so that it survives parsing). */
export function escapeText(value: string): string {
  return value.replace(
    /[&<>\r]/g,
    (ch) => ch === "&" ? "&amp;" : ch === "<" ? "&lt;" : ch === ">" ? "&gt;" : "&#13;",
  );
}

/** Escape text for an attribute value in double quotes. */
export function escapeAttributeValue(value: string): string {
  return value.replace(/[&<"\t\n\r]/g, (ch) => {
    switch (ch) {
      case "&":
        return "&amp;";
      case "<":
        return "&lt;";
      case '"':
        return "&quot;";
      case "\t":
        return "&#9;";
      case "\n":
        return "&#10;";
      default:
        return "&#13;";
    }
  });
}

/** 1-based line and column of `offset` in `text` (columns count UTF-16 code units). */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}
