// Typed resource-lists (RFC 4826 §3): parsing, building, preservation of what the model does not
// know, and property-style round trips. Trees are compared, never strings (except where a test
// asserts that an untouched document comes back byte for byte).
import { assert, assertEquals } from "@std/assert";
import fc from "npm:fast-check@^4.3.0";
import {
  buildResourceLists,
  findList,
  type ListEntry,
  parseResourceLists,
  type ResourceList,
  type ResourceListItem,
  type ResourceLists,
  withEntry,
  withEntryDisplayName,
  withList,
  withListName,
  withoutEntry,
  withoutList,
} from "../src/usages/mod.ts";
import { parseXmlDocument, type XmlElement } from "../src/xml/mod.ts";
import { sameTree } from "../src/usages/_model.ts";
import { fcParams } from "./_faults.ts";

/** RFC 4826 §3.3, the example document. */
const RFC4826_EXAMPLE = `<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <list name="friends">
  <entry uri="sip:bill@example.com">
   <display-name>Bill Doe</display-name>
  </entry>
  <entry-ref ref="resource-lists/users/sip:bill@example.com/index/~~/resource-lists/list%5b@name=%22list1%22%5d/entry%5b@uri=%22sip:petri@example.com%22%5d"/>
  <list name="close-friends">
   <display-name>Close Friends</display-name>
   <entry uri="sip:joe@example.com">
    <display-name>Joe Smith</display-name>
   </entry>
   <entry uri="sip:nancy@example.com">
    <display-name>Nancy Gross</display-name>
   </entry>
   <external anchor="http://xcap.example.org/resource-lists/users/sip:a@example.org/index/~~/resource-lists/list%5b@name=%22mkting%22%5d">
    <display-name>Marketing</display-name>
   </external>
  </list>
 </list>
</resource-lists>`;

/** Foreign namespaces, comments, CDATA, entities, a PI, unknown attributes, prefixed names. */
const EXTENDED = `<?xml version="1.0" encoding="UTF-8"?>
<!-- prolog comment -->
<rl:resource-lists xmlns:rl="urn:ietf:params:xml:ns:resource-lists"
    xmlns:x="urn:example:extension" x:version='7'>
  <?app hint="keep me"?>
  <rl:list name="keep" x:color="blue">
    <!-- the list's own comment -->
    <rl:display-name xml:lang="en">Keep &amp; Co &#169;</rl:display-name>
    <rl:entry uri="sip:keep@example.com" x:since="2020">
      <rl:display-name><![CDATA[<Keeper>]]> &lt;3</rl:display-name>
      <x:note priority="high">call first</x:note>
    </rl:entry>
    <x:policy><x:inner>foreign <![CDATA[data]]></x:inner></x:policy>
    <rl:entry uri="sip:other@example.com"/>
  </rl:list>
  <x:after-lists/>
</rl:resource-lists>
<!-- epilog -->`;

function tree(text: string): XmlElement {
  return parseXmlDocument(text)._unsafeUnwrap().root;
}

function assertSameTree(actual: string, expected: string, message = ""): void {
  assert(
    sameTree(tree(actual), tree(expected)),
    `${message}\n--- actual\n${actual}\n--- expected\n${expected}`,
  );
}

/** The value without `origin`s and without absent keys, for comparing typed data. */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (k, v) => k === "origin" ? undefined : v));
}

Deno.test("parseResourceLists() reads the RFC 4826 §3.3 example", () => {
  const lists = parseResourceLists(RFC4826_EXAMPLE)._unsafeUnwrap();
  assertEquals(plain(lists), {
    lists: [{
      kind: "list",
      name: "friends",
      items: [
        { kind: "entry", uri: "sip:bill@example.com", displayName: "Bill Doe" },
        {
          kind: "entry-ref",
          ref:
            "resource-lists/users/sip:bill@example.com/index/~~/resource-lists/list%5b@name=%22list1%22%5d/entry%5b@uri=%22sip:petri@example.com%22%5d",
        },
        {
          kind: "list",
          name: "close-friends",
          displayName: "Close Friends",
          items: [
            { kind: "entry", uri: "sip:joe@example.com", displayName: "Joe Smith" },
            { kind: "entry", uri: "sip:nancy@example.com", displayName: "Nancy Gross" },
            {
              kind: "external",
              anchor:
                "http://xcap.example.org/resource-lists/users/sip:a@example.org/index/~~/resource-lists/list%5b@name=%22mkting%22%5d",
              displayName: "Marketing",
            },
          ],
        },
      ],
    }],
  });
});

