/**
 * Benchmark fixtures: resource-lists documents of any size, the document cycle (parse, select
 * one entry by attribute predicate, change it, serialize) on this package's XML engine, and the
 * fast-xml-parser baseline (parse plus build) with the options from /work/shared/ENVIRONMENT.md.
 *
 * Shared by `document_bench.ts` (`deno bench`) and `load.ts` (the one-run report).
 *
 * @module
 */
import { type X2jOptions, XMLBuilder, XMLParser } from "npm:fast-xml-parser@^5.12.1";
import type { NodeSelector } from "../../mod.ts";
import { parseXmlDocument, putNode, selectNode } from "../../src/xml/mod.ts";

/** The resource-lists namespace (RFC 4826 §3.2). */
export const RESOURCE_LISTS_NS = "urn:ietf:params:xml:ns:resource-lists";

/** The namespace context a server uses for resource-lists: unprefixed names are in RL_NS. */
export const RESOURCE_LISTS_CONTEXT: Readonly<Record<string, string>> = Object.freeze({
  "": RESOURCE_LISTS_NS,
});

/** The SIP URI of entry `i` (1-based). */
export function entryUri(i: number): string {
  return `sip:user${i}@example.com`;
}

/** One `<entry>` element, as the documents and the element PUTs write it. */
export function entryElement(i: number, displayName: string = `User ${i}`): string {
  return `<entry uri="${entryUri(i)}"><display-name>${displayName}</display-name></entry>`;
}

/** A resource-lists document with one list of `entries` entries, one per line. */
export function resourceListsDocument(entries: number): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<resource-lists xmlns="${RESOURCE_LISTS_NS}">`,
    '  <list name="friends">',
  ];
  for (let i = 1; i <= entries; i++) lines.push(`    ${entryElement(i)}`);
  lines.push("  </list>", "</resource-lists>", "");
  return lines.join("\n");
}

/** The node selector `resource-lists/list/entry[@uri="…"]` of entry `i`, parsed. */
export function entrySelector(i: number): NodeSelector {
  return {
    steps: [
      { name: { local: "resource-lists" } },
      { name: { local: "list" } },
      { name: { local: "entry" }, attribute: { name: { local: "uri" }, value: entryUri(i) } },
    ],
  };
}

/** The same selector as text, for URIs. */
export function entrySelectorText(i: number): string {
  return `resource-lists/list/entry[@uri="${entryUri(i)}"]`;
}

/** Parse limits large enough for the biggest document the benchmarks build. */
export const BENCH_LIMITS = Object.freeze({ maxElements: 1_000_000 });

/**
 * The document cycle on this package's engine: parse, select entry `target` by its `uri`
 * attribute, replace it with a changed copy (the splice re-parses the result to validate it, as
 * a server must), and return the new text.
 *
 * @param text The document.
 * @param target The entry to change.
 * @returns The changed document's text.
 */
export function xcapCycle(text: string, target: number): string {
  const doc = parseXmlDocument(text, BENCH_LIMITS);
  if (doc.isErr()) throw new Error(`parse failed: ${doc.error.phrase}`);
  const selector = entrySelector(target);
  const selected = selectNode(doc.value, selector, RESOURCE_LISTS_CONTEXT);
  if (selected.isErr()) throw new Error(`select failed: ${selected.error.message}`);
  const put = putNode(
    doc.value,
    selector,
    RESOURCE_LISTS_CONTEXT,
    entryElement(target, "Changed"),
    { limits: BENCH_LIMITS },
  );
  if (put.isErr()) throw new Error(`put failed: ${put.error.message}`);
  return put.value.text;
}

/** Only the parse step of {@linkcode xcapCycle}. */
export function xcapParse(text: string): number {
  const doc = parseXmlDocument(text, BENCH_LIMITS);
  if (doc.isErr()) throw new Error(`parse failed: ${doc.error.phrase}`);
  return doc.value.elementCount;
}

const FXP_OPTIONS = {
  preserveOrder: true,
  ignoreAttributes: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  commentPropName: "#comment",
  cdataPropName: "#cdata",
  processEntities: true,
  // An object is accepted at run time (5.12's OrderedObjParser reads it as the named-entity
  // table); the typings only say boolean.
  htmlEntities: {} as unknown as boolean,
} satisfies X2jOptions;

const fxpParser = new XMLParser(FXP_OPTIONS);
const fxpBuilder = new XMLBuilder(FXP_OPTIONS);

/** fast-xml-parser's parse plus build of the same document: the baseline. */
export function fxpParseBuild(text: string): string {
  return fxpBuilder.build(fxpParser.parse(text)) as string;
}

/** fast-xml-parser's parse alone. */
export function fxpParse(text: string): unknown {
  return fxpParser.parse(text);
}

type FxpNode = Record<string, unknown> & { ":@"?: Record<string, string> };

function fxpChildren(nodes: unknown, name: string): FxpNode[] {
  return (nodes as FxpNode[]).filter((n) => Object.hasOwn(n, name));
}

/**
 * The same cycle done by hand on fast-xml-parser's tree (context only: it is not namespace
 * aware and re-serializes everything instead of splicing).
 */
export function fxpCycle(text: string, target: number): string {
  const tree = fxpParser.parse(text) as FxpNode[];
  const root = fxpChildren(tree, "resource-lists")[0]!;
  const list = fxpChildren(root["resource-lists"], "list")[0]!;
  const uri = entryUri(target);
  const entry = fxpChildren(list["list"], "entry").find((e) => e[":@"]?.["@_uri"] === uri);
  if (entry === undefined) throw new Error(`fxp: no entry ${uri}`);
  entry["entry"] = [{ "display-name": [{ "#text": "Changed" }] }];
  return fxpBuilder.build(tree) as string;
}
