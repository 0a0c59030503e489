/**
 * Several server processes (`serve.ts --postgres URL`, real subprocesses) on one PostgreSQL
 * database under read-modify-write load: 16 writers add entries to one shared document through 3
 * servers, with If-Match, re-reading on 412. Then the same with faults: a server killed with
 * SIGKILL while writers are mid-request, and PostgreSQL stopped (as by a crash, and cleanly) and
 * started again three times mid-run. Every acknowledged entry must be in the document exactly once, no entry twice; while
 * the database is down the servers answer 503 with Retry-After, and they recover by themselves.
 */
import { assert, assertEquals } from "@std/assert";
import { type ServerProcess, spawnServer } from "./_server_process.ts";
import { type PostgresCluster, postgresSuite } from "./_postgres.ts";

const suite = postgresSuite();
const WRITERS = 16;
const WRITES_PER_WRITER = 8;
const PATH = "/resource-lists/users/sip:shared@example.com/index";
const EMPTY = '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">\n<list name="all">\n</list>\n' +
  "</resource-lists>\n";
/** A request that takes longer than this is a hang, which is a bug. */
const REQUEST_TIMEOUT_MS = 60_000;
/** Attempts for one entry before the test gives up (412s, 503s, dead servers). */
const MAX_ATTEMPTS = 2_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the writers saw. */
interface Outcome {
  /** Entries whose PUT was answered 2xx. */
  readonly acknowledged: Set<string>;
  /** Entries whose PUT got no answer (server killed, 503 after a lost connection) but that a later read found in place. */
  readonly landedUnacknowledged: Set<string>;
  statuses: Record<string, number>;
  /** 503 answers without a Retry-After header. */
  unavailableWithoutRetryAfter: number;
}

function count(outcome: Outcome, what: string): void {
  outcome.statuses[what] = (outcome.statuses[what] ?? 0) + 1;
}

async function request(url: string, init: RequestInit = {}): Promise<Response | undefined> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (e) {
    if (e instanceof DOMException && e.name === "TimeoutError") {
      throw new Error(`${init.method ?? "GET"} ${url} hung for ${REQUEST_TIMEOUT_MS} ms`);
    }
    return undefined; // connection refused or reset: the server is gone
  }
}

/** One writer: add its entries one by one, read-modify-write with If-Match. */
async function writer(
  id: number,
  roots: () => readonly string[],
  outcome: Outcome,
): Promise<void> {
  for (let i = 0; i < WRITES_PER_WRITER; i++) {
    const uri = `sip:w${id}-${i}@example.com`;
    let done = false;
    for (let attempt = 0; !done; attempt++) {
      if (attempt >= MAX_ATTEMPTS) throw new Error(`writer ${id} gave up on ${uri}`);
      const live = roots();
      const root = live[(id + attempt) % live.length]!;
      const read = await request(`${root}${PATH}`);
      if (read === undefined) {
        count(outcome, "GET network error");
        continue;
      }
      const text = read.status === 200 ? await read.text() : (await read.body?.cancel(), "");
      count(outcome, `GET ${read.status}`);
      if (read.status === 503) {
        if (read.headers.get("retry-after") === null) outcome.unavailableWithoutRetryAfter++;
        await sleep(100 + Math.random() * 200);
        continue;
      }
      if (read.status !== 200) throw new Error(`GET answered ${read.status}`);
      if (text.includes(`"${uri}"`)) {
        // An earlier PUT whose answer was lost did land: adding it again would write it twice.
        outcome.landedUnacknowledged.add(uri);
        done = true;
        break;
      }
      const changed = text.replace("</list>", `<entry uri="${uri}"/>\n</list>`);
      const put = await request(`${root}${PATH}`, {
        method: "PUT",
        headers: {
          "content-type": "application/resource-lists+xml",
          "if-match": read.headers.get("etag")!,
        },
        body: changed,
      });
      if (put === undefined) {
        count(outcome, "PUT network error");
        continue;
      }
      await put.body?.cancel();
      count(outcome, `PUT ${put.status}`);
      if (put.status === 200) {
        outcome.acknowledged.add(uri);
        done = true;
      } else if (put.status === 412) {
        await sleep(Math.random() * 20);
      } else if (put.status === 503) {
        if (put.headers.get("retry-after") === null) outcome.unavailableWithoutRetryAfter++;
        await sleep(100 + Math.random() * 200);
      } else {
        throw new Error(`PUT answered ${put.status}`);
      }
    }
  }
}

