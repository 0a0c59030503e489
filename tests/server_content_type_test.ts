/**
 * The Content-Type of document PUTs (issue 11.3): what deployed clients send is taken for a
 * document of the usage, a type that names something else stays 415, and `strictContentType`
 * restores RFC 4825 §8.2.2 exactly.
 */
import { assertEquals, assertStringIncludes } from "@std/assert";
import { parseConflictReport } from "../src/client/conflict_report.ts";
import { createXcapHandler } from "../src/server/mod.ts";
import { parseServeArgs } from "../src/server/serve.ts";

const ROOT = "http://127.0.0.1/xcap-root";
const RL = "urn:ietf:params:xml:ns:resource-lists";
const RL_TYPE = "application/resource-lists+xml";
const DOC_URL = `${ROOT}/resource-lists/users/sip:alice@example.com/index`;
const DOC = `<resource-lists xmlns="${RL}"><list name="friends"/></resource-lists>`;
const ENCODER = new TextEncoder();

type Handler = (request: Request) => Promise<Response>;

/** PUT `body` as bytes (so the Request constructor adds no type of its own). */
async function put(
  handler: Handler,
  url: string,
  body: string,
  contentType: string | null,
): Promise<Response> {
  return await handler(
    new Request(url, {
      method: "PUT",
      headers: contentType === null ? {} : { "content-type": contentType },
      body: ENCODER.encode(body),
    }),
  );
}

/** The types python-xcaplib, curl and hand-written scripts send for a document. */
const UNTYPED = [
  null,
  "application/x-www-form-urlencoded",
  "application/xml",
  "text/xml; charset=utf-8",
  "Application/XML",
];

Deno.test("createXcapHandler() takes an untyped, form-encoded or generic XML document PUT for the usage's document", async () => {
  for (const type of UNTYPED) {
    const handler = createXcapHandler();
    const created = await put(handler, DOC_URL, DOC, type);
    assertEquals(created.status, 201, String(type));
    await created.body?.cancel();
    const read = await handler(new Request(DOC_URL));
    // Stored and served under the usage's own MIME type.
    assertEquals(read.headers.get("content-type"), RL_TYPE);
    assertEquals(await read.text(), DOC);
    const replaced = await put(handler, DOC_URL, DOC.replace("friends", "family"), type);
    assertEquals(replaced.status, 200, String(type));
    await replaced.body?.cancel();
  }
});

Deno.test("createXcapHandler() still checks an untyped document PUT: well-formed and of the usage (409)", async () => {
  const handler = createXcapHandler();
  for (const type of UNTYPED) {
    const broken = await put(handler, DOC_URL, "name=alice&list=friends", type);
    assertEquals(broken.status, 409, String(type));
    assertEquals(parseConflictReport(await broken.text())._unsafeUnwrap().tag, "not-well-formed");
    const foreign = await put(
      handler,
      DOC_URL,
      '<ruleset xmlns="urn:ietf:params:xml:ns:common-policy"/>',
      type,
    );
    assertEquals(foreign.status, 409, String(type));
    assertEquals(
      parseConflictReport(await foreign.text())._unsafeUnwrap().tag,
      "schema-validation-error",
    );
  }
  assertEquals((await handler(new Request(DOC_URL))).status, 404);
});

Deno.test("createXcapHandler() answers 415 to a document PUT whose type names something else", async () => {
  const handler = createXcapHandler();
  const others = [
    "application/auth-policy+xml", // pres-rules' type
    "application/rls-services+xml",
    "application/xcap-el+xml",
    "application/xcap-att+xml",
    "application/xcap-ns+xml",
    "text/plain",
    "application/json",
    "multipart/form-data; boundary=x",
    "application/octet-stream",
  ];
  for (const type of others) {
    const response = await put(handler, DOC_URL, DOC, type);
    assertEquals(response.status, 415, type);
    assertEquals(response.headers.get("accept"), RL_TYPE);
    assertStringIncludes(await response.text(), `not ${type.split(";")[0]!.toLowerCase()}`);
  }
  assertEquals((await handler(new Request(DOC_URL))).status, 404);
});

Deno.test("createXcapHandler() keeps the exact types for element and attribute PUTs", async () => {
  const handler = createXcapHandler();
  assertEquals((await put(handler, DOC_URL, DOC, RL_TYPE)).status, 201);
  const element = `${DOC_URL}/~~/resource-lists/list%5B@name=%22friends%22%5D`;
  for (const type of [null, "application/x-www-form-urlencoded", "application/xml", RL_TYPE]) {
    const response = await put(handler, element, '<list name="friends"/>', type);
    assertEquals(response.status, 415, String(type));
    await response.body?.cancel();
    const attribute = await put(handler, `${element}/@name`, "friends", type);
    assertEquals(attribute.status, 415, String(type));
    await attribute.body?.cancel();
  }
});

Deno.test("createXcapHandler() with strictContentType refuses every document type but the usage's", async () => {
  const handler = createXcapHandler({ strictContentType: true });
  for (const type of UNTYPED) {
    const response = await put(handler, DOC_URL, DOC, type);
    assertEquals(response.status, 415, String(type));
    await response.body?.cancel();
  }
  const typed = await put(handler, DOC_URL, DOC, RL_TYPE);
  assertEquals(typed.status, 201);
});

Deno.test("createXcapHandler() takes application/xml as the watchers usage's own type in strict mode too", async () => {
  // org.openxcap.watchers has no registered type: its MIME type is application/xml.
  const handler = createXcapHandler({ strictContentType: true });
  const url = `${ROOT}/org.openxcap.watchers/users/sip:alice@example.com/index`;
  const response = await put(
    handler,
    url,
    '<watchers xmlns="http://openxcap.org/ns/watchers"/>',
    "application/xml",
  );
  assertEquals(response.status, 201);
});

Deno.test("parseServeArgs() reads --strict-content-type", () => {
  const command = parseServeArgs(["--strict-content-type"])._unsafeUnwrap();
  assertEquals(command.kind === "serve" && command.options.strictContentType, true);
  const lenient = parseServeArgs([])._unsafeUnwrap();
  assertEquals(lenient.kind === "serve" && lenient.options.strictContentType, undefined);
});
