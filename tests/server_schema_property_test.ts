/**
 * Property tests of the server's schema validation:
 *
 * 1. Against libxml2 (WebAssembly, test-only) as an independent XSD validator: random documents
 *    of each usage, most of them a little wrong (a misplaced or repeated element, an undeclared
 *    attribute, a bad value, text where none belongs, elements of other namespaces), get the
 *    same verdict from both.
 * 2. Every document the typed models (`src/usages/*`) build is valid for its usage.
 */
import { assert, assertEquals } from "@std/assert";
import fc from "npm:fast-check@^4.3.0";
import { parseXmlDocument, type XmlElement } from "../src/xml/document.ts";
import { DEFAULT_SERVER_APPLICATIONS } from "../src/server/mod.ts";
import { validateDocument } from "../src/server/usages.ts";
import { compileSchemas } from "../src/server/_xsd.ts";
import { validateAgainstSchema } from "../src/server/_xsd_validate.ts";
import { SCHEMA_FILES } from "../src/server/schemas/mod.ts";
import type { TypedApplicationUsage } from "../src/usages/codec.ts";
import {
  RESOURCE_LISTS,
  type ResourceList,
  type ResourceListItem,
} from "../src/usages/resource_lists.ts";
import { RLS_SERVICES, type RlsService } from "../src/usages/rls_services.ts";
import {
  OMA_PRES_RULES,
  type PolicyRule,
  PRES_RULES,
  type ProvidePermission,
  type SubHandling,
} from "../src/usages/pres_rules.ts";
import { PIDF_MANIPULATION, type PresenceTuple } from "../src/usages/pidf.ts";
import { OPENXCAP_DIALOG_RULES, OPENXCAP_WATCHERS } from "../src/usages/openxcap.ts";
import { libxml2Oracle } from "./_libxml2_oracle.ts";
import { fcParams, seededRandom } from "./_faults.ts";

const RL = "urn:ietf:params:xml:ns:resource-lists";
const RLS = "urn:ietf:params:xml:ns:rls-services";
const CP = "urn:ietf:params:xml:ns:common-policy";
const PR = "urn:ietf:params:xml:ns:pres-rules";
const PIDF = "urn:ietf:params:xml:ns:pidf";
const DM = "urn:ietf:params:xml:ns:pidf:data-model";
const EXT = "urn:example:ext";

// ---------------------------------------------------------------------------------------------
// 1. The same verdicts as libxml2
// ---------------------------------------------------------------------------------------------

/** What an element of a usage's vocabulary may have: the valid shape, in schema order. */
interface Shape {
  readonly attributes?: Readonly<Record<string, readonly string[]>>;
  readonly children?: readonly string[];
  readonly text?: readonly string[];
}

interface Vocabulary {
  readonly schemas: readonly string[];
  readonly root: string;
  readonly namespaces: Readonly<Record<string, string>>;
  readonly shapes: Readonly<Record<string, Shape>>;
}

const URIS = [
  "sip:bob@example.com",
  "http://xcap.example.com/a/b%5b1%5d",
  "tel:+1-555",
  "a b",
  "",
  "%zz",
  "1a:b",
  "#a#b",
  "http://[::1]/x",
];
const DATES = [
  "2026-01-01T00:00:00Z",
  "2026-02-30T00:00:00",
  "tomorrow",
  "2026-01-01T24:00:00",
  "2026-01-01T10:00:00.5+14:00",
  "2026-01-01T10:00:00+14:30",
];
const LANGS = ["en", "en-US", "", "1x"];
const FOREIGN: Shape = {
  attributes: { "x:a": ["1"], "xml:lang": LANGS },
  children: ["x:ext"],
  text: ["", "hi"],
};

