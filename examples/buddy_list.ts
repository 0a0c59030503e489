/**
 * A buddy list (resource-lists, RFC 4826) kept with safe read-modify-write: add, rename and
 * remove buddies and lists, each written with the smallest XCAP request the server takes and
 * guarded by the document's ETag, then many concurrent additions that neither lose nor
 * duplicate an entry.
 *
 *     deno task buddy-list                                   # against an embedded server
 *     deno task buddy-list http://127.0.0.1:5080/xcap-root   # against any XCAP server
 *
 * Options after the URL: `--xui sip:alice@example.com` and `--password PASSWORD`.
 *
 * @module
 */
import type { ResultAsync } from "npm:neverthrow@^8.2.0";
import { XCAPClient, type XcapError } from "../mod.ts";
import {
  addEntry,
  addList,
  findList,
  removeEntry,
  removeList,
  renameEntry,
  renameList,
  type ResourceLists,
  type UpdateResult,
} from "../src/usages/mod.ts";
import { openExampleTarget } from "./_target.ts";

let failed = false;

async function step(
  title: string,
  run: () => ResultAsync<UpdateResult<ResourceLists>, XcapError>,
): Promise<ResourceLists | undefined> {
  const result = await run();
  console.log(`\n== ${title}`);
  if (result.isErr()) {
    failed = true;
    console.log(`error ${result.error._tag}: ${result.error.message}`);
    return undefined;
  }
  const r = result.value;
  console.log(
    `attempts ${r.attempts}${r.created ? ", created the document" : ""}${
      r.changed ? "" : ", nothing to change"
    }`,
  );
  for (const req of r.requests) {
    console.log(`  ${req.method} ${req.node ?? "(whole document)"} -> ${req.status}`);
  }
  return r.value;
}

function show(lists: ResourceLists | undefined): void {
  for (const list of lists?.lists ?? []) {
    console.log(`  list ${list.name}${list.displayName ? ` (${list.displayName})` : ""}`);
    for (const item of list.items) {
      if (item.kind === "entry") {
        console.log(`    ${item.uri}${item.displayName ? `  "${item.displayName}"` : ""}`);
      }
    }
  }
}

const { client, close, options, xcapRoot, xui } = await openExampleTarget();

try {
  // Start from nothing, so that the example can run again against the same server.
  await client.delete("resource-lists");

  await step(
    "add Bob to friends (creates the document, If-None-Match: *)",
    () => addEntry(client, { list: "friends", uri: "sip:bob@example.com", displayName: "Bob" }),
  );
  await step(
    "add Carol to friends (one element PUT, If-Match)",
    () => addEntry(client, { list: "friends", uri: "sip:carol@example.com" }),
  );
  await step(
    "add Bob again (already there: nothing is written)",
    () => addEntry(client, { list: "friends", uri: "sip:bob@example.com" }),
  );
  await step("rename Bob to Robert", () =>
    renameEntry(client, {
      list: "friends",
      uri: "sip:bob@example.com",
      displayName: "Robert",
    }));
  await step("add a list for work", () => addList(client, { name: "work", displayName: "Work" }));
  await step("rename it to office", () => renameList(client, { list: "work", name: "office" }));
  await step(
    "remove Carol",
    () => removeEntry(client, { list: "friends", uri: "sip:carol@example.com" }),
  );
  show(await step("remove the office list", () => removeList(client, { list: "office" })));

  // Ten clients add ten colleagues at the same time: 412s are retried with a fresh read.
  const concurrent = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      addEntry(new XCAPClient(xcapRoot, xui, options), {
        list: "colleagues",
        uri: `sip:colleague${i}@example.com`,
      }, { maxAttempts: 40 })),
  );
  console.log("\n== ten concurrent additions to colleagues");
  console.log(
    `attempts: ${concurrent.map((r) => r.isOk() ? r.value.attempts : r.error._tag).join(" ")}`,
  );
  const final = await step(
    "read the lists back (adding nothing)",
    () => addList(client, { name: "colleagues" }),
  );
  show(final);
  const colleagues = findList(final ?? { lists: [] }, "colleagues")?.items.length ?? 0;
  if (concurrent.some((r) => r.isErr()) || colleagues !== 10) {
    failed = true;
    console.log(`expected 10 colleagues, found ${colleagues}`);
  }
} finally {
  await close();
}
if (failed) {
  console.error("\nThe buddy list example did not complete as expected");
  Deno.exit(1);
}
console.log("\nThe buddy list example completed");