Deno.test("buildResourceLists() of an unchanged parse gives the same tree (RFC example)", () => {
  const lists = parseResourceLists(RFC4826_EXAMPLE)._unsafeUnwrap();
  assertSameTree(buildResourceLists(lists)._unsafeUnwrap(), RFC4826_EXAMPLE);
  // Untouched documents come back byte for byte: the ETag is a document's identity.
  assertEquals(buildResourceLists(lists)._unsafeUnwrap(), RFC4826_EXAMPLE);
});

Deno.test("buildResourceLists() from plain data (no origins) rebuilds the RFC example's tree", () => {
  const lists = plain(parseResourceLists(RFC4826_EXAMPLE)._unsafeUnwrap());
  const built = buildResourceLists(lists)._unsafeUnwrap();
  assertSameTree(built, RFC4826_EXAMPLE);
});

Deno.test("buildResourceLists() keeps foreign namespaces, comments, CDATA, entities and PIs", () => {
  const lists = parseResourceLists(EXTENDED)._unsafeUnwrap();
  assertEquals(buildResourceLists(lists)._unsafeUnwrap(), EXTENDED);
  const keepEntry = findList(lists, "keep")!.items[0] as ListEntry;
  assertEquals(keepEntry.displayName, "<Keeper> <3");
  assertEquals(findList(lists, "keep")!.displayName, "Keep & Co ©");

  // Change something next to every kind of unknown content.
  let changed = withEntry(lists, "keep", { kind: "entry", uri: "sip:new@example.com" })
    ._unsafeUnwrap();
  changed = withoutEntry(changed, "keep", "sip:other@example.com");
  changed = withList(changed, { kind: "list", name: "second", items: [] })._unsafeUnwrap();
  const text = buildResourceLists(changed)._unsafeUnwrap();
  const expected = `<?xml version="1.0" encoding="UTF-8"?>
<!-- prolog comment -->
<rl:resource-lists xmlns:rl="urn:ietf:params:xml:ns:resource-lists"
    xmlns:x="urn:example:extension" x:version='7'>
  <?app hint="keep me"?>
  <rl:list name="keep" x:color="blue">
    <!-- the list's own comment -->
    <rl:display-name xml:lang="en">Keep &amp; Co &#169;</rl:display-name>
    <rl:entry uri="sip:keep@example.com" x:since="2020">
      <rl:display-name><![CDATA[<Keeper>]]> &lt;3</rl:display-name>
      <x:note priority="high">call first</x:note>
    </rl:entry>
    <x:policy><x:inner>foreign <![CDATA[data]]></x:inner></x:policy>
    <rl:entry uri="sip:new@example.com"/>
  </rl:list>
  <rl:list name="second"/>
  <x:after-lists/>
</rl:resource-lists>
<!-- epilog -->`;
  assertSameTree(text, expected);
  // Bytes outside the changed elements are untouched.
  assert(text.startsWith(EXTENDED.slice(0, EXTENDED.indexOf("<x:policy>"))));
  assert(text.endsWith("  <x:after-lists/>\n</rl:resource-lists>\n<!-- epilog -->"));
});

Deno.test("buildResourceLists() keeps the xml:lang of a renamed display name and the entry's extensions", () => {
  const lists = parseResourceLists(EXTENDED)._unsafeUnwrap();
  let changed = withListName(lists, "keep", "kept", { displayName: "Kept <ones>" })._unsafeUnwrap();
  changed = withEntryDisplayName(changed, "kept", "sip:keep@example.com", "Keeper")
    ._unsafeUnwrap();
  const text = buildResourceLists(changed)._unsafeUnwrap();
  const root = tree(text);
  const list = root.children.find((c): c is XmlElement => c.kind === "element")!;
  assertEquals(list.attributes.map((a) => [a.name, a.value]), [
    ["name", "kept"],
    ["x:color", "blue"],
  ]);
  assert(text.includes('<rl:display-name xml:lang="en">Kept &lt;ones&gt;</rl:display-name>'));
  assert(text.includes('<rl:entry uri="sip:keep@example.com" x:since="2020">'));
  assert(text.includes("<rl:display-name>Keeper</rl:display-name>"));
  assert(text.includes('<x:note priority="high">call first</x:note>'));
});

