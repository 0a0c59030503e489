// Typed pres-rules (RFC 5025 over RFC 4745 common-policy) and OMA pres-rules: the RFC example,
// preservation of unknown content, watcher handling, and a property-style round trip.
import { assert, assertEquals } from "@std/assert";
import fc from "npm:fast-check@^4.3.0";
import {
  buildRuleset,
  OMA_PRES_RULES,
  parseRuleset,
  type PolicyRule,
  PRES_RULES,
  type Ruleset,
  type SubHandling,
  watcherHandling,
  withWatcherHandling,
} from "../src/usages/mod.ts";
import { parseXmlDocument, type XmlElement } from "../src/xml/mod.ts";
import { sameTree } from "../src/usages/_model.ts";
import { fcParams } from "./_faults.ts";

/** RFC 5025 §8, the example document. */
const RFC5025_EXAMPLE = `<?xml version="1.0" encoding="UTF-8"?>
<cr:ruleset xmlns="urn:ietf:params:xml:ns:pres-rules"
 xmlns:pr="urn:ietf:params:xml:ns:pres-rules"
 xmlns:cr="urn:ietf:params:xml:ns:common-policy">
 <cr:rule id="a">
  <cr:conditions>
   <cr:identity>
    <cr:one id="sip:user@example.com"/>
   </cr:identity>
  </cr:conditions>
  <cr:actions>
   <pr:sub-handling>allow</pr:sub-handling>
  </cr:actions>
  <cr:transformations>
   <pr:provide-services>
     <pr:service-uri-scheme>sip</pr:service-uri-scheme>
     <pr:service-uri-scheme>mailto</pr:service-uri-scheme>
   </pr:provide-services>
   <pr:provide-persons>
     <pr:all-persons/>
   </pr:provide-persons>
   <pr:provide-activities>true</pr:provide-activities>
   <pr:provide-user-input>bare</pr:provide-user-input>
   <pr:provide-unknown-attribute ns="urn:vendor-specific:foo-namespace" name="foo">true</pr:provide-unknown-attribute>
  </cr:transformations>
 </cr:rule>
</cr:ruleset>`;

/** An OMA default-style document: external lists, other-identity, an extension transformation. */
const OMA = `<?xml version="1.0" encoding="UTF-8"?>
<cr:ruleset xmlns:ocp="urn:oma:xml:xdm:common-policy" xmlns:op="urn:oma:xml:prs:pres-rules"
    xmlns:pr="urn:ietf:params:xml:ns:pres-rules" xmlns:cr="urn:ietf:params:xml:ns:common-policy">
  <cr:rule id="wp_prs_allow_own">
    <cr:conditions>
      <cr:identity><cr:one id="sip:alice@example.com"/></cr:identity>
    </cr:conditions>
    <cr:actions><pr:sub-handling>allow</pr:sub-handling></cr:actions>
    <cr:transformations>
      <pr:provide-services><pr:all-services/></pr:provide-services>
      <op:provide-willingness>true</op:provide-willingness>
    </cr:transformations>
  </cr:rule>
  <cr:rule id="wp_prs_grantedcontacts">
    <cr:conditions>
      <ocp:external-list>
        <ocp:entry anc="http://xcap.example.com/resource-lists/users/sip:alice@example.com/index/~~/resource-lists/list%5B@name=%22oma_grantedcontacts%22%5D"/>
      </ocp:external-list>
    </cr:conditions>
    <cr:actions><pr:sub-handling>allow</pr:sub-handling></cr:actions>
  </cr:rule>
  <cr:rule id="wp_prs_unlisted">
    <cr:conditions><ocp:other-identity/></cr:conditions>
    <cr:actions><pr:sub-handling>confirm</pr:sub-handling></cr:actions>
  </cr:rule>
  <!-- vendor rules below -->
</cr:ruleset>`;

function tree(text: string): XmlElement {
  return parseXmlDocument(text)._unsafeUnwrap().root;
}

function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (k, v) => k === "origin" ? undefined : v));
}