const VOCABULARIES: Readonly<Record<string, Vocabulary>> = {
  "resource-lists": {
    schemas: ["resource-lists.xsd"],
    root: "resource-lists",
    namespaces: { "": RL, x: EXT },
    shapes: {
      "resource-lists": { children: ["list"] },
      "list": {
        attributes: { name: ["a", "b", ""], "x:a": ["1"] },
        children: ["display-name", "list", "entry", "entry-ref", "external", "x:ext"],
      },
      "entry": { attributes: { uri: URIS }, children: ["display-name", "x:ext"] },
      "entry-ref": { attributes: { ref: URIS }, children: ["display-name", "x:ext"] },
      "external": { attributes: { anchor: URIS }, children: ["display-name", "x:ext"] },
      "display-name": { attributes: { "xml:lang": LANGS }, text: ["Bob", " ", ""] },
      "x:ext": { ...FOREIGN, children: ["entry", "resource-lists", "x:ext"] },
    },
  },
  "rls-services": {
    schemas: ["rls-services.xsd"],
    root: "rls-services",
    namespaces: { "": RLS, rl: RL, x: EXT },
    shapes: {
      "rls-services": { children: ["service"] },
      "service": {
        attributes: { uri: URIS, "x:a": ["1"] },
        children: ["resource-list", "list", "packages", "x:ext"],
      },
      "resource-list": { text: URIS },
      "list": {
        attributes: { name: ["a", "b"] },
        children: ["rl:display-name", "rl:entry", "rl:list", "rl:external", "x:ext"],
      },
      "packages": { children: ["package", "x:ext"] },
      "package": { text: ["presence", ""] },
      "rl:entry": { attributes: { uri: URIS }, children: ["rl:display-name"] },
      "rl:list": { attributes: { name: ["a"] }, children: ["rl:entry"] },
      "rl:external": { attributes: { anchor: URIS } },
      "rl:display-name": { text: ["Bob"] },
      "x:ext": { ...FOREIGN, children: ["service", "x:ext"] },
    },
  },
  "pres-rules": {
    schemas: ["presence-rules.xsd"],
    root: "cr:ruleset",
    namespaces: { cr: CP, pr: PR, x: EXT },
    shapes: {
      "cr:ruleset": { children: ["cr:rule"] },
      "cr:rule": {
        attributes: { id: ["r1", "r2", "1x"] },
        children: ["cr:conditions", "cr:actions", "cr:transformations"],
      },
      "cr:conditions": { children: ["cr:identity", "cr:sphere", "cr:validity", "x:ext"] },
      "cr:identity": { children: ["cr:one", "cr:many", "x:ext"] },
      "cr:one": { attributes: { id: URIS }, children: ["x:ext"] },
      "cr:many": { attributes: { domain: ["example.com"] }, children: ["cr:except", "x:ext"] },
      "cr:except": { attributes: { domain: ["a.example.com"], id: URIS } },
      "cr:sphere": { attributes: { value: ["work"] } },
      "cr:validity": { children: ["cr:from", "cr:until"] },
      "cr:from": { text: DATES },
      "cr:until": { text: DATES },
      "cr:actions": { children: ["pr:sub-handling", "x:ext"] },
      "pr:sub-handling": { text: ["allow", " confirm ", "maybe"] },
      "cr:transformations": {
        children: [
          "pr:provide-services",
          "pr:provide-persons",
          "pr:provide-activities",
          "pr:provide-unknown-attribute",
          "pr:provide-all-attributes",
          "x:ext",
        ],
      },
      "pr:provide-services": { children: ["pr:all-services", "pr:service-uri", "pr:class"] },
      "pr:all-services": { text: ["", " "] },
      "pr:service-uri": { text: URIS },
      "pr:class": { text: ["a"] },
      "pr:provide-persons": { children: ["pr:all-persons", "pr:occurrence-id", "x:ext"] },
      "pr:all-persons": {},
      "pr:occurrence-id": { text: ["o1"] },
      "pr:provide-activities": { text: ["true", " 1 ", "yes"] },
      "pr:provide-unknown-attribute": {
        attributes: { name: ["a"], ns: ["urn:x"] },
        text: ["false", "maybe"],
      },
      "pr:provide-all-attributes": {},
      "x:ext": { ...FOREIGN, children: ["pr:sub-handling", "cr:rule", "x:ext"] },
    },
  },
  "pidf-manipulation": {
    schemas: ["pidf.xsd", "pidf-data-model.xsd"],
    root: "presence",
    namespaces: { "": PIDF, dm: DM, x: EXT, p: PIDF },
    shapes: {
      "presence": {
        attributes: { entity: ["pres:alice@example.com", "sip:alice@example.com", "%zz"] },
        children: ["tuple", "note", "dm:person", "dm:device", "x:ext"],
      },
      "tuple": {
        attributes: { id: ["t1", "t2", "t3", "t4", "1x"] },
        children: ["status", "x:ext", "contact", "note", "timestamp"],
      },
      "status": { children: ["basic", "x:ext"] },
      "basic": { text: ["open", "closed", "closed", " open", "maybe"] },
      "contact": {
        attributes: { priority: ["0.5", "1", "1.000", "0.25", "1.5", "0.1234"] },
        text: ["sip:a@x", "sip:b@x", "%zz"],
      },
      "note": { attributes: { "xml:lang": ["en", "", "de-CH", "1x"] }, text: ["hi"] },
      "timestamp": { text: ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00.5+01:00", "now"] },
      "dm:person": { attributes: { id: ["p1", "p2", "t1"] }, children: ["x:ext", "dm:note"] },
      "dm:device": {
        attributes: { id: ["d1", "d2", "t2"] },
        children: ["x:ext", "dm:deviceID", "dm:note", "dm:timestamp"],
      },
      "dm:deviceID": { text: ["urn:device:1", "%zz"] },
      "dm:note": { attributes: { "xml:lang": ["en", "de", "1x"] }, text: ["hi"] },
      "dm:timestamp": { text: ["2026-01-01T00:00:00Z", "2026-13-01T00:00:00Z"] },
      "x:ext": {
        attributes: { "p:mustUnderstand": ["true", "0", "false", "maybe"], "x:a": ["1"] },
        children: ["x:ext"],
      },
    },
  },
};

function escape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll('"', "&quot;");
}