Deno.test("buildResourceLists() declares the namespaces of an element moved from another document", () => {
  const source = parseResourceLists(EXTENDED)._unsafeUnwrap();
  const keeper = findList(source, "keep")!.items[0] as ListEntry;
  const target = parseResourceLists(
    '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list name="f"/></resource-lists>',
  )._unsafeUnwrap();
  const text = buildResourceLists(withEntry(target, "f", keeper)._unsafeUnwrap())._unsafeUnwrap();
  const back = parseResourceLists(text)._unsafeUnwrap();
  const moved = findList(back, "f")!.items[0] as ListEntry;
  assertEquals([moved.uri, moved.displayName], ["sip:keep@example.com", "<Keeper> <3"]);
  // The foreign note and attribute keep their namespace.
  const entry = tree(text).children[0] as XmlElement;
  const movedElement = entry.children.find((c): c is XmlElement => c.kind === "element")!;
  assertEquals(
    movedElement.attributes.find((a) => a.localName === "since")?.namespace,
    "urn:example:extension",
  );
  const note = movedElement.children.find((c): c is XmlElement =>
    c.kind === "element" && c.localName === "note"
  );
  assertEquals(note?.namespace, "urn:example:extension");
});

Deno.test("parseResourceLists() rejects a document of another usage and an entry without uri", () => {
  const other = parseResourceLists('<ruleset xmlns="urn:ietf:params:xml:ns:common-policy"/>');
  assert(other.isErr());
  assertEquals(other.error._tag, "InvalidArgument");
  assert(other.error.message.includes("not <resource-lists>"), other.error.message);
  const noUri = parseResourceLists(
    '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list><entry/></list></resource-lists>',
  );
  assert(noUri.isErr());
  assert(noUri.error.message.includes('has no "uri"'), noUri.error.message);
  assert(parseResourceLists("<resource-lists").isErr());
});

Deno.test("buildResourceLists() refuses characters XML does not allow", () => {
  const built = buildResourceLists({
    lists: [{ kind: "list", name: "f", items: [{ kind: "entry", uri: "sip:a\u0001" }] }],
  });
  assert(built.isErr());
  assert(built.error.message.includes("U+0001"), built.error.message);
});

Deno.test("withEntry() creates missing lists, withListName() refuses a taken name", () => {
  const lists = withEntry({ lists: [] }, ["work", "team"], { kind: "entry", uri: "sip:a@x" })
    ._unsafeUnwrap();
  assertEquals(findList(lists, ["work", "team"])?.items.length, 1);
  const refused = withEntry({ lists: [] }, "f", { kind: "entry", uri: "sip:a@x" }, {
    createList: false,
  });
  assert(refused.isErr());
  const two = withList(lists, { kind: "list", name: "home", items: [] })._unsafeUnwrap();
  const taken = withListName(two, "home", "work");
  assert(taken.isErr());
  assert(taken.error.message.includes("already has that name"));
  assertEquals(withoutList(two, "nothing"), two);
  assertEquals(withoutEntry(two, "home", "sip:nobody@x"), two);
});

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

const CHARS = [
  "a",
  "Z",
  " ",
  "&",
  "<",
  ">",
  '"',
  "'",
  "é",
  "中",
  "😀",
  "]",
  "]]>",
  "\t",
  "\n",
  "-",
];
const text = fc.array(fc.constantFrom(...CHARS), { maxLength: 6 }).map((a) => a.join(""));
const uri = fc.array(fc.constantFrom("a", "b", "c", "&", '"', "<", "%", "é"), {
  minLength: 1,
  maxLength: 4,
}).map((a) => "sip:" + a.join(""));

const entryArb: fc.Arbitrary<ListEntry> = fc.record({
  kind: fc.constant("entry" as const),
  uri,
  displayName: fc.option(text, { nil: undefined }),
}).map((e) => e.displayName === undefined ? { kind: e.kind, uri: e.uri } : e);

const listArb: fc.Arbitrary<ResourceList> = fc.letrec<{ list: ResourceList }>((tie) => ({
  list: fc.record({
    kind: fc.constant("list" as const),
    name: fc.option(fc.string({ minLength: 1, maxLength: 4 }), { nil: undefined }),
    displayName: fc.option(text, { nil: undefined }),
    items: fc.array(
      fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        entryArb,
        fc.record({ kind: fc.constant("entry-ref" as const), ref: uri }),
        fc.record({ kind: fc.constant("external" as const), anchor: uri }),
        tie("list"),
      ) as fc.Arbitrary<ResourceListItem>,
      { maxLength: 4 },
    ),
  }).map((l) =>
    Object.fromEntries(
      Object.entries(l).filter(([, v]) => v !== undefined),
    ) as unknown as ResourceList
  ),
})).list;

const listsArb: fc.Arbitrary<ResourceLists> = fc.array(listArb, { maxLength: 3 }).map((lists) => ({
  lists,
}));

Deno.test("property: build then parse gives the same typed value back", () => {
  fc.assert(
    fc.property(listsArb, (value) => {
      const built = buildResourceLists(value)._unsafeUnwrap();
      assertEquals(plain(parseResourceLists(built)._unsafeUnwrap()), plain(value));
    }),
    fcParams("resource-lists build/parse", 200),
  );
});

