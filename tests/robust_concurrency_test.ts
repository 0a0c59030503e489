// Concurrency: 16 writers on one document of the embedded server, in memory and on Deno KV (one
// database file shared by two server instances), for a bounded number of rounds. Conditional
// writes (If-Match) either land or get 412; unconditional element writes all land; the final
// document holds every write that landed and nothing else.
//
// Deno KV needs --unstable-kv (deno.json has "unstable": ["kv"]).
import { assert, assertEquals } from "@std/assert";
import { XCAPClient } from "../mod.ts";
import { isXcapError } from "../src/client/response.ts";
import { startXcapServer, type XcapServer } from "../src/server/mod.ts";
import { RUN_FACTOR } from "./_faults.ts";

const RL = "urn:ietf:params:xml:ns:resource-lists";
const XUI = "sip:alice@example.com";
const WRITERS = 16;
const ROUNDS = Math.max(2, Math.round(6 * RUN_FACTOR));
/** Attempts per entry in the retrying variant: far more than 16 writers need. */
const MAX_ATTEMPTS = 200;
const EMPTY = `<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="${RL}">
  <list name="l">
  </list>
</resource-lists>
`;

function entriesOf(text: string): string[] {
  return [...text.matchAll(/<entry uri="([^"]*)"\/>/g)].map((m) => m[1]!);
}

/** Run `body` with the servers of one store setup; every writer uses servers[w % length]. */
async function withServers(
  kind: "memory" | "kv",
  body: (servers: XcapServer[]) => Promise<void>,
): Promise<void> {
  if (kind === "memory") {
    const server = (await startXcapServer())._unsafeUnwrap();
    try {
      await body([server]);
    } finally {
      await server.close();
    }
    return;
  }
  const dir = await Deno.makeTempDir({ prefix: "xcap-robust-kv-" });
  const servers: XcapServer[] = [];
  try {
    // Two instances, two connections to one SQLite file: compare-and-set across instances.
    for (let i = 0; i < 2; i++) {
      servers.push((await startXcapServer({ kvPath: `${dir}/xcap.sqlite` }))._unsafeUnwrap());
    }
    await body(servers);
  } finally {
    for (const server of servers) await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Each writer adds its entries by GET then PUT with If-Match. `once`: one attempt per entry (a
 * 412 leaves it out); `retry`: a 412 is followed by a fresh read, up to a bound, until it lands.
 */
async function conditionalWriters(kind: "memory" | "kv", mode: "once" | "retry"): Promise<void> {
  await withServers(kind, async (servers) => {
    const clients = servers.map((s) => new XCAPClient(s.xcapRoot, XUI));
    assert((await clients[0]!.put("resource-lists", EMPTY)).isOk());
    const landed: string[] = [];
    const refused: string[] = [];
    const other: string[] = [];
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        const client = clients[w % clients.length]!;
        for (let round = 0; round < ROUNDS; round++) {
          const uri = `sip:w${w}-r${round}@example.com`;
          for (let attempt = 0; attempt < (mode === "once" ? 1 : MAX_ATTEMPTS); attempt++) {
            const got = await client.get("resource-lists");
            if (got.isErr()) {
              other.push(`GET: ${got.error.message}`);
              break;
            }
            const next = got.value.body.replace(
              "  </list>",
              `    <entry uri="${uri}"/>\n  </list>`,
            );
            const put = await client.put("resource-lists", next, undefined, {
              ...(got.value.etag === undefined ? {} : { etag: got.value.etag }),
            });
            if (put.isOk()) {
              landed.push(uri);
              break;
            }
            if (put.error._tag !== "PreconditionFailed") {
              other.push(`PUT: ${isXcapError(put.error) ? put.error.message : put.error}`);
              break;
            }
            refused.push(uri);
          }
        }
      }),
    );
    const final = await clients[clients.length - 1]!.get("resource-lists");
    assert(final.isOk());
    const entries = entriesOf(final.value.body);
    console.log(
      `${kind}, If-Match (${mode}): ${WRITERS} writers x ${ROUNDS} rounds: ${landed.length} landed, ` +
        `${refused.length} got 412, ${other.length} other`,
    );
    assertEquals(other, [], "every write lands or gets 412");
    assertEquals(
      entries.sort(),
      [...landed].sort(),
      "the document holds exactly the landed writes",
    );
    assert(landed.length >= ROUNDS, "too few writes landed");
    assert(refused.length > 0, "the writers never collided");
    // Retried until it landed, every writer's every entry is in.
    if (mode === "retry") assertEquals(landed.length, WRITERS * ROUNDS);
  });
}