/**
 * A random document: each element mostly follows its shape (children in schema order, mostly
 * one of each, declared attributes with mostly the first, valid value of their list), and now
 * and then breaks it.
 */
function randomDocument(vocabulary: Vocabulary, seed: number): string {
  const next = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const usual = <T>(items: readonly T[]): T => next() < 0.7 ? items[0]! : pick(items);
  const names = Object.keys(vocabulary.shapes);
  const strayAttributes = ["bogus", "uri", "id", "x:a", "xml:lang"];
  function element(name: string, depth: number): string {
    const shape = vocabulary.shapes[name]!;
    let attributes = "";
    for (const [attribute, values] of Object.entries(shape.attributes ?? {})) {
      // Ids are drawn evenly (repeats are what xs:ID is about); other values are mostly the
      // first, valid one.
      const value = attribute === "id" ? pick(values) : usual(values);
      if (next() < 0.95) attributes += ` ${attribute}="${escape(value)}"`;
    }
    const stray = pick(strayAttributes);
    if (next() < 0.04 && !attributes.includes(` ${stray}=`)) attributes += ` ${stray}="1"`;
    const parts: string[] = [];
    if (shape.text !== undefined && next() < 0.95) {
      parts.push(escape(usual(shape.text)));
    } else if (depth < 5) {
      for (const child of shape.children ?? []) {
        const count = next() < 0.7 ? 1 : pick([0, 0, 2]);
        for (let i = 0; i < count; i++) {
          parts.push(element(next() < 0.03 ? pick(names) : child, depth + 1));
        }
      }
      if (next() < 0.05 && parts.length > 1) parts.reverse();
      if (next() < 0.03) parts.push("text");
    }
    // Line breaks between child elements only: libxml2 refuses white space around an
    // xs:dateTime, which XSD Part 2 §3.2.7 collapses away (and so does our validator).
    const pretty = shape.text === undefined && next() < 0.5 ? "\n" : "";
    return parts.length === 0
      ? `<${name}${attributes}/>`
      : `<${name}${attributes}>${pretty}${parts.join(pretty)}${pretty}</${name}>`;
  }
  const declarations = Object.entries(vocabulary.namespaces)
    .map(([prefix, uri]) => ` ${prefix === "" ? "xmlns" : `xmlns:${prefix}`}="${uri}"`).join("");
  const root = element(vocabulary.root, 0);
  const at = root.search(/[ />]/);
  return root.slice(0, at) + declarations + root.slice(at);
}

