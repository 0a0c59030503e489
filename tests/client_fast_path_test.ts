/**
 * The plain `XCAPClient.get()` fast paths (issue 13): a request built once per application and
 * reused, and the response URL remembered per requested URL. Against the embedded server over
 * real HTTP on 127.0.0.1, so the runtime's own fetch is the one in use.
 */
import { assert, assertEquals } from "@std/assert";
import { XCAPClient } from "../mod.ts";
import { startXcapServer } from "../src/server/mod.ts";

const DOC = '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list name="a"/></resource-lists>';

Deno.test("repeated plain gets keep each response's own URL, status and body", async () => {
  const server = (await startXcapServer({}))._unsafeUnwrap();
  try {
    const alice = new XCAPClient(server.xcapRoot, "sip:alice@example.com");
    const bob = new XCAPClient(server.xcapRoot, "sip:bob@example.com");
    assert((await alice.put("resource-lists", DOC)).isOk());
    for (let i = 0; i < 3; i++) {
      const a = await alice.get("resource-lists");
      assert(a.isOk());
      assertEquals(
        a.value.url,
        `${server.xcapRoot}/resource-lists/users/sip:alice@example.com/index`,
      );
      assertEquals(a.value.body, DOC);
      // Another URL in between: the remembered URL must not leak into this response.
      const b = await bob.get("resource-lists");
      assert(b.isErr());
      assertEquals(b.error._tag, "NotFound");
      const caps = await alice.get("xcap-caps", { global: true });
      assert(caps.isOk());
      assertEquals(caps.value.url, `${server.xcapRoot}/xcap-caps/global/index`);
    }
  } finally {
    await server.close();
  }
});

Deno.test("a plain get follows a changed xcapRoot or xui and per-call options", async () => {
  const server = (await startXcapServer({}))._unsafeUnwrap();
  try {
    const client = new XCAPClient(server.xcapRoot, "sip:alice@example.com");
    assert((await client.put("resource-lists", DOC)).isOk());
    const first = await client.get("resource-lists");
    assert(first.isOk());
    // A JavaScript caller can reassign the (TypeScript-readonly) properties.
    (client as { xui: string }).xui = "sip:carol@example.com";
    const other = await client.get("resource-lists");
    assert(other.isErr());
    assertEquals(other.error._tag, "NotFound");
    assert(other.error._tag === "NotFound" && other.error.message.includes("sip:carol@"));
    (client as { xui: string }).xui = "sip:alice@example.com";
    // Options still apply after the plain request was cached.
    const notModified = await client.get("resource-lists", { ifNoneMatch: first.value.etag! });
    assert(notModified.isErr());
    assertEquals(notModified.error._tag, "NotModified");
    const again = await client.get("resource-lists");
    assert(again.isOk());
    assertEquals(again.value.etag, first.value.etag);
  } finally {
    await server.close();
  }
});