/** Start `n` servers on the database and create the shared document through the first. */
async function startServers(url: string, n: number): Promise<ServerProcess[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => spawnServer({ args: ["--postgres", url] })),
  );
  const created = await fetch(`${servers[0]!.xcapRoot}${PATH}`, {
    method: "PUT",
    headers: { "content-type": "application/resource-lists+xml", "if-none-match": "*" },
    body: EMPTY,
  });
  await created.body?.cancel();
  assertEquals(created.status, 201);
  return servers;
}

/** The final document's entries: each acknowledged one present, none twice. */
async function checkEntries(root: string, outcome: Outcome): Promise<void> {
  const response = await fetch(`${root}${PATH}`);
  assertEquals(response.status, 200);
  const uris = [...(await response.text()).matchAll(/<entry uri="([^"]+)"\/>/g)].map((m) => m[1]!);
  const seen = new Set<string>();
  const twice = uris.filter((u) => seen.has(u) || !seen.add(u));
  assertEquals(twice, [], "entries written twice");
  const lost = [...outcome.acknowledged].filter((u) => !seen.has(u));
  assertEquals(lost, [], "acknowledged entries lost");
  for (const u of outcome.landedUnacknowledged) assert(seen.has(u), `${u} vanished`);
  assertEquals(seen.size, WRITERS * WRITES_PER_WRITER);
}

function newOutcome(): Outcome {
  return {
    acknowledged: new Set(),
    landedUnacknowledged: new Set(),
    statuses: {},
    unavailableWithoutRetryAfter: 0,
  };
}

async function stopAll(servers: readonly ServerProcess[]): Promise<void> {
  await Promise.all(servers.map((s) => s.stop()));
}

suite.test("16 read-modify-write writers on 3 server processes lose nothing and repeat nothing", async (pg: PostgresCluster) => {
  const url = await pg.createDatabase();
  const servers = await startServers(url, 3);
  try {
    const outcome = newOutcome();
    const roots = servers.map((s) => s.xcapRoot);
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w, () => roots, outcome)));
    console.log("statuses:", JSON.stringify(outcome.statuses));
    assertEquals(outcome.acknowledged.size, WRITERS * WRITES_PER_WRITER);
    for (const server of servers) await checkEntries(server.xcapRoot, outcome);
    assert((outcome.statuses["PUT 412"] ?? 0) > 0, "the writers never competed");
  } finally {
    await stopAll(servers);
  }
});

suite.test("A server killed mid-write and a PostgreSQL crash and restart lose nothing acknowledged", async (pg: PostgresCluster) => {
  const url = await pg.createDatabase();
  const servers = await startServers(url, 3);
  const outcome = newOutcome();
  const live = servers.map((s) => s.xcapRoot);
  const total = WRITERS * WRITES_PER_WRITER;
  const progress = () => outcome.acknowledged.size + outcome.landedUnacknowledged.size;
  const untilProgress = async (share: number) => {
    while (progress() < total * share) await sleep(20);
  };
  try {
    const writing = Promise.all(
      Array.from({ length: WRITERS }, (_, w) => writer(w, () => live, outcome)),
    );
    const faults = (async () => {
      // SIGKILL while writers are in the middle of requests on it; a new process takes its place.
      await untilProgress(0.2);
      const victim = servers[0]!;
      victim.kill("SIGKILL");
      live.splice(live.indexOf(victim.xcapRoot), 1);
      assert((await victim.exited(30_000)) !== undefined, "the killed server did not exit");
      const replacement = await spawnServer({ args: ["--postgres", url] });
      servers.push(replacement);
      live.push(replacement.xcapRoot);

      // PostgreSQL stops with writes in flight, three times: as in a crash (no shutdown
      // checkpoint), then cleanly, then as a crash again. (Postgres.js 3.4 crashed the server
      // process here: a query sent on a connection that had closed inside a transaction.)
      for (
        const [share, mode] of [[0.4, "immediate"], [0.6, "fast"], [0.8, "immediate"]] as const
      ) {
        await untilProgress(share);
        await pg.stop(mode);
        try {
          for (const root of live) {
            const response = await request(`${root}${PATH}`);
            assertEquals(response?.status, 503, `${root} while PostgreSQL is down`);
            assertEquals(response?.headers.get("retry-after"), "2");
            await response?.body?.cancel();
          }
          await sleep(1_000);
        } finally {
          await pg.start();
        }
      }
    })();
    await Promise.all([writing, faults]);
    console.log("statuses:", JSON.stringify(outcome.statuses));

    // The servers that were never restarted came back by themselves, and agree.
    for (const server of servers.slice(1)) {
      assert(server.alive(), `server ${server.pid} died: ${server.stderr()}`);
      await checkEntries(server.xcapRoot, outcome);
    }
    assertEquals(outcome.unavailableWithoutRetryAfter, 0);
  } finally {
    await stopAll(servers);
  }
});
