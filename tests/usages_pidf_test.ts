// Typed pidf-manipulation (RFC 4827, documents in PIDF, RFC 3863): the RFC 3863 example,
// RPID/data-model content kept while notes change, and a round-trip property.
import { assert, assertEquals } from "@std/assert";
import fc from "npm:fast-check@^4.3.0";
import {
  buildPresence,
  parsePresence,
  PIDF_MANIPULATION,
  type Presence,
  type PresenceNote,
  type PresenceTuple,
  withPresenceNote,
} from "../src/usages/mod.ts";
import { parseXmlDocument, type XmlElement } from "../src/xml/mod.ts";
import { sameTree } from "../src/usages/_model.ts";
import { fcParams } from "./_faults.ts";

/** RFC 3863 §6, the example with a status extension and notes in two languages. */
const RFC3863_EXAMPLE = `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf"
    xmlns:im="urn:ietf:params:xml:ns:pidf:im"
    xmlns:myex="http://id.example.com/presence/"
    entity="pres:someone@example.com">
  <tuple id="bs35r9">
    <status>
      <basic>open</basic>
      <im:im>busy</im:im>
      <myex:location>home</myex:location>
    </status>
    <contact priority="0.8">im:someone@mobilecarrier.net</contact>
    <note xml:lang="en">Don't Disturb Please!</note>
    <note xml:lang="fr">Ne dérangez pas, s'il vous plaît</note>
    <timestamp>2001-10-27T16:49:29Z</timestamp>
  </tuple>
  <tuple id="eg92n8">
    <status>
      <basic>open</basic>
    </status>
    <contact priority="1.0">mailto:someone@example.com</contact>
  </tuple>
  <note>I'll be in Tokyo next week</note>
</presence>`;

/** A pidf-manipulation document as RFC 4827 clients write it: RPID person data. */
const RPID = `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf"
    xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
    xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid"
    entity="sip:alice@example.com">
  <tuple id="a8098a"><status><basic>open</basic></status></tuple>
  <note>Working from home</note>
  <dm:person id="p1">
    <rpid:activities><rpid:busy/></rpid:activities>
    <dm:note>Do not call before 10</dm:note>
  </dm:person>
</presence>`;

function tree(text: string): XmlElement {
  return parseXmlDocument(text)._unsafeUnwrap().root;
}

function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (k, v) => k === "origin" ? undefined : v));
}

Deno.test("parsePresence() reads the RFC 3863 §6 example", () => {
  const presence = parsePresence(RFC3863_EXAMPLE)._unsafeUnwrap();
  assertEquals(plain(presence), {
    entity: "pres:someone@example.com",
    tuples: [
      {
        id: "bs35r9",
        basic: "open",
        contact: { uri: "im:someone@mobilecarrier.net", priority: "0.8" },
        notes: [
          { value: "Don't Disturb Please!", lang: "en" },
          { value: "Ne dérangez pas, s'il vous plaît", lang: "fr" },
        ],
        timestamp: "2001-10-27T16:49:29Z",
      },
      {
        id: "eg92n8",
        basic: "open",
        contact: { uri: "mailto:someone@example.com", priority: "1.0" },
        notes: [],
      },
    ],
    notes: [{ value: "I'll be in Tokyo next week" }],
  });
});

Deno.test("buildPresence() rebuilds the RFC example: from a parse, and from plain data without the extensions", () => {
  const presence = parsePresence(RFC3863_EXAMPLE)._unsafeUnwrap();
  assertEquals(buildPresence(presence)._unsafeUnwrap(), RFC3863_EXAMPLE);
  const fresh = buildPresence(plain(presence))._unsafeUnwrap();
  const withoutExtensions = RFC3863_EXAMPLE.replace(/\s*<im:im>busy<\/im:im>/, "").replace(
    /\s*<myex:location>home<\/myex:location>/,
    "",
  );
  assert(sameTree(tree(fresh), tree(withoutExtensions)), fresh);
});

Deno.test("withPresenceNote() changes the presence note and keeps the RPID person", () => {
  const presence = parsePresence(RPID)._unsafeUnwrap();
  const text = buildPresence(withPresenceNote(presence, "In a meeting"))._unsafeUnwrap();
  assertEquals(text, RPID.replace("Working from home", "In a meeting"));
  const french = buildPresence(withPresenceNote(presence, "En réunion", { lang: "fr" }))
    ._unsafeUnwrap();
  const expected = RPID.replace(
    "  <note>Working from home</note>\n",
    '  <note>Working from home</note>\n  <note xml:lang="fr">En réunion</note>\n',
  );
  assert(sameTree(tree(french), tree(expected)), french);
  const removed = buildPresence(withPresenceNote(presence, undefined))._unsafeUnwrap();
  assertEquals(parsePresence(removed)._unsafeUnwrap().notes, []);
  assert(removed.includes("<dm:note>Do not call before 10</dm:note>"));
});

Deno.test("parsePresence() rejects a bad basic status and PIDF_MANIPULATION refuses an empty entity", () => {
  const bad = parsePresence(RPID.replace("<basic>open</basic>", "<basic>maybe</basic>"));
  assert(bad.isErr());
  assert(bad.error.message.includes("RFC 3863"), bad.error.message);
  const empty = PIDF_MANIPULATION.codec.build(PIDF_MANIPULATION.codec.empty({}));
  assert(empty.isErr());
  assert(empty.error.message.includes("entity is empty"));
});

const textArb = fc.array(fc.constantFrom("a", "&", "<", ">", '"', "'", "é", " ", "😀"), {
  maxLength: 6,
}).map((a) => a.join(""));
const noteArb: fc.Arbitrary<PresenceNote> = fc.record({
  value: textArb,
  lang: fc.option(fc.constantFrom("en", "fr", "de"), { nil: undefined }),
}).map((n) => n.lang === undefined ? { value: n.value } : n);
const tupleArb: fc.Arbitrary<PresenceTuple> = fc.record({
  id: fc.constantFrom("t1", "t2", "t3"),
  basic: fc.option(fc.constantFrom("open" as const, "closed" as const), { nil: undefined }),
  notes: fc.array(noteArb, { maxLength: 2 }),
  timestamp: fc.option(fc.constant("2024-01-01T00:00:00Z"), { nil: undefined }),
}).map((t) =>
  Object.fromEntries(
    Object.entries(t).filter(([, v]) => v !== undefined),
  ) as unknown as PresenceTuple
);

Deno.test("property: presence documents build, parse back and rebuild to the same bytes", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(tupleArb, { selector: (t) => t.id, maxLength: 3 }),
      fc.array(noteArb, { maxLength: 3 }),
      (tuples, notes) => {
        const value: Presence = { entity: "sip:a@example.com", tuples, notes };
        const text = buildPresence(value)._unsafeUnwrap();
        const back = parsePresence(text)._unsafeUnwrap();
        assertEquals(plain(back), plain(value));
        assertEquals(buildPresence(back)._unsafeUnwrap(), text);
      },
    ),
    fcParams("pidf build/parse", 150),
  );
});