Deno.test("parseRuleset() reads the RFC 5025 §8 example", () => {
  const ruleset = parseRuleset(RFC5025_EXAMPLE)._unsafeUnwrap();
  assertEquals(plain(ruleset), {
    rules: [{
      id: "a",
      conditions: { identity: { one: [{ id: "sip:user@example.com" }], many: [] } },
      actions: { subHandling: "allow" },
      transformations: {
        provideServices: [
          { kind: "service-uri-scheme", value: "sip" },
          { kind: "service-uri-scheme", value: "mailto" },
        ],
        providePersons: "all",
        provide: { "provide-activities": "true", "provide-user-input": "bare" },
      },
    }],
  });
});

Deno.test("buildRuleset() of an unchanged parse gives the same tree; plain data loses only the unknown", () => {
  const ruleset = parseRuleset(RFC5025_EXAMPLE)._unsafeUnwrap();
  const built = buildRuleset(ruleset)._unsafeUnwrap();
  assert(sameTree(tree(built), tree(RFC5025_EXAMPLE)));
  // Without origins, the one element the model does not know (provide-unknown-attribute) is gone.
  const fresh = buildRuleset(plain(ruleset))._unsafeUnwrap();
  const withoutUnknown = RFC5025_EXAMPLE.replace(/\s*<pr:provide-unknown-attribute[^\n]*/, "");
  assert(sameTree(tree(fresh), tree(withoutUnknown)), fresh);
});

Deno.test("parseRuleset() reads OMA's conditions and keeps OMA's transformation", () => {
  const ruleset = parseRuleset(OMA)._unsafeUnwrap();
  assertEquals(ruleset.rules.map((r) => r.id), [
    "wp_prs_allow_own",
    "wp_prs_grantedcontacts",
    "wp_prs_unlisted",
  ]);
  assertEquals(ruleset.rules[1]?.conditions?.externalLists?.length, 1);
  assertEquals(ruleset.rules[2]?.conditions?.otherIdentity, true);
  assertEquals(ruleset.rules[2]?.actions?.subHandling, "confirm");
  const changed = withWatcherHandling(ruleset, "sip:bob@example.com", "block")._unsafeUnwrap();
  const text = OMA_PRES_RULES.codec.build(changed)._unsafeUnwrap();
  assert(text.includes("<op:provide-willingness>true</op:provide-willingness>"));
  assert(text.includes("<!-- vendor rules below -->"));
  const back = parseRuleset(text)._unsafeUnwrap();
  assertEquals(watcherHandling(back, "sip:bob@example.com"), "block");
  // The OMA rules that match by list or by "other identity" were left alone.
  assertEquals(plain(back.rules.slice(0, 3)), plain(ruleset.rules));
});

Deno.test("withWatcherHandling() moves a watcher between rules and drops emptied rules", () => {
  let rules = parseRuleset(RFC5025_EXAMPLE)._unsafeUnwrap();
  rules = withWatcherHandling(rules, "sip:bob@example.com", "allow")._unsafeUnwrap();
  // Added to the existing identity rule with "allow" rather than a new rule.
  assertEquals(rules.rules.map((r) => r.id), ["a"]);
  assertEquals(rules.rules[0]?.conditions?.identity?.one?.map((o) => o.id), [
    "sip:user@example.com",
    "sip:bob@example.com",
  ]);
  rules = withWatcherHandling(rules, "sip:user@example.com", "polite-block")._unsafeUnwrap();
  assertEquals(watcherHandling(rules, "sip:user@example.com"), "polite-block");
  assertEquals(watcherHandling(rules, "sip:bob@example.com"), "allow");
  const again = withWatcherHandling(rules, "sip:user@example.com", "polite-block")._unsafeUnwrap();
  assertEquals(again, rules, "applying it again changes nothing");
  rules = withWatcherHandling(rules, "sip:bob@example.com", "block")._unsafeUnwrap();
  // Rule "a" lost its last identity and is gone, with the transformations only it had.
  assertEquals(rules.rules.map((r) => [r.id, r.actions?.subHandling]), [
    ["xcap-polite-block", "polite-block"],
    ["xcap-block", "block"],
  ]);
  const text = buildRuleset(rules)._unsafeUnwrap();
  assertEquals(parseRuleset(text)._unsafeUnwrap().rules.length, 2);
  assert(!text.includes('id="a"'));
});

