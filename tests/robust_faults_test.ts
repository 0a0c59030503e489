// Fault injection: long read-modify-write runs against the embedded server (Digest auth on)
// through an executor that fails a fraction of requests, before or after the server carried them
// out. Nothing may be written twice, nothing lost, and every failure must be a value.
//
// Three writers: addEntry() (src/usages/update.ts: read, change, conditional write, re-read on 412), and
// two loops that drive XCAPClient by hand: GET, change, PUT with If-Match; and idempotent element
// PUTs. After an outcome that leaves the write in doubt (network error, timeout, 5xx) each of them
// reads again (addEntry: is called again) before writing again.
import { assert, assertEquals } from "@std/assert";
import { okAsync, type ResultAsync } from "npm:neverthrow@^8.2.0";
import { createFetchExecutor, XCAPClient, type XcapError } from "../mod.ts";
import { addEntry } from "../src/usages/mod.ts";
import { isXcapError } from "../src/client/response.ts";
import {
  type DocumentKey,
  type DocumentStore,
  type DocumentStoreError,
  MemoryStore,
  startXcapServer,
  type StoredDocument,
  type WriteOptions,
} from "../src/server/mod.ts";
import { BASE_SEED, type FaultStats, RUN_FACTOR, withFaults } from "./_faults.ts";

const RL = "urn:ietf:params:xml:ns:resource-lists";
const ALICE = "sip:alice@example.com";
const PASSWORD = "faults-pw";
const EMPTY = `<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="${RL}">
  <list name="l">
  </list>
</resource-lists>
`;

/** A store that logs every document text it accepted, in order. */
class LoggingStore implements DocumentStore {
  readonly #inner = new MemoryStore();
  readonly written: string[] = [];

  get(key: DocumentKey): ResultAsync<StoredDocument | undefined, DocumentStoreError> {
    return this.#inner.get(key);
  }

  put(
    key: DocumentKey,
    text: string,
    options?: WriteOptions,
  ): ResultAsync<StoredDocument, DocumentStoreError> {
    return this.#inner.put(key, text, options).andThen((stored) => {
      this.written.push(stored.text);
      return okAsync(stored);
    });
  }

  delete(key: DocumentKey, options?: WriteOptions): ResultAsync<boolean, DocumentStoreError> {
    return this.#inner.delete(key, options);
  }
}

function entriesOf(text: string): string[] {
  return [...text.matchAll(/<entry uri="([^"]*)"/g)].map((m) => m[1]!);
}

/** Count every error by tag; anything that is not a typed XcapError fails the test. */
function recordError(errors: Map<string, number>, error: unknown): XcapError {
  assert(isXcapError(error), `not a typed error: ${String(error)}`);
  errors.set(error._tag, (errors.get(error._tag) ?? 0) + 1);
  return error;
}

/** An outcome that leaves it open whether the server carried the request out. */
function inDoubt(error: XcapError): boolean {
  return error._tag === "NetworkError" || error._tag === "Timeout" ||
    (error._tag === "HttpError" && error.status >= 500);
}

interface RunResult {
  stats: FaultStats;
  errors: Map<string, number>;
  store: LoggingStore;
  finalText: string;
  intents: string[];
}

async function faultyRun(
  mode: "document" | "element" | "update",
  options: { writers: number; perWriter: number; rate: number; seed: number },
): Promise<RunResult> {
  const store = new LoggingStore();
  const server = (await startXcapServer({ store, users: { [ALICE]: PASSWORD } }))._unsafeUnwrap();
  const errors = new Map<string, number>();
  const faults = withFaults(createFetchExecutor({ timeoutMs: 10_000 }), {
    rate: options.rate,
    seed: options.seed,
  });
  try {
    const setup = new XCAPClient(server.xcapRoot, ALICE, { password: PASSWORD });
    assert((await setup.put("resource-lists", EMPTY)).isOk());
    const intents: string[] = [];

    // Adds `uri` by a whole-document read-modify-write with If-Match.
    const addToDocument = async (client: XCAPClient, uri: string) => {
      for (let attempt = 0; attempt < 500; attempt++) {
        const got = await client.get("resource-lists");
        if (got.isErr()) {
          const error = recordError(errors, got.error);
          assert(inDoubt(error), `GET failed with ${error.message}`);
          continue;
        }
        // Already there: an earlier PUT landed although its answer was lost.
        if (entriesOf(got.value.body).includes(uri)) return;
        assert(got.value.etag !== undefined, "a 200 without ETag");
        const next = got.value.body.replace("  </list>", `    <entry uri="${uri}"/>\n  </list>`);
        const put = await client.put("resource-lists", next, undefined, { etag: got.value.etag });
        if (put.isOk()) return;
        const error = recordError(errors, put.error);
        // 412: another writer got there first; in doubt: read again. Anything else (a 409
        // would mean a duplicate) is a failure of the protocol.
        assert(error._tag === "PreconditionFailed" || inDoubt(error), error.message);
      }
      throw new Error(`gave up adding ${uri}`);
    };

    // Adds `uri` with an element PUT: idempotent, so a write in doubt is simply sent again.
    const addElement = async (client: XCAPClient, uri: string) => {
      for (let attempt = 0; attempt < 500; attempt++) {
        const put = await client.put(
          "resource-lists",
          `<entry uri="${uri}"/>`,
          `/resource-lists/list[@name="l"]/entry[@uri="${uri}"]`,
        );
        if (put.isOk()) return;
        const error = recordError(errors, put.error);
        assert(inDoubt(error), error.message);
      }
      throw new Error(`gave up adding ${uri}`);
    };

    // addEntry(): a failure in doubt is answered by calling it again; the change is convergent,
    // so a second call after a write that did land changes nothing.
    const addWithUpdate = async (client: XCAPClient, uri: string) => {
      for (let attempt = 0; attempt < 500; attempt++) {
        const added = await addEntry(client, { list: "l", uri }, {
          backoff: { initialMs: 1, maxMs: 20 },
        });
        if (added.isOk()) return;
        const error = recordError(errors, added.error);
        assert(error._tag === "PreconditionFailed" || inDoubt(error), error.message);
      }
      throw new Error(`gave up adding ${uri}`);
    };

    await Promise.all(
      Array.from({ length: options.writers }, async (_, w) => {
        // Each writer its own client, so each has its own Digest session over the faulty wire.
        const client = new XCAPClient(server.xcapRoot, ALICE, {
          password: PASSWORD,
          executor: faults.executor,
        });
        for (let i = 0; i < options.perWriter; i++) {
          const uri = `sip:w${w}-${i}@example.com`;
          intents.push(uri);
          const add = mode === "document"
            ? addToDocument
            : mode === "element"
            ? addElement
            : addWithUpdate;
          await add(client, uri);
        }
      }),
    );
    const final = await setup.get("resource-lists");
    assert(final.isOk());
    return { stats: faults.stats, errors, store, finalText: final.value.body, intents };
  } finally {
    await server.close();
  }
}

