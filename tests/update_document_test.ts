// updateDocument(), updateElement() and the high-level operations against the embedded server:
// conditional requests, re-reads after 412, bounded attempts, the minimal node operations, the
// whole-document fallback, and concurrent updates that must neither lose nor duplicate entries.
import { assert, assertEquals } from "@std/assert";
import { err, ResultAsync } from "npm:neverthrow@^8.2.0";
import { createXcapResourceClient, type Executor, XCAPClient } from "../mod.ts";
import {
  addEntry,
  addList,
  allowWatcher,
  blockWatcher,
  findList,
  KAMAILIO_SERVER_PROFILE,
  parseRuleset,
  PRES_RULES,
  removeEntry,
  removeList,
  renameEntry,
  renameList,
  RESOURCE_LISTS,
  type ResourceListItem,
  type ResourceLists,
  setPresenceNote,
  updateDocument,
  updateElement,
  watcherHandling,
  withEntry,
} from "../src/usages/mod.ts";
import { invalidArgument } from "../src/client/errors.ts";
import {
  createXcapHandler,
  MemoryStore,
  startXcapServer,
  type XcapServer,
} from "../src/server/mod.ts";

const XUI = "sip:alice@example.com";

interface Sent {
  method: string;
  url: string;
  headers: Headers;
}

/** A client whose requests are recorded, optionally answered by `intercept` instead. */
function recordingClient(
  server: XcapServer,
  intercept?: (sent: Sent) => Response | undefined | Promise<Response | undefined>,
): { client: XCAPClient; sent: Sent[] } {
  const sent: Sent[] = [];
  const client = new XCAPClient(server.xcapRoot, XUI, {
    fetch: async (input, init) => {
      const entry = {
        method: init?.method ?? "GET",
        url: decodeURIComponent(String(input)),
        headers: new Headers(init?.headers),
      };
      sent.push(entry);
      return (await intercept?.(entry)) ?? fetch(input, init);
    },
  });
  return { client, sent };
}