Deno.test("withWatcherHandling() refuses an unknown handling and parseRuleset() an unknown value", () => {
  const bad = withWatcherHandling({ rules: [] }, "sip:a@x", "maybe" as SubHandling);
  assert(bad.isErr());
  assert(bad.error.message.includes("Unknown sub-handling"));
  const parsed = parseRuleset(RFC5025_EXAMPLE.replace(">allow<", ">perhaps<"));
  assert(parsed.isErr());
  assert(parsed.error.message.includes("RFC 5025 §3.2.1"), parsed.error.message);
});

Deno.test("PRES_RULES and OMA_PRES_RULES build new documents with cr: and pr: prefixes", () => {
  const text = PRES_RULES.codec.build(
    withWatcherHandling(PRES_RULES.codec.empty({}), "sip:bob@example.com", "allow")._unsafeUnwrap(),
  )._unsafeUnwrap();
  const root = tree(text);
  assertEquals([root.name, root.namespace], ["cr:ruleset", "urn:ietf:params:xml:ns:common-policy"]);
  assert(text.includes("<pr:sub-handling>allow</pr:sub-handling>"));
  assert(text.includes("<pr:all-services/>"));
});

// ---------------------------------------------------------------------------------------------
// Property
// ---------------------------------------------------------------------------------------------

const value = fc.array(fc.constantFrom("a", "&", "<", '"', "é", " ", "1"), {
  minLength: 1,
  maxLength: 5,
}).map((a) => a.join("").trim() || "x"); // element values are tokens: read trimmed
const handling = fc.constantFrom<SubHandling>("block", "confirm", "polite-block", "allow");

const ruleArb: fc.Arbitrary<PolicyRule> = fc.record({
  id: fc.constantFrom("r1", "r2", "r3"),
  conditions: fc.record({
    identity: fc.record({
      one: fc.array(fc.record({ id: value }), { maxLength: 3 }),
      many: fc.array(
        fc.record({
          domain: value,
          except: fc.array(fc.record({ id: value }), { maxLength: 2 }),
        }),
        { maxLength: 2 },
      ),
    }),
    sphere: value,
    validity: fc.array(fc.record({ from: value, until: value }), { maxLength: 2 }),
  }, { requiredKeys: ["identity"] }),
  actions: fc.record({ subHandling: handling }),
  transformations: fc.record({
    provideServices: fc.oneof(
      fc.constant("all" as const),
      fc.array(fc.record({ kind: fc.constantFrom("service-uri", "class"), value }), {
        maxLength: 2,
      }),
    ),
    providePersons: fc.constant("all" as const),
    provideAllAttributes: fc.constant(true),
    provide: fc.dictionary(fc.constantFrom("provide-activities", "provide-mood"), value),
  }, { requiredKeys: [] }),
}, { requiredKeys: ["id"] });

Deno.test("property: rulesets build, parse back to the same value and rebuild to the same bytes", () => {
  fc.assert(
    fc.property(fc.uniqueArray(ruleArb, { selector: (r) => r.id, maxLength: 3 }), (rules) => {
      const value: Ruleset = { rules };
      const text = buildRuleset(value)._unsafeUnwrap();
      const back = parseRuleset(text)._unsafeUnwrap();
      const normal = (r: Ruleset) =>
        plain(r).rules.map((rule) => ({
          ...rule,
          ...(rule.transformations?.provide !== undefined &&
              Object.keys(rule.transformations.provide).length === 0
            ? { transformations: { ...rule.transformations, provide: undefined } }
            : {}),
        }));
      assertEquals(plain(normal(back)), plain(normal(value)));
      assertEquals(buildRuleset(back)._unsafeUnwrap(), text);
    }),
    fcParams("pres-rules build/parse", 150),
  );
});
