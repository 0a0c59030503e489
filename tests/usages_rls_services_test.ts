// Typed rls-services (RFC 4826 §4): the RFC example, preservation, and a round-trip property.
import { assert, assertEquals } from "@std/assert";
import fc from "npm:fast-check@^4.3.0";
import {
  buildRlsServices,
  parseRlsServices,
  type RlsService,
  type RlsServices,
} from "../src/usages/mod.ts";
import { parseXmlDocument, type XmlElement } from "../src/xml/mod.ts";
import { sameTree } from "../src/usages/_model.ts";
import { fcParams } from "./_faults.ts";

/** RFC 4826 §4.3, the example document. */
const RFC4826_RLS_EXAMPLE = `<?xml version="1.0" encoding="UTF-8"?>
<rls-services xmlns="urn:ietf:params:xml:ns:rls-services"
   xmlns:rl="urn:ietf:params:xml:ns:resource-lists"
   xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <service uri="sip:mybuddies@example.com">
  <resource-list>http://xcap.example.com/resource-lists/users/sip:joe@example.com/index/~~/resource-lists/list%5b@name=%22l1%22%5d</resource-list>
  <packages>
   <package>presence</package>
  </packages>
 </service>
 <service uri="sip:marketing@example.com">
   <list name="marketing">
     <rl:entry uri="sip:joe@example.com"/>
     <rl:entry uri="sip:sudhir@example.com"/>
   </list>
   <packages>
     <package>presence</package>
   </packages>
 </service>
</rls-services>`;

function tree(text: string): XmlElement {
  return parseXmlDocument(text)._unsafeUnwrap().root;
}

function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (k, v) => k === "origin" ? undefined : v));
}

Deno.test("parseRlsServices() reads the RFC 4826 §4.3 example", () => {
  const rls = parseRlsServices(RFC4826_RLS_EXAMPLE)._unsafeUnwrap();
  assertEquals(plain(rls), {
    services: [
      {
        uri: "sip:mybuddies@example.com",
        resourceList:
          "http://xcap.example.com/resource-lists/users/sip:joe@example.com/index/~~/resource-lists/list%5b@name=%22l1%22%5d",
        packages: ["presence"],
      },
      {
        uri: "sip:marketing@example.com",
        list: {
          kind: "list",
          name: "marketing",
          items: [
            { kind: "entry", uri: "sip:joe@example.com" },
            { kind: "entry", uri: "sip:sudhir@example.com" },
          ],
        },
        packages: ["presence"],
      },
    ],
  });
});

Deno.test("buildRlsServices() rebuilds the RFC example's tree, from a parse and from plain data", () => {
  const rls = parseRlsServices(RFC4826_RLS_EXAMPLE)._unsafeUnwrap();
  assertEquals(buildRlsServices(rls)._unsafeUnwrap(), RFC4826_RLS_EXAMPLE);
  const fresh = buildRlsServices(plain(rls))._unsafeUnwrap();
  assert(sameTree(tree(fresh), tree(RFC4826_RLS_EXAMPLE)), fresh);
});

Deno.test("buildRlsServices() keeps unknown content when a service's list and packages change", () => {
  const text = `<rls-services xmlns="urn:ietf:params:xml:ns:rls-services"
    xmlns:rl="urn:ietf:params:xml:ns:resource-lists" xmlns:v="urn:example:vendor">
  <!-- managed by the portal -->
  <service uri="sip:team@example.com" v:owner="alice">
    <list name="team"><rl:entry uri="sip:a@example.com"/><v:hint>sorted</v:hint></list>
    <packages><package>presence</package><v:extra/></packages>
    <v:billing plan="gold"/>
  </service>
</rls-services>`;
  const rls = parseRlsServices(text)._unsafeUnwrap();
  const service = rls.services[0]!;
  const changed: RlsService = {
    ...service,
    list: {
      ...service.list!,
      items: [...service.list!.items, { kind: "entry", uri: "sip:b@example.com" }],
    },
    packages: ["presence", "dialog"],
  };
  const built = buildRlsServices({ ...rls, services: [changed] })._unsafeUnwrap();
  const expected = `<rls-services xmlns="urn:ietf:params:xml:ns:rls-services"
    xmlns:rl="urn:ietf:params:xml:ns:resource-lists" xmlns:v="urn:example:vendor">
  <!-- managed by the portal -->
  <service uri="sip:team@example.com" v:owner="alice">
    <list name="team"><rl:entry uri="sip:a@example.com"/><rl:entry uri="sip:b@example.com"/><v:hint>sorted</v:hint></list>
    <packages><package>presence</package><package>dialog</package><v:extra/></packages>
    <v:billing plan="gold"/>
  </service>
</rls-services>`;
  assert(sameTree(tree(built), tree(expected)), built);
});

Deno.test("parseRlsServices() rejects a service without uri", () => {
  const parsed = parseRlsServices(
    '<rls-services xmlns="urn:ietf:params:xml:ns:rls-services"><service/></rls-services>',
  );
  assert(parsed.isErr());
  assert(parsed.error.message.includes('has no "uri"'), parsed.error.message);
});

const token = fc.array(fc.constantFrom("a", "b", "&", "<", '"', "é"), {
  minLength: 1,
  maxLength: 4,
}).map((a) => a.join(""));

const serviceArb: fc.Arbitrary<RlsService> = fc.record({
  uri: token.map((t) => "sip:" + t),
  choice: fc.oneof(
    fc.record({ resourceList: token.map((t) => "http://x/" + t) }),
    fc.record({
      list: fc.record({
        kind: fc.constant("list" as const),
        items: fc.array(fc.record({ kind: fc.constant("entry" as const), uri: token }), {
          maxLength: 3,
        }),
      }),
    }),
  ),
  packages: fc.option(fc.array(token, { maxLength: 3 }), { nil: undefined }),
}).map(({ uri, choice, packages }) => ({
  uri,
  ...choice,
  ...(packages === undefined ? {} : { packages }),
}));

Deno.test("property: rls-services build, parse back and rebuild to the same bytes", () => {
  fc.assert(
    fc.property(fc.array(serviceArb, { maxLength: 3 }), (services) => {
      const value: RlsServices = { services };
      const text = buildRlsServices(value)._unsafeUnwrap();
      const back = parseRlsServices(text)._unsafeUnwrap();
      assertEquals(plain(back), plain(value));
      assertEquals(buildRlsServices(back)._unsafeUnwrap(), text);
    }),
    fcParams("rls-services build/parse", 150),
  );
});