/**
 * Whether a PIDF `<presence>` has a `<note>` after an element of another namespace. Its content
 * model is the sequence `tuple*, note*, any##other*`, so XSD 1.0 (and our validator) refuses
 * that; libxml2 accepts it (its automaton loops the unbounded wildcard back into the state of
 * the unbounded `<note>` before it), and so OpenXCAP would. The comparison skips these
 * documents; `tests/server_schema_test.ts` pins our verdict.
 */
function noteAfterExtension(root: XmlElement): boolean {
  if (root.namespace !== PIDF || root.localName !== "presence") return false;
  let foreign = false;
  for (const child of root.children) {
    if (child.kind !== "element") continue;
    if (child.namespace !== PIDF) foreign = true;
    else if (child.localName === "note" && foreign) return true;
  }
  return false;
}

for (const [auid, vocabulary] of Object.entries(VOCABULARIES)) {
  Deno.test(`validateAgainstSchema() agrees with libxml2 on random ${auid} documents`, () => {
    const ours = compileSchemas(SCHEMA_FILES, vocabulary.schemas);
    const libxml2 = libxml2Oracle(vocabulary.schemas);
    let valid = 0;
    let runs = 0;
    try {
      fc.assert(
        fc.property(fc.integer(), (seed) => {
          const text = randomDocument(vocabulary, seed);
          const doc = parseXmlDocument(text);
          assert(doc.isOk(), text);
          const result = validateAgainstSchema(ours, doc.value.root);
          const problem = result.problem ??
            (result.repeatedIds[0] === undefined
              ? undefined
              : `repeated id ${result.repeatedIds[0].value}`);
          const theirs = libxml2.validate(text);
          if (problem !== undefined && theirs === undefined && noteAfterExtension(doc.value.root)) {
            return; // libxml2's known leniency, see noteAfterExtension()
          }
          runs++;
          if (problem === undefined) valid++;
          assertEquals(
            problem === undefined,
            theirs === undefined,
            `${text}\nours: ${problem}\nlibxml2: ${theirs}`,
          );
        }),
        fcParams(`libxml2 agreement on ${auid}`, 600),
      );
    } finally {
      libxml2.dispose();
    }
    // Both verdicts occur often enough for the agreement to mean something (PIDF documents
    // have many ways to be wrong: about 3% of them are valid, some 20 of 600).
    console.log(`${auid}: same verdict as libxml2 on ${runs} documents, ${valid} of them valid`);
    assert(valid >= 5 && valid < runs * 0.9, `${valid} of ${runs} valid`);
  });
}

// ---------------------------------------------------------------------------------------------
// 2. What the typed models build is valid
// ---------------------------------------------------------------------------------------------

function assertValid<T>(usage: TypedApplicationUsage<T>, value: T): void {
  const built = usage.codec.build(value);
  assert(built.isOk(), built.isErr() ? built.error.message : "");
  const doc = parseXmlDocument(built.value);
  assert(doc.isOk(), built.value);
  const server = DEFAULT_SERVER_APPLICATIONS.find((u) => u.auid === usage.auid);
  assert(server !== undefined, usage.auid);
  const valid = validateDocument(server, doc.value);
  assert(valid.isOk(), `${built.value}\n${JSON.stringify(valid.isErr() ? valid.error : "")}`);
}

/** Keep the first of each key: the usages' uniqueness constraints, honoured by the values. */
function uniqueBy<T>(items: readonly T[], key: (item: T) => string | undefined): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const k = key(item);
    if (k === undefined) return true;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const text = fc.string({ maxLength: 8, unit: fc.constantFrom("a", "é", " ", "&", "<", "😀") });