async function withServer(fn: (server: XcapServer) => Promise<void>): Promise<void> {
  const server = (await startXcapServer({ hostname: "127.0.0.1", port: 0 }))._unsafeUnwrap();
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

function entries(lists: ResourceLists, list: string): string[] {
  return (findList(lists, list)?.items ?? []).flatMap((i: ResourceListItem) =>
    i.kind === "entry" ? [i.uri] : []
  );
}

Deno.test("updateDocument() creates a missing document with If-None-Match: *", async () => {
  await withServer(async (server) => {
    const { client, sent } = recordingClient(server);
    const result = await updateDocument(
      client,
      RESOURCE_LISTS,
      (lists, context) => {
        assertEquals(context, { exists: false, attempt: 1 });
        return withEntry(lists, "friends", { kind: "entry", uri: "sip:bob@example.com" });
      },
    );
    const value = result._unsafeUnwrap();
    assertEquals([value.created, value.changed, value.attempts], [true, true, 1]);
    assertEquals(sent.map((s) => s.method), ["GET", "PUT"]);
    assertEquals(sent[1]!.headers.get("if-none-match"), "*");
    assertEquals(sent[1]!.headers.get("content-type"), "application/resource-lists+xml");
    assertEquals(value.etag, (await client.get("resource-lists"))._unsafeUnwrap().etag);
  });
});

Deno.test("updateDocument() re-reads and re-applies the change after a 412", async () => {
  await withServer(async (server) => {
    const other = new XCAPClient(server.xcapRoot, XUI);
    (await addEntry(other, { list: "friends", uri: "sip:first@example.com" }))._unsafeUnwrap();
    // Another writer gets in between this client's read and its first write.
    let interfered = false;
    const { client, sent } = recordingClient(server, async (s) => {
      if (s.method !== "GET" && !interfered) {
        interfered = true;
        (await addEntry(other, { list: "friends", uri: "sip:other@example.com" }))._unsafeUnwrap();
      }
      return undefined;
    });
    const contexts: number[] = [];
    const result = await updateDocument(client, RESOURCE_LISTS, (lists, context) => {
      contexts.push(context.attempt);
      return withEntry(lists, "friends", { kind: "entry", uri: "sip:mine@example.com" });
    }, { backoff: { initialMs: 1 } });
    const value = result._unsafeUnwrap();
    assertEquals([value.attempts, contexts], [2, [1, 2]]);
    assertEquals(entries(value.value, "friends"), [
      "sip:first@example.com",
      "sip:other@example.com",
      "sip:mine@example.com",
    ]);
    // Both writes were conditional on the ETag just read.
    const writes = sent.filter((s) => s.method !== "GET");
    assertEquals(writes.length, 2);
    for (const w of writes) {
      assert(w.headers.has("if-match"), `${w.method} ${w.url} without If-Match`);
    }
    assert(writes[0]!.headers.get("if-match") !== writes[1]!.headers.get("if-match"));
  });
});

Deno.test("updateDocument() gives up after maxAttempts with PreconditionFailed, backing off", async () => {
  await withServer(async (server) => {
    (await addEntry(new XCAPClient(server.xcapRoot, XUI), { list: "f", uri: "sip:a@x" }))
      ._unsafeUnwrap();
    const { client, sent } = recordingClient(
      server,
      (s) => s.method === "PUT" ? new Response(null, { status: 412 }) : undefined,
    );
    const started = performance.now();
    const result = await updateDocument(
      client,
      RESOURCE_LISTS,
      (lists) => withEntry(lists, "f", { kind: "entry", uri: "sip:b@x" }),
      { maxAttempts: 3, backoff: { initialMs: 40, maxMs: 1000 }, random: () => 1 },
    );
    const elapsed = performance.now() - started;
    assert(result.isErr());
    assertEquals(result.error._tag, "PreconditionFailed");
    assert(
      result.error.message.startsWith(
        "Gave up updating resource-lists document index after 3 attempts",
      ),
    );
    assertEquals(sent.map((s) => s.method), ["GET", "PUT", "GET", "PUT", "GET", "PUT"]);
    // Delays of 40, 80 and 160 ms (random() = 1 takes the whole cap).
    assert(elapsed >= 270, `backed off only ${elapsed} ms`);
  });
});

Deno.test("updateDocument() refuses a bad maxAttempts and passes a change's error through", async () => {
  await withServer(async (server) => {
    const { client, sent } = recordingClient(server);
    const bad = await updateDocument(client, RESOURCE_LISTS, (l) => l, { maxAttempts: 0 });
    assertEquals(bad.isErr() && bad.error._tag, "InvalidArgument");
    const refused = await updateDocument(
      client,
      RESOURCE_LISTS,
      () => err(invalidArgument("change", "Not today")),
    );
    assertEquals(refused.isErr() && refused.error.message, "Not today");
    const thrown = await updateDocument(client, RESOURCE_LISTS, () => {
      throw new Error("boom");
    });
    assert(thrown.isErr() && thrown.error.message.includes("boom"));
    assertEquals(sent.filter((s) => s.method !== "GET"), []);
  });
});

Deno.test("updateDocument() writes nothing for a change that changes nothing", async () => {
  await withServer(async (server) => {
    const { client, sent } = recordingClient(server);
    (await addEntry(client, { list: "f", uri: "sip:a@x" }))._unsafeUnwrap();
    sent.length = 0;
    const again = (await addEntry(client, { list: "f", uri: "sip:a@x" }))._unsafeUnwrap();
    assertEquals([again.changed, again.requests], [false, []]);
    assertEquals(sent.map((s) => s.method), ["GET"]);
  });
});

Deno.test("updateDocument() checks uniqueness before writing", async () => {
  await withServer(async (server) => {
    const { client, sent } = recordingClient(server);
    const result = await updateDocument(client, RESOURCE_LISTS, () => ({
      lists: [
        { kind: "list" as const, name: "twice", items: [] },
        { kind: "list" as const, name: "twice", items: [] },
      ],
    }));
    assert(result.isErr());
    assert(result.error.message.includes('name "twice" repeats'), result.error.message);
    assertEquals(sent.map((s) => s.method), ["GET"]);
  });
});

Deno.test("updateDocument() reports a stored document it cannot read as MalformedResponse", async () => {
  await withServer(async (server) => {
    const { client } = recordingClient(
      server,
      (s) =>
        s.method === "GET" ? new Response("<presence/>", { headers: { etag: '"x"' } }) : undefined,
    );
    const result = await updateDocument(client, RESOURCE_LISTS, (l) => l);
    assert(result.isErr());
    assertEquals(result.error._tag, "MalformedResponse");
    assert(result.error.message.includes("not <resource-lists>"), result.error.message);
  });
});

Deno.test("addEntry() and friends send one element operation each, guarded by the ETag", async () => {
  await withServer(async (server) => {
    const { client, sent } = recordingClient(server);
    (await addEntry(client, { list: "friends", uri: "sip:bob@example.com", displayName: "Bob" }))
      ._unsafeUnwrap();
    const steps = [
      () => addEntry(client, { list: "friends", uri: "sip:carol@example.com" }),
      () =>
        renameEntry(client, { list: "friends", uri: "sip:bob@example.com", displayName: "Rob" }),
      () => addList(client, { name: "work" }),
      () => renameList(client, { list: "work", name: "office" }),
      () => removeEntry(client, { list: "friends", uri: "sip:carol@example.com" }),
      () => removeList(client, { list: "office" }),
    ];
    const writes: string[] = [];
    for (const step of steps) {
      sent.length = 0;
      const result = (await step())._unsafeUnwrap();
      assertEquals(result.requests.length, 1, JSON.stringify(result.requests));
      const write = sent.filter((s) => s.method !== "GET");
      assertEquals(write.length, 1);
      assert(write[0]!.headers.has("if-match"));
      writes.push(`${write[0]!.method} ${write[0]!.url.split("/~~")[1]}`);
    }
    assertEquals(writes, [
      'PUT /resource-lists/list[@name="friends"]/entry[@uri="sip:carol@example.com"]',
      'PUT /resource-lists/list[@name="friends"]/entry[@uri="sip:bob@example.com"]/display-name',
      'PUT /resource-lists/list[@name="work"]',
      "PUT /resource-lists/list[2]",
      'DELETE /resource-lists/list[@name="friends"]/entry[@uri="sip:carol@example.com"]',
      'DELETE /resource-lists/list[@name="office"]',
    ]);
    const stored = (await client.get("resource-lists"))._unsafeUnwrap().body;
    assertEquals(
      stored,
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">\n' +
        '  <list name="friends">\n' +
        '    <entry uri="sip:bob@example.com">\n' +
        "      <display-name>Rob</display-name>\n" +
        "    </entry>\n" +
        "  </list>\n" +
        "</resource-lists>\n",
    );
  });
});

Deno.test("updateDocument() with strategy document PUTs the whole document; node refuses what it cannot express", async () => {
  await withServer(async (server) => {
    const { client, sent } = recordingClient(server);
    (await addEntry(client, { list: "f", uri: "sip:a@x" }))._unsafeUnwrap();
    sent.length = 0;
    const whole = await addEntry(client, { list: "f", uri: "sip:b@x" }, { strategy: "document" });
    assertEquals(whole._unsafeUnwrap().requests, [{ method: "PUT", status: 200 }]);
    assert(!sent[1]!.url.includes("~~"));
    assertEquals(sent[1]!.headers.get("content-type"), "application/resource-lists+xml");
    // Adding two entries to two lists is two operations: "auto" keeps it atomic (one PUT of the
    // document); "node" sends both.
    const twoLists = (lists: ResourceLists) =>
      withEntry(lists, "f", { kind: "entry", uri: "sip:c@x" }).andThen((l) =>
        withEntry(l, "g", { kind: "entry", uri: "sip:d@x" })
      );
    const auto = (await updateDocument(client, RESOURCE_LISTS, twoLists))._unsafeUnwrap();
    assertEquals(auto.requests, [{ method: "PUT", status: 200 }]);
    const more = (lists: ResourceLists) =>
      withEntry(lists, "f", { kind: "entry", uri: "sip:e@x" }).andThen((l) =>
        withEntry(l, "g", { kind: "entry", uri: "sip:f@x" })
      );
    const node = (await updateDocument(client, RESOURCE_LISTS, more, { strategy: "node" }))
      ._unsafeUnwrap();
    assertEquals(node.requests.map((r) => r.node), [
      '/resource-lists/list[@name="f"]/entry[@uri="sip:e@x"]',
      '/resource-lists/list[@name="g"]/entry[@uri="sip:f@x"]',
    ]);
    // A server that only appends cannot put an entry first.
    const first = (lists: ResourceLists): ResourceLists => ({
      ...lists,
      lists: lists.lists.map((l) =>
        l.name === "f" ? { ...l, items: [{ kind: "entry", uri: "sip:first@x" }, ...l.items] } : l
      ),
    });
    const refused = await updateDocument(client, RESOURCE_LISTS, first, {
      strategy: "node",
      server: KAMAILIO_SERVER_PROFILE,
    });
    assert(refused.isErr());
    assertEquals(refused.error._tag, "InvalidArgument");
    assert(refused.error.message.startsWith("No node operations express the change"));
    assert(
      refused.error.message.includes("appends new elements at the end"),
      refused.error.message,
    );
    // An RFC server can: one PUT with a position.
    const put = (await updateDocument(client, RESOURCE_LISTS, first))._unsafeUnwrap();
    assertEquals(put.requests.map((r) => r.node), [
      '/resource-lists/list[@name="f"]/entry[1][@uri="sip:first@x"]',
    ]);
    assertEquals(entries(put.value, "f")[0], "sip:first@x");
  });
});

Deno.test("updateDocument() falls back to the whole document when the server refuses node operations", async () => {
  await withServer(async (server) => {
    (await addEntry(new XCAPClient(server.xcapRoot, XUI), { list: "f", uri: "sip:a@x" }))
      ._unsafeUnwrap();
    const { client, sent } = recordingClient(
      server,
      (s) => s.url.includes("~~") ? new Response("no", { status: 501 }) : undefined,
    );
    const result = (await addEntry(client, { list: "f", uri: "sip:b@x" }))._unsafeUnwrap();
    assertEquals(result.attempts, 2);
    assertEquals(sent.map((s) => `${s.method} ${s.url.includes("~~") ? "node" : "document"}`), [
      "GET document",
      "PUT node",
      "GET document",
      "PUT document",
    ]);
    assertEquals(entries(result.value, "f"), ["sip:a@x", "sip:b@x"]);
  });
});

Deno.test('updateDocument() with the Kamailio profile creates with a quoted "*" and writes prefixed documents whole', async () => {
  await withServer(async (server) => {
    const { client, sent } = recordingClient(server);
    const options = { server: KAMAILIO_SERVER_PROFILE };
    (await allowWatcher(client, "sip:bob@example.com", options))._unsafeUnwrap();
    assertEquals(sent[1]!.headers.get("if-none-match"), '"*"');
    sent.length = 0;
    const blocked = (await blockWatcher(client, "sip:bob@example.com", options))._unsafeUnwrap();
    assertEquals(blocked.requests, [{ method: "PUT", status: 200 }]);
    // On an RFC server the same change goes by node operations with cr: prefixes.
    sent.length = 0;
    const allowed = (await allowWatcher(client, "sip:bob@example.com"))._unsafeUnwrap();
    assert(allowed.requests.every((r) => r.node?.startsWith("/cr:ruleset/cr:rule")));
    assert(
      sent.filter((s) => s.method !== "GET").every((s) =>
        s.url.includes("xmlns(cr=urn:ietf:params:xml:ns:common-policy)")
      ),
    );
    const stored = (await client.get("pres-rules"))._unsafeUnwrap().body;
    assertEquals(
      watcherHandling(parseRuleset(stored)._unsafeUnwrap(), "sip:bob@example.com"),
      "allow",
    );
  });
});

Deno.test("setPresenceNote() creates the document for the client's XUI and then edits the note", async () => {
  await withServer(async (server) => {
    const { client } = recordingClient(server);
    const created = (await setPresenceNote(client, { note: "In a meeting" }))._unsafeUnwrap();
    assertEquals([created.created, created.value.entity], [true, XUI]);
    const edited = (await setPresenceNote(client, { note: "Back", lang: "en" }))._unsafeUnwrap();
    assertEquals(edited.value.notes.map((n) => [n.value, n.lang]), [
      ["In a meeting", undefined],
      ["Back", "en"],
    ]);
    assertEquals(edited.requests.length, 1);
  });
});

Deno.test("updateElement() replaces, creates and deletes one element, guarded by the ETag", async () => {
  await withServer(async (server) => {
    const { client, sent } = recordingClient(server);
    const missing = await updateElement(
      client,
      RESOURCE_LISTS,
      "/resource-lists/list",
      () => "<list/>",
    );
    assertEquals(missing.isErr() && missing.error._tag, "NotFound");
    (await addEntry(client, { list: "f", uri: "sip:a@x" }))._unsafeUnwrap();
    const node = '/resource-lists/list[@name="f"]/entry[@uri="sip:b@x"]';
    sent.length = 0;
    const created = (await updateElement(client, RESOURCE_LISTS, node, (current) => {
      assertEquals(current, undefined);
      return '<entry uri="sip:b@x"><display-name>B</display-name></entry>';
    }))._unsafeUnwrap();
    assertEquals(created.changed, true);
    assertEquals(sent.map((s) => s.method), ["GET", "GET", "PUT"]);
    assert(sent[2]!.headers.has("if-match"));
    const replaced = (await updateElement(
      client,
      RESOURCE_LISTS,
      node,
      (current) => current?.replace(">B<", ">Bee<"),
    ))._unsafeUnwrap();
    assertEquals(replaced.value, '<entry uri="sip:b@x"><display-name>Bee</display-name></entry>');
    const deleted = (await updateElement(client, RESOURCE_LISTS, node, () => undefined))
      ._unsafeUnwrap();
    assertEquals([deleted.value, deleted.changed], [undefined, true]);
    const lists = RESOURCE_LISTS.codec.parse(
      (await import("../src/xml/mod.ts")).parseXmlDocument(
        (await client.get("resource-lists"))._unsafeUnwrap().body,
      )._unsafeUnwrap(),
    )._unsafeUnwrap();
    assertEquals(entries(lists, "f"), ["sip:a@x"]);
  });
});

Deno.test("updateElement() re-reads after a 412", async () => {
  await withServer(async (server) => {
    (await addEntry(new XCAPClient(server.xcapRoot, XUI), {
      list: "f",
      uri: "sip:a@x",
      displayName: "A",
    }))
      ._unsafeUnwrap();
    let puts = 0;
    const { client } = recordingClient(
      server,
      (s) => s.method === "PUT" && puts++ === 0 ? new Response(null, { status: 412 }) : undefined,
    );
    const result = await updateElement(
      client,
      RESOURCE_LISTS,
      '/resource-lists/list[@name="f"]/entry/display-name',
      (current) => current?.replace("A", "Ay"),
      { backoff: { initialMs: 1 } },
    );
    assertEquals(result._unsafeUnwrap().attempts, 2);
  });
});

Deno.test("20 concurrent addEntry() calls on the embedded server: every entry once", async () => {
  await withServer(async (server) => {
    const clients = Array.from({ length: 20 }, () => new XCAPClient(server.xcapRoot, XUI));
    const results = await Promise.all(
      clients.map((client, i) =>
        addEntry(client, { list: "friends", uri: `sip:user${i}@example.com` }, { maxAttempts: 60 })
      ),
    );
    for (const r of results) assert(r.isOk(), r.isErr() ? r.error.message : "");
    const attempts = results.map((r) => r._unsafeUnwrap().attempts);
    assert(attempts.some((a) => a > 1), "the updates should have raced");
    assertEquals(results.filter((r) => r._unsafeUnwrap().created).length, 1);
    const stored = RESOURCE_LISTS.codec.parse(
      (await import("../src/xml/mod.ts")).parseXmlDocument(
        (await clients[0]!.get("resource-lists"))._unsafeUnwrap().body,
      )._unsafeUnwrap(),
    )._unsafeUnwrap();
    const uris = entries(stored, "friends");
    assertEquals(uris.length, 20);
    assertEquals(new Set(uris).size, 20);
    assertEquals(stored.lists.length, 1);
  });
});

Deno.test("20 concurrent whole-document updates on the embedded server: no update lost", async () => {
  await withServer(async (server) => {
    const client = new XCAPClient(server.xcapRoot, XUI);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      updateDocument(
        client,
        PRES_RULES,
        (rules) => ({
          ...rules,
          rules: [...rules.rules, { id: `r${i}`, actions: { subHandling: "allow" as const } }],
        }),
        { strategy: "document", maxAttempts: 60 },
      )));
    for (const r of results) assert(r.isOk(), r.isErr() ? r.error.message : "");
    const stored = parseRuleset((await client.get("pres-rules"))._unsafeUnwrap().body)
      ._unsafeUnwrap();
    assertEquals(
      stored.rules.map((r) => r.id).sort(),
      Array.from({ length: 20 }, (_, i) => `r${i}`).sort(),
    );
  });
});

