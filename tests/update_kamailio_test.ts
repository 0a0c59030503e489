// updateDocument() and the high-level operations against a real Kamailio xcap_server (one
// worker, sqlite): its profile is detected from the Server header, so documents are created with
// the quoted If-None-Match "*" it understands and node operations are used only where its
// append-at-the-end behaviour gives the intended document (tests/kamailio/README.md, quirks 5, 7).
import { assert, assertEquals } from "@std/assert";
import { XCAPClient } from "../mod.ts";
import {
  addEntry,
  allowWatcher,
  blockWatcher,
  findList,
  parsePresence,
  parseResourceLists,
  parseRuleset,
  removeEntry,
  renameEntry,
  type ResourceListItem,
  setPresenceNote,
  watcherHandling,
} from "../src/usages/mod.ts";
import { kamailioTest } from "./_kamailio.ts";

function uris(items: readonly ResourceListItem[] | undefined): string[] {
  return (items ?? []).flatMap((i) => i.kind === "entry" ? [i.uri] : []);
}

kamailioTest(
  "20 concurrent addEntry() calls against Kamailio (one worker): every entry once",
  { workers: 1 },
  async (server) => {
    const xui = "sip:alice@127.0.0.1";
    const clients = Array.from({ length: 20 }, () => new XCAPClient(server.xcapRoot, xui));
    const results = await Promise.all(
      clients.map((client, i) =>
        addEntry(client, { list: "friends", uri: `sip:user${i}@example.com` }, { maxAttempts: 60 })
      ),
    );
    for (const r of results) assert(r.isOk(), r.isErr() ? r.error.message : "");
    // Exactly one creator won the quoted If-None-Match "*"; the others re-read and added.
    assertEquals(results.filter((r) => r._unsafeUnwrap().created).length, 1);
    assert(results.some((r) => r._unsafeUnwrap().attempts > 1), "the updates should have raced");
    const stored = parseResourceLists(
      (await clients[0]!.get("resource-lists"))._unsafeUnwrap().body,
    )
      ._unsafeUnwrap();
    const all = uris(findList(stored, "friends")?.items);
    assertEquals(all.length, 20);
    assertEquals(new Set(all).size, 20);
    assertEquals(stored.lists.length, 1);
  },
);

kamailioTest("high-level operations work against Kamailio", {}, async (server) => {
  const client = new XCAPClient(server.xcapRoot, "sip:bob@127.0.0.1");
  (await addEntry(client, { list: "friends", uri: "sip:a@example.com", displayName: "A" }))
    ._unsafeUnwrap();
  // Appending is a node PUT Kamailio does right.
  const appended = (await addEntry(client, { list: "friends", uri: "sip:b@example.com" }))
    ._unsafeUnwrap();
  assertEquals(appended.requests.map((r) => r.node), [
    '/resource-lists/list[@name="friends"]/entry[@uri="sip:b@example.com"]',
  ]);
  (await renameEntry(client, { list: "friends", uri: "sip:a@example.com", displayName: "Ay" }))
    ._unsafeUnwrap();
  (await removeEntry(client, { list: "friends", uri: "sip:b@example.com" }))._unsafeUnwrap();
  const lists = parseResourceLists((await client.get("resource-lists"))._unsafeUnwrap().body)
    ._unsafeUnwrap();
  const friends = findList(lists, "friends")!;
  assertEquals(
    friends.items.map((i) => i.kind === "entry" ? [i.uri, i.displayName] : []),
    [["sip:a@example.com", "Ay"]],
  );

  // pres-rules documents use cr: prefixes, which Kamailio cannot select: whole documents.
  (await allowWatcher(client, "sip:w@example.com"))._unsafeUnwrap();
  const blocked = (await blockWatcher(client, "sip:w@example.com"))._unsafeUnwrap();
  assertEquals(blocked.requests.map((r) => r.node), [undefined]);
  const rules = parseRuleset((await client.get("pres-rules"))._unsafeUnwrap().body)._unsafeUnwrap();
  assertEquals(watcherHandling(rules, "sip:w@example.com"), "block");

  (await setPresenceNote(client, { note: "Out" }))._unsafeUnwrap();
  (await setPresenceNote(client, { note: "In" }))._unsafeUnwrap();
  const presence = parsePresence((await client.get("pidf-manipulation"))._unsafeUnwrap().body)
    ._unsafeUnwrap();
  assertEquals(presence.notes.map((n) => n.value), ["In"]);
});