async function unconditionalWriters(kind: "memory" | "kv"): Promise<void> {
  await withServers(kind, async (servers) => {
    const clients = servers.map((s) => new XCAPClient(s.xcapRoot, XUI));
    assert((await clients[0]!.put("resource-lists", EMPTY)).isOk());
    const landed: string[] = [];
    const other: string[] = [];
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        const client = clients[w % clients.length]!;
        for (let round = 0; round < ROUNDS; round++) {
          const uri = `sip:w${w}-r${round}@example.com`;
          const put = await client.put(
            "resource-lists",
            `<entry uri="${uri}"/>`,
            `/resource-lists/list[@name="l"]/entry[@uri="${uri}"]`,
          );
          if (put.isOk()) landed.push(uri);
          else other.push(`${put.error._tag}: ${put.error.message}`);
        }
      }),
    );
    const final = await clients[0]!.get("resource-lists");
    assert(final.isOk());
    const entries = entriesOf(final.value.body);
    console.log(
      `${kind}, unconditional element PUTs: ${WRITERS} writers x ${ROUNDS} rounds: ` +
        `${landed.length} landed, ${other.length} refused`,
    );
    // Without preconditions the server re-applies each write to the newest version.
    assertEquals(other, []);
    assertEquals(landed.length, WRITERS * ROUNDS);
    assertEquals(entries.sort(), [...landed].sort());
  });
}

Deno.test("embedded server, memory store: 16 concurrent If-Match writers each land or get 412, none lost", async () => {
  await conditionalWriters("memory", "once");
});

Deno.test("embedded server, Deno KV shared by two instances: 16 concurrent If-Match writers each land or get 412, none lost", async () => {
  await conditionalWriters("kv", "once");
});

Deno.test("embedded server, memory store: 16 If-Match writers that retry after 412 all land, none lost", async () => {
  await conditionalWriters("memory", "retry");
});

Deno.test("embedded server, Deno KV shared by two instances: 16 If-Match writers that retry after 412 all land, none lost", async () => {
  await conditionalWriters("kv", "retry");
});

Deno.test("embedded server, memory store: 16 concurrent unconditional element PUTs all land", async () => {
  await unconditionalWriters("memory");
});

Deno.test("embedded server, Deno KV shared by two instances: 16 concurrent unconditional element PUTs all land", async () => {
  await unconditionalWriters("kv");
});

Deno.test("embedded server with Digest: 16 concurrent writers sharing one authenticated XCAPClient all land", async () => {
  // One client, so one Digest session: concurrent requests draw their own nonce counts, and the
  // server, which refuses a replayed count, accepts every one of them.
  const server = (await startXcapServer({ users: { [XUI]: "pw" } }))._unsafeUnwrap();
  try {
    const client = new XCAPClient(server.xcapRoot, XUI, { password: "pw" });
    assert((await client.put("resource-lists", EMPTY)).isOk());
    const outcomes = await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        const results = [];
        for (let round = 0; round < ROUNDS; round++) {
          const uri = `sip:w${w}-r${round}@example.com`;
          const put = await client.put(
            "resource-lists",
            `<entry uri="${uri}"/>`,
            `/resource-lists/list[@name="l"]/entry[@uri="${uri}"]`,
          );
          results.push(put.isOk() ? "ok" : `${put.error._tag}: ${put.error.message}`);
        }
        return results;
      }),
    );
    assertEquals(outcomes.flat().filter((o) => o !== "ok"), []);
    const final = await client.get("resource-lists");
    assert(final.isOk());
    assertEquals(entriesOf(final.value.body).length, WRITERS * ROUNDS);
  } finally {
    await server.close();
  }
});