function checkRun(name: string, run: RunResult): void {
  const { stats, errors, store, finalText, intents } = run;
  // Nothing lost: every intent is in the final document...
  const final = entriesOf(finalText);
  const missing = intents.filter((uri) => !final.includes(uri));
  // ...nothing written twice: each appears once there, and was added by exactly one stored write
  // and never removed afterwards.
  const duplicated = final.filter((uri, i) => final.indexOf(uri) !== i);
  const addedBy = new Map<string, number>();
  let previous: string[] = [];
  for (const text of store.written) {
    const now = entriesOf(text);
    for (const uri of now) {
      if (!previous.includes(uri)) addedBy.set(uri, (addedBy.get(uri) ?? 0) + 1);
    }
    for (const uri of previous) assert(now.includes(uri), `${uri} was removed by a later write`);
    previous = now;
  }
  const twice = [...addedBy].filter(([, n]) => n !== 1).map(([uri]) => uri);
  const injected = Object.values(stats.injected).reduce((a, b) => a + b, 0);
  console.log(
    `${name}: ${intents.length} writes, ${stats.requests} requests, ${injected} faults injected ` +
      `${JSON.stringify(stats.injected)}, errors seen ${
        JSON.stringify(Object.fromEntries(errors))
      }, ` +
      `stored writes ${store.written.length}, lost ${missing.length}, written twice ${twice.length}` +
      `, FC_SEED=${BASE_SEED}`,
  );
  assertEquals(missing, [], "writes lost");
  assertEquals(duplicated, [], "entries twice in the document");
  assertEquals(twice, [], "entries added by more than one write");
  assertEquals(final.length, intents.length);
  assertEquals(errors.get("Conflict") ?? 0, 0);
  // The run did meet every kind of fault (unless FC_RUNS made it tiny).
  if (stats.requests >= 200) {
    for (const [kind, n] of Object.entries(stats.injected)) assert(n > 0, `no ${kind} injected`);
  }
}

const WRITERS = 4;
const PER_WRITER = Math.max(5, Math.round(75 * RUN_FACTOR));

Deno.test("XCAPClient read-modify-write with If-Match loses and duplicates nothing under 20% injected faults", async () => {
  const run = await faultyRun("document", {
    writers: WRITERS,
    perWriter: PER_WRITER,
    rate: 0.2,
    seed: BASE_SEED,
  });
  checkRun("document read-modify-write", run);
  // Concurrent writers did collide, and the collisions were 412s.
  assert((run.errors.get("PreconditionFailed") ?? 0) > 0);
});

Deno.test("XCAPClient element PUTs retried after faults land exactly once under 30% injected faults", async () => {
  const run = await faultyRun("element", {
    writers: WRITERS,
    perWriter: PER_WRITER,
    rate: 0.3,
    seed: BASE_SEED + 1,
  });
  checkRun("element PUT retries", run);
});

Deno.test("XCAPClient calls through a faulty executor always resolve to a value", async () => {
  // Every call settles (no rejection, no throw) whatever the fault, 100% of the time.
  const server = (await startXcapServer({ users: { [ALICE]: PASSWORD } }))._unsafeUnwrap();
  try {
    const faults = withFaults(createFetchExecutor(), { rate: 1, seed: BASE_SEED + 2 });
    const client = new XCAPClient(server.xcapRoot, ALICE, {
      password: PASSWORD,
      executor: faults.executor,
    });
    const tags = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const calls = [
        client.get("resource-lists"),
        client.put("resource-lists", EMPTY),
        client.delete("resource-lists", "/resource-lists/list"),
      ];
      for (const result of await Promise.all(calls)) {
        if (result.isErr()) tags.add(recordError(new Map(), result.error)._tag);
      }
    }
    assertEquals([...tags].sort(), ["HttpError", "NetworkError", "Timeout"]);
    assertEquals(
      faults.stats.requests,
      Object.values(faults.stats.injected).reduce((a, b) => a + b),
    );
  } finally {
    await server.close();
  }
});

Deno.test("addEntry() called again after a failure in doubt adds every entry exactly once under 20% injected faults", async () => {
  const run = await faultyRun("update", {
    writers: WRITERS,
    perWriter: PER_WRITER,
    rate: 0.2,
    seed: BASE_SEED + 3,
  });
  checkRun("addEntry() retries", run);
});