Deno.test("property: parse then build gives the same tree (and the same bytes)", () => {
  fc.assert(
    fc.property(listsArb, (value) => {
      const text = buildResourceLists(value)._unsafeUnwrap();
      const again = buildResourceLists(parseResourceLists(text)._unsafeUnwrap())._unsafeUnwrap();
      assert(sameTree(tree(again), tree(text)));
      assertEquals(again, text);
    }),
    fcParams("resource-lists parse/build", 200),
  );
});

type Op =
  | { op: "add"; list: string; uri: string; displayName?: string }
  | { op: "remove"; list: string; uri: string }
  | { op: "rename"; list: string; uri: string; displayName: string }
  | { op: "addList"; name: string }
  | { op: "removeList"; name: string }
  | { op: "renameList"; name: string; to: string };

const names = fc.constantFrom("friends", "work", "family");
const uris = fc.constantFrom("sip:a@x", "sip:b@x", "sip:c@x", "sip:other@example.com");
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant("add" as const),
    list: fc.constantFrom("keep", "friends"),
    uri: uris,
    displayName: text,
  }),
  fc.record({
    op: fc.constant("remove" as const),
    list: fc.constantFrom("keep", "friends"),
    uri: uris,
  }),
  fc.record({
    op: fc.constant("rename" as const),
    list: fc.constantFrom("keep", "friends"),
    uri: fc.constantFrom("sip:keep@example.com", "sip:a@x"),
    displayName: text,
  }),
  fc.record({ op: fc.constant("addList" as const), name: names }),
  fc.record({ op: fc.constant("removeList" as const), name: names }),
  fc.record({ op: fc.constant("renameList" as const), name: names, to: names }),
);

function apply(lists: ResourceLists, op: Op): ResourceLists {
  switch (op.op) {
    case "add":
      return withEntry(lists, op.list, {
        kind: "entry",
        uri: op.uri,
        ...(op.displayName === undefined ? {} : { displayName: op.displayName }),
      }).unwrapOr(lists);
    case "remove":
      return withoutEntry(lists, op.list, op.uri);
    case "rename":
      return withEntryDisplayName(lists, op.list, op.uri, op.displayName).unwrapOr(lists);
    case "addList":
      return withList(lists, { kind: "list", name: op.name, items: [] }).unwrapOr(lists);
    case "removeList":
      return withoutList(lists, op.name);
    case "renameList":
      return withListName(lists, op.name, op.to).unwrapOr(lists);
  }
}

/** The nodes the model does not know, with the path of their parent, in document order. */
function unknownContent(text: string): string[] {
  const RL = "urn:ietf:params:xml:ns:resource-lists";
  const out: string[] = [];
  const walk = (e: XmlElement, path: string) => {
    for (const a of e.attributes) {
      if (a.namespace !== undefined && a.prefix !== "xml") {
        out.push(`${path} @${a.localName}=${a.value}`);
      }
    }
    for (const c of e.children) {
      if (c.kind === "comment") out.push(`${path} <!--${c.value}-->`);
      else if (c.kind === "processing-instruction") out.push(`${path} <?${c.target} ${c.data}?>`);
      else if (c.kind === "element") {
        const id = c.attributes.find((a) => a.localName === "name" || a.localName === "uri")?.value;
        if (c.namespace !== RL) out.push(`${path} ${text.slice(c.start, c.end)}`);
        else walk(c, `${path}/${c.localName}(${id ?? ""})`);
      }
    }
  };
  walk(tree(text), "");
  return out;
}

Deno.test("property: any sequence of edits keeps every unknown node and gives the edited value", () => {
  const original = parseResourceLists(EXTENDED)._unsafeUnwrap();
  const unknown = unknownContent(EXTENDED);
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 8 }), (ops) => {
      // Edit through the document (each step parsed from the previous build) and, in parallel,
      // as plain data without origins: both must agree.
      let current = original;
      let reference: ResourceLists = plain(original);
      for (const op of ops) {
        const next = apply(current, op);
        const text = buildResourceLists(next)._unsafeUnwrap();
        current = parseResourceLists(text)._unsafeUnwrap();
        reference = apply(reference, op);
      }
      assertEquals(plain(current), plain(reference));
      const text = buildResourceLists(current)._unsafeUnwrap();
      // The "keep" list and its first entry are never removed or renamed by these operations,
      // so everything unknown in the document is still there, where it was.
      assertEquals(unknownContent(text), unknown);
    }),
    fcParams("resource-lists edits keep the unknown", 150),
  );
});