Deno.test("updateDocument() and the operations run on a bare executor through createXcapResourceClient()", async () => {
  // No XCAPClient and no network: the executor hands each request to the server's fetch handler.
  const handler = createXcapHandler({ store: new MemoryStore() });
  const methods: string[] = [];
  const executor: Executor = (request) => {
    methods.push(request.method);
    return ResultAsync.fromSafePromise(
      handler(
        new Request(request.url, {
          method: request.method,
          headers: request.headers,
          ...(request.body === undefined ? {} : { body: request.body }),
        }),
      ).then(async (response) => ({
        status: response.status,
        headers: response.headers,
        body: await response.text(),
        url: request.url,
      })),
    );
  };
  const client = createXcapResourceClient(executor, {
    xcapRoot: "http://127.0.0.1:9/xcap-root",
    xui: XUI,
  });
  const first = await addEntry(client, { list: "friends", uri: "sip:bob@example.com" });
  assertEquals(first._unsafeUnwrap().created, true);
  const second = await addEntry(client, { list: "friends", uri: "sip:carol@example.com" });
  assertEquals(second._unsafeUnwrap().requests.map((r) => r.method), ["PUT"]);
  assertEquals(findList(second._unsafeUnwrap().value, "friends")?.items.length, 2);
  assertEquals(methods, ["GET", "PUT", "GET", "PUT"]);
  const updated = await updateDocument(client, RESOURCE_LISTS, (lists) => lists);
  assertEquals(updated._unsafeUnwrap().changed, false);
});