const sipUri = fc.constantFrom("sip:bob@example.com", "sip:carol@example.com", "tel:+15551234");
const httpUri = fc.constantFrom(
  "http://xcap.example.com/xcap-root/resource-lists/users/sip:a@x/index/~~/resource-lists/list%5b@name=%22f%22%5d",
  "https://xcap.example.com/lists/b",
);
const relative = fc.constantFrom(
  "resource-lists/users/sip:a@x/index/~~/resource-lists/list%5b1%5d/entry%5b1%5d",
  "resource-lists/global/index/~~/resource-lists/list/entry%5b2%5d",
);
const displayName = fc.option(text, { nil: undefined });

const listArb: fc.Arbitrary<ResourceList> = fc.letrec<{ list: ResourceList }>((tie) => ({
  list: fc.record({
    kind: fc.constant("list" as const),
    name: fc.option(fc.constantFrom("friends", "work", "family"), { nil: undefined }),
    displayName,
    items: fc.array(
      fc.oneof(
        { depthSize: "small" },
        fc.record({ kind: fc.constant("entry" as const), uri: sipUri, displayName }),
        fc.record({ kind: fc.constant("entry-ref" as const), ref: relative, displayName }),
        fc.record({ kind: fc.constant("external" as const), anchor: httpUri, displayName }),
        tie("list"),
      ),
      { maxLength: 4 },
    ).map((items: ResourceListItem[]) =>
      uniqueBy(
        items,
        (i) =>
          i.kind === "list"
            ? i.name === undefined ? undefined : `list ${i.name}`
            : i.kind === "entry"
            ? `entry ${i.uri}`
            : i.kind === "entry-ref"
            ? `ref ${i.ref}`
            : `external ${i.anchor}`,
      )
    ),
  }),
})).list;

Deno.test("RESOURCE_LISTS builds documents that the server's validation accepts", () => {
  fc.assert(
    fc.property(fc.array(listArb, { maxLength: 3 }), (lists) => {
      assertValid(RESOURCE_LISTS, { lists: uniqueBy(lists, (l) => l.name) });
    }),
    fcParams("RESOURCE_LISTS builds valid documents", 150),
  );
});

Deno.test("RLS_SERVICES builds documents that the server's validation accepts", () => {
  const service: fc.Arbitrary<RlsService> = fc.record({
    uri: fc.constantFrom("sip:friends@example.com", "sip:work@example.com"),
    source: fc.oneof(
      httpUri.map((resourceList) => ({ resourceList })),
      listArb.map((list) => ({ list })),
    ),
    packages: fc.option(fc.array(fc.constantFrom("presence", "dialog"), { maxLength: 2 }), {
      nil: undefined,
    }),
  }).map(({ uri, source, packages }) => ({ uri, ...source, packages }));
  fc.assert(
    fc.property(fc.array(service, { maxLength: 3 }), (services) => {
      assertValid(RLS_SERVICES, { services: uniqueBy(services, (s) => s.uri) });
    }),
    fcParams("RLS_SERVICES builds valid documents", 100),
  );
});

