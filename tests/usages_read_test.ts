/**
 * readDocument(): the typed read (issue 12, item 6), and the arguments the everyday operations
 * refuse before sending anything.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import {
  createXcapResourceClient,
  type Executor,
  okAsync,
  type Result,
  XCAPClient,
  type XcapError,
} from "../mod.ts";
import {
  addEntry,
  addList,
  allowWatcher,
  blockWatcher,
  findList,
  PRES_RULES,
  readDocument,
  removeEntry,
  removeList,
  renameEntry,
  renameList,
  RESOURCE_LISTS,
  setWatcherHandling,
} from "../src/usages/mod.ts";
import { startXcapServer } from "../src/server/mod.ts";

const XUI = "sip:alice@example.com";

Deno.test("readDocument() gives the model and its ETag, or the empty model when there is no document", async () => {
  const server = (await startXcapServer())._unsafeUnwrap();
  try {
    const client = new XCAPClient(server.xcapRoot, XUI);
    const absent = (await readDocument(client, RESOURCE_LISTS))._unsafeUnwrap();
    assertEquals(absent.exists, false);
    assertEquals(absent.etag, undefined);
    assertEquals(absent.text, "");
    assertEquals(absent.value, RESOURCE_LISTS.codec.empty({ xui: XUI }));

    const added = (await addEntry(client, { list: "friends", uri: "sip:bob@example.com" }))
      ._unsafeUnwrap();
    const present = (await readDocument(client, RESOURCE_LISTS))._unsafeUnwrap();
    assertEquals(present.exists, true);
    assertEquals(present.etag, added.etag);
    assertEquals(present.text, (await client.get("resource-lists"))._unsafeUnwrap().body);
    assertEquals(findList(present.value, "friends")?.items.length, 1);
    // Another usage, its own default document name (pres-rules: "index"), absent too.
    const rules = (await readDocument(client, PRES_RULES))._unsafeUnwrap();
    assertEquals(rules.exists, false);
    // The ETag read is what a conditional write needs: an unchanged document accepts it.
    const put = await client.put("resource-lists", present.text, { etag: present.etag! });
    assert(put.isOk());
  } finally {
    await server.close();
  }
});

Deno.test("readDocument() keeps other failures as errors: 401, a document that does not parse", async () => {
  const server = (await startXcapServer({ users: { [XUI]: "secret" } }))._unsafeUnwrap();
  try {
    const anonymous = await readDocument(new XCAPClient(server.xcapRoot, XUI), RESOURCE_LISTS);
    assert(anonymous.isErr());
    assertEquals(anonymous.error._tag, "Unauthorized");
  } finally {
    await server.close();
  }
  // A bare executor (the XcapResourceClient interface) that serves something that is not XML.
  const requests: string[] = [];
  const executor: Executor = (request) => {
    requests.push(`${request.method} ${request.url}`);
    return okAsync({
      status: 200,
      headers: new Headers({ etag: '"x1"' }),
      body: "<resource-lists",
      url: request.url,
    });
  };
  const client = createXcapResourceClient(executor, {
    xcapRoot: "http://127.0.0.1:9/xcap-root",
    xui: XUI,
  });
  const broken = await readDocument(client, RESOURCE_LISTS, { filename: "work.xml" });
  assert(broken.isErr());
  assertEquals(broken.error._tag, "MalformedResponse");
  assertStringIncludes(broken.error.message, "resource-lists document work.xml");
  assertEquals(requests, [
    "GET http://127.0.0.1:9/xcap-root/resource-lists/users/sip:alice@example.com/work.xml",
  ]);
  const unusable = await readDocument(client, null as unknown as typeof RESOURCE_LISTS);
  assertEquals(unusable.isErr() && unusable.error._tag, "InvalidArgument");
});

Deno.test("addEntry() and its siblings refuse an empty list name or a non-URI, naming the field", async () => {
  const sent: string[] = [];
  const executor: Executor = (request) => {
    sent.push(request.method);
    return okAsync({ status: 404, headers: new Headers(), body: "", url: request.url });
  };
  const client = createXcapResourceClient(executor, {
    xcapRoot: "http://127.0.0.1:9/xcap-root",
    xui: XUI,
  });
  const bob = "sip:bob@example.com";
  const settle = async <T>(pending: PromiseLike<Result<T, XcapError>>) =>
    (await pending) as Result<unknown, XcapError>;
  const cases: Array<[string, Promise<Result<unknown, XcapError>>, string]> = [
    ["empty list", settle(addEntry(client, { list: "", uri: bob })), "request.list"],
    ["blank list", settle(addEntry(client, { list: "  ", uri: bob })), "request.list"],
    ["empty path", settle(addEntry(client, { list: [], uri: bob })), "request.list"],
    [
      "empty step",
      settle(addEntry(client, { list: ["friends", ""], uri: bob })),
      "request.list[1]",
    ],
    ["empty URI", settle(addEntry(client, { list: "friends", uri: "" })), "request.uri"],
    [
      "no scheme",
      settle(addEntry(client, { list: "friends", uri: "bob@example.com" })),
      "request.uri",
    ],
    [
      "a space",
      settle(addEntry(client, { list: "friends", uri: "sip:bob @example.com" })),
      "request.uri",
    ],
    ["scheme only", settle(addEntry(client, { list: "friends", uri: "sip:" })), "request.uri"],
    ["remove", settle(removeEntry(client, { list: "", uri: bob })), "request.list"],
    [
      "rename",
      settle(renameEntry(client, { list: "f", uri: "", displayName: "B" })),
      "request.uri",
    ],
    ["add list", settle(addList(client, { name: "" })), "request.name"],
    ["add list parent", settle(addList(client, { name: "a", parent: "" })), "request.parent"],
    ["remove list", settle(removeList(client, { list: "" })), "request.list"],
    ["rename list", settle(renameList(client, { list: "friends", name: "" })), "request.name"],
    ["allow", settle(allowWatcher(client, "")), "watcher"],
    ["block", settle(blockWatcher(client, "not a uri")), "watcher"],
    [
      "handling",
      settle(setWatcherHandling(client, { watcher: "", handling: "allow" })),
      "request.watcher",
    ],
    ["no request", settle(addEntry(client, null as never)), "request"],
  ];
  for (const [name, pending, field] of cases) {
    const result = await pending;
    assert(result.isErr(), name);
    assert(result.error._tag === "InvalidArgument", `${name}: ${result.error._tag}`);
    assertEquals(result.error.argument, field, name);
    assertStringIncludes(result.error.message, field, name);
  }
  assertEquals(sent, [], "nothing is sent for a refused argument");
  // Valid arguments still go out: other schemes are URIs too.
  await addEntry(client, { list: ["friends", "work"], uri: "tel:+15551234567" });
  assertEquals(sent[0], "GET");
});
