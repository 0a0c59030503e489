/**
 * Lenient looks into text that may not be well-formed XML, for the few places that must make
 * sense of what a peer sent even when the engine's parser (`parseXmlDocument()`)
 * refuses it: guessing an application usage from a document's first start tag, and reading
 * the item lists of an `xcap-caps` document some OpenXCAP releases wrote broken. Neither
 * checks anything; both only find what they are asked for. Kept here so that no module
 * outside `src/xml/` reads XML by hand.
 *
 * @module
 */

/**
 * The local name of the document element of an XML text: the first start tag after a byte
 * order mark, the XML declaration, comments, processing instructions, a DOCTYPE and
 * whitespace. Not a validator: it only looks far enough to find that name, so a truncated or
 * otherwise broken document still gives it.
 *
 * @param xml The document.
 * @returns The local name (prefix removed), or `undefined` when no start tag comes first.
 *
 * @example Usage
 * ```ts
 * import { rootElementName } from "./_lenient.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(
 *   rootElementName('<?xml version="1.0"?>\n<!-- mine -->\n<rl:resource-lists xmlns:rl="x"/>'),
 *   "resource-lists",
 * );
 * assertEquals(rootElementName("sip:bob@example.com"), undefined);
 * ```
 */
export function rootElementName(xml: string): string | undefined {
  let i = xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (;;) {
    while (i < xml.length && /\s/.test(xml[i]!)) i++;
    if (xml.startsWith("<?", i)) {
      const end = xml.indexOf("?>", i + 2);
      if (end === -1) return undefined;
      i = end + 2;
    } else if (xml.startsWith("<!--", i)) {
      const end = xml.indexOf("-->", i + 4);
      if (end === -1) return undefined;
      i = end + 3;
    } else if (xml.startsWith("<!DOCTYPE", i)) {
      // Skip to the '>' that closes the DOCTYPE, past an internal subset in brackets.
      let depth = 0;
      let j = i + 9;
      for (; j < xml.length; j++) {
        const c = xml[j];
        if (c === "[") depth++;
        else if (c === "]") depth--;
        else if (c === ">" && depth <= 0) break;
      }
      if (j >= xml.length) return undefined;
      i = j + 1;
    } else if (xml[i] === "<") {
      const match = /^<([^\s/>!?]+)/.exec(xml.slice(i, i + 300));
      if (!match) return undefined;
      const name = match[1]!;
      return name.slice(name.indexOf(":") + 1) || undefined;
    } else {
      return undefined;
    }
  }
}

/**
 * The trimmed, non-empty texts of every `<localName>` start tag (any prefix, no attributes) up
 * to the next `<`, each once, in order: what a broken document still says about a list of
 * simple items (`<auid>resource-lists<auid>` as some OpenXCAP releases wrote it).
 *
 * @param text The text, well-formed or not.
 * @param localName The local name of the items.
 * @returns The values found.
 *
 * @example Usage
 * ```ts
 * import { looseItemTexts } from "./_lenient.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(looseItemTexts("<auids><auid>a<auid> b </auid><x:auid>a</auids>", "auid"), ["a", "b"]);
 * ```
 */
export function looseItemTexts(text: string, localName: string): string[] {
  const pattern = new RegExp(`<(?:[A-Za-z_][\\w.-]*:)?${localName}\\s*>([^<]*)(?=<)`, "g");
  const values: string[] = [];
  for (const match of text.matchAll(pattern)) {
    const value = match[1]!.trim();
    if (value !== "" && !values.includes(value)) values.push(value);
  }
  return values;
}
