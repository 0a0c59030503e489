/**
 * The seed's usage flow (python-xcaplib's XCAP API page), end to end:
 * put a document, read it, read an element and an attribute, replace an element conditionally,
 * delete it.
 *
 *     deno task demo                                   # against an embedded server, in-process
 *     deno task demo http://127.0.0.1:5080/xcap-root   # against any XCAP server (e.g. Kamailio)
 *
 * Options after the URL: `--xui sip:alice@example.com` and `--password PASSWORD`.
 *
 * @module
 */
import type { Result } from "npm:neverthrow@^8.2.0";
import type { XcapError, XcapResource } from "../mod.ts";
import { openExampleTarget } from "./_target.ts";

function show(step: string, result: Result<XcapResource, XcapError>): void {
  console.log(`\n== ${step}`);
  if (result.isOk()) {
    const r = result.value;
    console.log(
      `status ${r.status}  etag ${r.etag ?? "(none)"}  content-type ${r.contentType ?? "(none)"}`,
    );
    if (r.body.length > 0) console.log(r.body.trimEnd());
  } else {
    console.log(`error ${result.error._tag}: ${result.error.message}`);
  }
}

const { client, close } = await openExampleTarget();
let failed = false;
try {
  const document = await Deno.readTextFile(new URL("./resource-lists.xml", import.meta.url));

  // put the document on the server
  const put = await client.put("resource-lists", document);
  show("put the document", put);

  // read the document from the server
  const got = await client.get("resource-lists");
  show("get the document", got);

  // get a specific element within a document
  const element = await client.get("resource-lists", "/resource-lists/list/entry/display-name");
  show("get an element", element);

  // get an attribute
  const attribute = await client.get("resource-lists", "/resource-lists/list/entry/@uri");
  show("get an attribute", attribute);

  // replace an element conditionally, based on the etag
  const storedEtag = got.isOk() ? got.value.etag : undefined;
  const replaced = await client.put(
    "resource-lists",
    '<entry uri="sip:bob@example.com"><display-name>The Bob</display-name></entry>',
    '/resource-lists/list/entry[@uri="sip:bob@example.com"]',
    storedEtag === undefined ? {} : { etag: storedEtag },
  );
  show("replace an element if the document is unchanged", replaced);

  // the same conditional PUT again: the etag is stale now, so the server answers 412
  const stale = await client.put(
    "resource-lists",
    '<entry uri="sip:bob@example.com"><display-name>Bobby</display-name></entry>',
    '/resource-lists/list/entry[@uri="sip:bob@example.com"]',
    storedEtag === undefined ? {} : { etag: storedEtag },
  );
  show("replace again with the old etag (expected: PreconditionFailed)", stale);

  // delete an element
  const nodeSelector = '/resource-lists/list/entry[@uri="sip:bob@example.com"]';
  const res = replaced.isOk() ? replaced.value : undefined;
  const deleted = await client.delete(
    "resource-lists",
    nodeSelector,
    res?.etag === undefined ? {} : { etag: res.etag },
  );
  show("delete the element", deleted);

  show("get the document after the delete", await client.get("resource-lists"));
  failed = [put, got, element, attribute, replaced, deleted].some((r) => r.isErr()) ||
    !(stale.isErr() && stale.error._tag === "PreconditionFailed");
} finally {
  await close();
}
if (failed) {
  console.error("\nThe usage flow did not complete as expected");
  Deno.exit(1);
}
console.log("\nThe usage flow completed");
