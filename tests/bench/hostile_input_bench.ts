/**
 * `deno bench` for what hostile input costs the parsers (the robustness tests check the
 * outcome; this measures the time): entity-expansion documents, a 200,000-level nesting in a
 * conflict report, and 100,000–200,000-character `WWW-Authenticate` headers, each beside a
 * small well-formed input of the same kind as the baseline, so `deno bench` prints how many
 * times the ordinary cost a hostile input takes.
 *
 * ```sh
 * deno bench --import-map=.ci/import_map.json --lock=.ci/deno.lock tests/bench/hostile_input_bench.ts
 * ```
 *
 * @module
 */
import { parseWwwAuthenticate } from "../../src/client/auth.ts";
import { parseConflictReport } from "../../src/client/conflict_report.ts";
import { parseXmlDocument } from "../../src/xml/mod.ts";

const RL = "urn:ietf:params:xml:ns:resource-lists";
const LAUGHS = `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n` +
  Array.from(
    { length: 9 },
    (_, i) => ` <!ENTITY lol${i + 1} "${`&lol${i === 0 ? "" : i};`.repeat(10)}">\n`,
  ).join("") + `]>\n<resource-lists xmlns="${RL}"><list name="&lol9;"/></resource-lists>`;
const QUADRATIC = `<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY big "${"x".repeat(50_000)}">]>\n` +
  `<r>${"&big;".repeat(10_000)}</r>`;
const SMALL_DOCUMENT = `<resource-lists xmlns="${RL}"><list name="friends"/></resource-lists>`;

Deno.bench({ name: "small document", group: "XML", baseline: true }, () => {
  parseXmlDocument(SMALL_DOCUMENT);
});
Deno.bench({ name: "billion laughs", group: "XML" }, () => {
  parseXmlDocument(LAUGHS);
});
Deno.bench({ name: "quadratic blow-up", group: "XML" }, () => {
  parseXmlDocument(QUADRATIC);
});

const NS = "urn:ietf:params:xml:ns:xcap-error";
Deno.bench({ name: "small conflict report", group: "conflict report", baseline: true }, () => {
  parseConflictReport(`<xcap-error xmlns="${NS}"><not-well-formed/></xcap-error>`);
});
const DEEP = `<xcap-error xmlns="${NS}"><extension>` + "<a>".repeat(100_000) +
  "</a>".repeat(100_000) + "</extension></xcap-error>";
Deno.bench({ name: "200,000 levels", group: "conflict report" }, () => {
  parseConflictReport(DEEP);
});

Deno.bench({ name: "ordinary challenge", group: "WWW-Authenticate", baseline: true }, () => {
  parseWwwAuthenticate('Digest realm="example.com", nonce="abc", qop="auth", algorithm=MD5');
});
for (
  const [name, header] of [
    ["50,000 empty params", "Digest " + "a=b, ".repeat(50_000)],
    ["200,000 backslashes", 'Digest realm="' + "\\".repeat(200_000)],
    ["200,000-character token", "Digest " + "a".repeat(200_000)],
    ["200,000 commas", ",".repeat(200_000)],
    ["50,000 empty challenges", 'Basic realm="x", ' + "Digest , ".repeat(50_000)],
  ] as const
) {
  Deno.bench({ name, group: "WWW-Authenticate" }, () => {
    parseWwwAuthenticate(header);
  });
}
