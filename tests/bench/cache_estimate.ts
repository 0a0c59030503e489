/**
 * Calibration of the handler's document-cache estimate (issue 10, item 3): for each kind of
 * document, the V8 heap a parsed document holds (heap in use after a full collection, before
 * and after parsing a few copies and keeping them alive, text included) next to
 * `estimateDocumentBytes()` (src/server/_document_cache.ts). Prints one row per kind and exits
 * 1 when the estimate is below the measurement for any of them: the cache budget must never
 * be under-counted. Re-run after a Deno (V8) upgrade or a change to the parser's tree, and
 * adjust `COST` there if it fails.
 *
 * ```sh
 * deno run --v8-flags=--expose-gc --import-map=.ci/import_map.json --lock=.ci/deno.lock \
 *   tests/bench/cache_estimate.ts
 * ```
 *
 * @module
 */
import { parseXmlDocument, type XmlDocument } from "../../src/xml/mod.ts";
import { estimateDocumentBytes } from "../../src/server/_document_cache.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error("run with --v8-flags=--expose-gc");
  Deno.exit(2);
}

const RL = 'xmlns="urn:ietf:params:xml:ns:resource-lists"';
const CP =
  'xmlns:cp="urn:ietf:params:xml:ns:common-policy" xmlns:pr="urn:ietf:params:xml:ns:pres-rules"';
const many = (n: number, f: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => f(i)).join("");
const list = (body: string, extra = "") =>
  `<resource-lists ${RL}${extra}><list>${body}</list></resource-lists>`;

/** The kinds of documents: every part of the tree the estimate prices, alone and mixed. */
const KINDS: Record<string, string> = {
  "99,000 empty elements (594 KB)": list("<x:a/>".repeat(98_999), ' xmlns:x="urn:x"'),
  "entries with an attribute": list(many(20_000, (i) => `<entry uri="sip:user${i}@example.com"/>`)),
  "entries, display names, indented": list(
    many(
      20_000,
      (i) =>
        `\n  <entry uri="sip:user${i}@example.com">\n    <display-name>User ${i}</display-name>\n  </entry>`,
    ),
  ),
  "five short attributes each": list(
    many(20_000, (i) => `<x:a p="1" q="2" r="3" s="${i}" t="v"/>`),
    ' xmlns:x="urn:x"',
  ),
  "three longer attributes each": list(
    many(10_000, (i) => `<x:a p="value-p-${i}" q="value-q-${i}" r="value-r-${i}"/>`),
    ' xmlns:x="urn:x"',
  ),
  "long text": list(
    many(
      2_000,
      (i) =>
        `<entry uri="sip:u${i}@e"><display-name>${
          "long text é ".repeat(50)
        }</display-name></entry>`,
    ),
  ),
  "a namespace declaration each": list(many(20_000, (i) => `<x:a xmlns:x="urn:x${i % 3}"/>`)),
  "comments and CDATA": list(
    many(20_000, (i) => `<!--c${i}--><x:a><![CDATA[d]]></x:a>`),
    ' xmlns:x="urn:x"',
  ),
  "long attribute values": list(
    many(2_000, (i) => `<entry uri="sip:${"u".repeat(300)}${i}@example.com"/>`),
  ),
  "references in attributes": list(
    many(2_000, (i) => `<entry uri="sip:${"u&amp;".repeat(60)}${i}@example.com"/>`),
  ),
  "references and CRLF in text": list(
    many(
      2_000,
      (i) =>
        `<entry uri="sip:u${i}@e"><display-name>${"a&amp;b\r\n".repeat(50)}</display-name></entry>`,
    ),
  ),
  "character references": list(
    many(
      2_000,
      (i) =>
        `<entry uri="sip:u${i}@e"><display-name>${
          "&#x263A;&#65;".repeat(50)
        }</display-name></entry>`,
    ),
  ),
  "two-byte text": list(
    many(20_000, (i) => `<entry uri="sip:€${i}@e"><display-name>Ω ${i}</display-name></entry>`),
  ),
  "pres-rules": `<cp:ruleset ${CP}>${
    many(5_000, (i) =>
      `<cp:rule id="r${i}"><cp:conditions><cp:identity><cp:one id="sip:u${i}@example.com"/>` +
      `</cp:identity></cp:conditions><cp:actions><pr:sub-handling>allow</pr:sub-handling>` +
      `</cp:actions><cp:transformations><pr:provide-services><pr:all-services/>` +
      `</pr:provide-services></cp:transformations></cp:rule>\n`)
  }</cp:ruleset>`,
  "nested lists": `<resource-lists ${RL}>${
    many(5_000, (i) =>
      `<list name="l${i}"><display-name>L${i}</display-name><list name="m">` +
      `<entry uri="sip:a${i}@b"/><entry-ref ref="x/${i}"/><external anchor="http://e/${i}"/>` +
      `</list></list>`)
  }</resource-lists>`,
  "one entry (120 B)": list('<entry uri="sip:a@b"/>'),
  "with prolog (240 B)":
    `<?xml version="1.0" encoding="UTF-8"?>\n<!-- c -->\n<resource-lists ${RL}>\n` +
    `  <list name="friends">\n    <entry uri="sip:bob@example.com"><display-name>Bob</display-name>` +
    `</entry>\n  </list>\n</resource-lists>\n`,
};

/** A flat copy of the text, so that each parsed copy holds its own text, as a stored one does. */
function freshText(text: string): string {
  return text.split("").join("");
}

/** Heap held per parsed copy, and the estimate; everything it allocates is garbage after. */
function measure(name: string, text: string): { measured: number; estimated: number } {
  const copies = text.length < 1_000 ? 2_000 : 3;
  const keep: XmlDocument[] = [];
  gc!();
  gc!();
  const before = Deno.memoryUsage().heapUsed;
  for (let i = 0; i < copies; i++) {
    const parsed = parseXmlDocument(freshText(text));
    if (parsed.isErr()) throw new Error(`${name}: ${parsed.error.phrase}`);
    keep.push(parsed.value);
  }
  gc!();
  gc!();
  const measured = (Deno.memoryUsage().heapUsed - before) / copies;
  return { measured, estimated: estimateDocumentBytes(keep[0]!) };
}

console.log(`Deno ${Deno.version.deno}, V8 ${Deno.version.v8}`);
console.log("| document | characters | measured bytes | estimated bytes | estimate / measured |");
console.log("| --- | ---: | ---: | ---: | ---: |");
let under = 0;
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
for (const [name, text] of Object.entries(KINDS)) {
  const { measured, estimated } = measure(name, text);
  const ratio = estimated / measured;
  if (ratio < 1) under++;
  console.log(
    `| ${name} | ${fmt(text.length)} | ${fmt(measured)} | ${fmt(estimated)} | ${ratio.toFixed(2)}${
      ratio < 1 ? " UNDER" : ""
    } |`,
  );
}
console.log(under === 0 ? "every estimate covers its measurement" : `${under} under-estimated`);
Deno.exit(under === 0 ? 0 : 1);