const handling = fc.constantFrom<SubHandling>("block", "confirm", "polite-block", "allow");
const dateTime = fc.constantFrom("2026-01-01T00:00:00Z", "2026-06-30T23:59:59.5+02:00");
const provision = (kinds: readonly string[]): fc.Arbitrary<ProvidePermission> =>
  fc.oneof(
    fc.constant("all" as const),
    fc.array(
      fc.record({
        kind: fc.constantFrom(...kinds),
        value: fc.constantFrom("sip:a@x", "urn:x:1", "o1"),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  );

function ruleArb(oma: boolean): fc.Arbitrary<PolicyRule> {
  return fc.record({
    id: fc.constantFrom("r1", "r2", "r3", "wp_prs_allow_own"),
    conditions: fc.option(
      fc.record({
        identity: fc.option(
          fc.record({
            one: fc.array(fc.record({ id: sipUri }), { minLength: 1, maxLength: 2 }),
            many: fc.array(
              fc.record({
                domain: fc.option(fc.constant("example.com"), { nil: undefined }),
                except: fc.array(fc.record({ id: sipUri }), { maxLength: 2 }),
              }),
              { maxLength: 2 },
            ),
          }),
          { nil: undefined },
        ),
        sphere: fc.option(fc.constantFrom("work", "home"), { nil: undefined }),
        validity: fc.option(
          fc.array(fc.record({ from: dateTime, until: dateTime }), { minLength: 1, maxLength: 2 }),
          { nil: undefined },
        ),
        ...(oma
          ? {
            externalLists: fc.option(fc.array(httpUri, { maxLength: 2 }), { nil: undefined }),
            otherIdentity: fc.option(fc.boolean(), { nil: undefined }),
            anonymousRequest: fc.option(fc.boolean(), { nil: undefined }),
          }
          : {}),
      }),
      { nil: undefined },
    ),
    actions: fc.option(fc.record({ subHandling: handling }), { nil: undefined }),
    transformations: fc.option(
      fc.record({
        provideServices: fc.option(provision(["service-uri", "class", "occurrence-id"]), {
          nil: undefined,
        }),
        providePersons: fc.option(provision(["class", "occurrence-id"]), { nil: undefined }),
        provideDevices: fc.option(provision(["deviceID", "class"]), { nil: undefined }),
        provideAllAttributes: fc.option(fc.boolean(), { nil: undefined }),
        provide: fc.dictionary(
          fc.constantFrom("provide-activities", "provide-mood", "provide-place-is"),
          fc.constantFrom("true", "false"),
        ),
      }),
      { nil: undefined },
    ),
  });
}

for (const usage of [PRES_RULES, OMA_PRES_RULES, OPENXCAP_DIALOG_RULES]) {
  Deno.test(`${usage.auid} builds documents that the server's validation accepts`, () => {
    fc.assert(
      fc.property(fc.array(ruleArb(usage === OMA_PRES_RULES), { maxLength: 3 }), (rules) => {
        assertValid(usage, { rules: uniqueBy(rules, (r) => r.id) });
      }),
      fcParams(`${usage.auid} builds valid documents`, 100),
    );
  });
}

Deno.test("PIDF_MANIPULATION builds documents that the server's validation accepts", () => {
  const note = fc.record({
    value: text,
    lang: fc.option(fc.constantFrom("en", "fr-CA"), { nil: undefined }),
  });
  const tuple: fc.Arbitrary<PresenceTuple> = fc.record({
    id: fc.constantFrom("t1", "t2", "a8098a"),
    basic: fc.option(fc.constantFrom("open" as const, "closed" as const), { nil: undefined }),
    contact: fc.option(
      fc.record({
        uri: sipUri,
        priority: fc.option(fc.constantFrom("0.8", "1", "0.125"), { nil: undefined }),
      }),
      { nil: undefined },
    ),
    notes: fc.array(note, { maxLength: 2 }),
    timestamp: fc.option(dateTime, { nil: undefined }),
  });
  fc.assert(
    fc.property(fc.array(tuple, { maxLength: 3 }), fc.array(note, { maxLength: 2 }), (t, n) => {
      assertValid(PIDF_MANIPULATION, {
        entity: "pres:alice@example.com",
        tuples: uniqueBy(t, (x) => x.id),
        notes: n,
      });
    }),
    fcParams("PIDF_MANIPULATION builds valid documents", 100),
  );
});

Deno.test("OPENXCAP_WATCHERS builds documents that the server's validation accepts", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          id: fc.constantFrom("bob@example.com", "carol@example.com"),
          status: fc.constantFrom("allow", "confirm", "deny", "unknown"),
          online: fc.option(fc.boolean(), { nil: undefined }),
        }),
        { maxLength: 3 },
      ),
      (watchers) => assertValid(OPENXCAP_WATCHERS, { watchers }),
    ),
    fcParams("OPENXCAP_WATCHERS builds valid documents", 30),
  );
});
