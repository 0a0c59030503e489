// Issue 10, items 1 and 8: the server process under connection floods (its open-file limit set
// with `ulimit -n`), slow and idle clients, and SIGTERM while a client is still sending. Each test
// drives `deno task serve` as a real process and reads what it costs from /proc (alive, open
// descriptors). Run with --allow-run.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { type ServerProcess, spawnServer } from "./_server_process.ts";
import { RawConnection } from "./_raw_http.ts";
import { startXcapServer } from "../src/server/mod.ts";
import { parseServeArgs } from "../src/server/serve.ts";

const CAPS = "/xcap-root/xcap-caps/global/index";
const DOC_PATH = "/xcap-root/resource-lists/users/sip:alice@example.com/index";
const RL = "urn:ietf:params:xml:ns:resource-lists";
const DOC = `<resource-lists xmlns="${RL}"><list name="friends"/></resource-lists>`;
const FLOOD = 1_100;
const FILE_LIMIT = 1_024;
/** Generous bound for anything the server should do "soon": never a timing assertion. */
const SOON_MS = 15_000;
/** No connection of a flood expires while the flood is still being opened on a slow machine. */
const LONG_TIMEOUTS = ["--header-timeout-ms", "120000", "--keep-alive-timeout-ms", "120000"];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function get(path: string, extra = ""): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;
}

/** Poll `check` every 50 ms until it holds or `ms` pass; whether it held. */
async function eventually(check: () => boolean, ms = SOON_MS): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await sleep(50);
  }
  return check();
}

/** Sample the server's open descriptors while `fn` runs; the largest count seen. */
async function peakFds<T>(server: ServerProcess, fn: () => Promise<T>): Promise<[T, number]> {
  let peak = server.openFds();
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, server.openFds());
    } catch {
      // Exited: the test's liveness check reports it.
    }
  }, 200);
  try {
    return [await fn(), peak];
  } finally {
    clearInterval(sampler);
  }
}

/** Wait until `results` has not changed for `quietMs` (or `ms` passed). */
async function settle(results: readonly unknown[], quietMs = 1_500, ms = SOON_MS): Promise<void> {
  const until = Date.now() + ms;
  let last = JSON.stringify(results);
  let since = Date.now();
  while (Date.now() < until && Date.now() - since < quietMs) {
    await sleep(100);
    const now = JSON.stringify(results);
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

/** Try `attempt` every 100 ms until it succeeds or `ms` pass; whether it did. */
async function retry(attempt: () => Promise<boolean>, ms = SOON_MS): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await attempt()) return true;
    await sleep(100);
  }
  return false;
}

/** A fresh client is served (retried while slots free up after a flood). */
function servedAfterwards(server: ServerProcess): Promise<boolean> {
  return retry(async () => {
    const c = await RawConnection.open(server.port);
    try {
      await c.send(get(CAPS, "Connection: close\r\n"));
      return (await c.response())?.status === 200;
    } catch {
      return false; // Shed or reset: try again.
    } finally {
      c.close();
    }
  });
}

async function flood(
  server: ServerProcess,
  bytes: string,
): Promise<{ conns: RawConnection[]; results: (number | "pending" | "closed")[]; peak: number }> {
  const conns: RawConnection[] = [];
  const results: (number | "pending" | "closed")[] = [];
  const [, peak] = await peakFds(server, async () => {
    for (let i = 0; i < FLOOD; i++) {
      const c = await RawConnection.open(server.port);
      conns.push(c);
      results.push("pending");
      c.send(bytes).catch(() => {});
      c.response().then((r) => results[i] = r?.status ?? "closed", () => results[i] = "closed");
    }
    await settle(results);
  });
  return { conns, results, peak };
}

Deno.test("the server outlives 1,100 connections sending only a head fragment at ulimit -n 1024", async () => {
  // With --allow-all the server reads its open-file limit from /proc/self/limits and never
  // reaches it.
  const server = await spawnServer({ maxOpenFiles: FILE_LIMIT, denoFlags: ["--allow-all"] });
  const baseline = server.openFds();
  let conns: RawConnection[] = [];
  try {
    const flooded = await flood(server, "GET / HTTP/1.1\r\n");
    conns = flooded.conns;
    assert(server.alive(), `the server died: ${server.stderr()}`);
    assert(flooded.peak < FILE_LIMIT, `${flooded.peak} descriptors open`);
    const held = flooded.results.filter((r) => r === "pending").length;
    const shed = flooded.results.filter((r) => r === 503 || r === "closed").length;
    // Past its limit the server sheds (503 or a close) and keeps the rest.
    assertEquals(
      held + shed,
      FLOOD,
      JSON.stringify(flooded.results.filter((r) => r !== "pending")),
    );
    assert(shed >= FLOOD - FILE_LIMIT, `only ${shed} shed`);
    assert(held > 0 && held < FILE_LIMIT);
    for (const c of conns) c.close();
    assert(await servedAfterwards(server), "a new client was not served");
    assert(await eventually(() => server.openFds() <= baseline + 2), `${server.openFds()} fds`);
    assert(server.alive());
  } finally {
    for (const c of conns) c.close();
    await server.stop();
  }
});

Deno.test("the server outlives 1,100 keep-alive clients at ulimit -n 1024 and keeps serving those it holds", async () => {
  // With the permissions of `deno task serve` the limit cannot be read: the server learns it
  // from the first EMFILE. Documents in Deno KV: the store keeps working on a full server.
  const dir = await Deno.makeTempDir({ prefix: "xcap-flood-" });
  const server = await spawnServer({
    maxOpenFiles: FILE_LIMIT,
    args: [...LONG_TIMEOUTS, "--kv", `${dir}/xcap.sqlite`],
  });
  const baseline = server.openFds();
  let conns: RawConnection[] = [];
  try {
    const flooded = await flood(server, get(CAPS));
    conns = flooded.conns;
    assert(server.alive(), `the server died: ${server.stderr()}`);
    const settled = server.openFds();
    assert(settled < FILE_LIMIT, `${settled} descriptors open once settled`);
    const served = flooded.results.flatMap((r, i) => r === 200 ? [i] : []);
    const shed = flooded.results.filter((r) => r === 503 || r === "closed").length;
    assertEquals(served.length + shed, FLOOD, JSON.stringify(flooded.results));
    assert(
      shed >= FLOOD - FILE_LIMIT && served.length > 0,
      `${served.length} served, ${shed} shed`,
    );
    // The connections held are still served: a second request on each.
    const again = await Promise.all(served.map(async (i) => {
      const c = conns[i]!;
      await c.send(get(CAPS));
      return (await c.response())?.status;
    }));
    assertEquals(again.filter((s) => s !== 200), []);
    const writer = conns[served[0]!]!;
    await writer.send(
      `PUT ${DOC_PATH} HTTP/1.1\r\nHost: a\r\nContent-Type: application/resource-lists+xml\r\n` +
        `Content-Length: ${DOC.length}\r\n\r\n${DOC}`,
    );
    assertEquals((await writer.response())?.status, 201);
    for (const c of conns) c.close();
    assert(await servedAfterwards(server), "a new client was not served");
    assert(await eventually(() => server.openFds() <= baseline + 2), `${server.openFds()} fds`);
  } finally {
    for (const c of conns) c.close();
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the server closes connections whose head does not arrive within --header-timeout-ms", async () => {
  const server = await spawnServer({ args: ["--header-timeout-ms", "300"] });
  const baseline = server.openFds();
  const silent = await RawConnection.open(server.port);
  const partial = await RawConnection.open(server.port);
  const trickle = await RawConnection.open(server.port);
  try {
    await partial.send("GET / HTTP/1.1\r\nHost: a\r\n");
    // A slowloris: a byte at a time keeps the connection busy but does not extend the deadline.
    let trickling = true;
    const sending = (async () => {
      for (const ch of get(CAPS, `X-Pad: ${"a".repeat(10_000)}\r\n`)) {
        if (!trickling) return;
        await trickle.send(ch).catch(() => trickling = false);
        await sleep(20);
      }
    })();
    // A head that has begun gets a 408 before the close (when its bytes were read in time).
    const answer = await partial.response();
    assert(answer === undefined || answer.status === 408, answer?.statusLine);
    assert(await partial.closed(SOON_MS), "a half-received head was kept");
    assert(await silent.closed(SOON_MS), "a silent connection was kept");
    assert(await trickle.closed(SOON_MS), "a trickled head was kept");
    trickling = false;
    await sending;
    assert(await eventually(() => server.openFds() <= baseline), `${server.openFds()} fds`);
    assert(server.alive());
  } finally {
    for (const c of [silent, partial, trickle]) c.close();
    await server.stop();
  }
});

Deno.test("the server closes keep-alive connections idle past --keep-alive-timeout-ms, and stalled bodies past --body-timeout-ms", async () => {
  const server = await spawnServer({
    args: ["--keep-alive-timeout-ms", "300", "--body-timeout-ms", "300"],
  });
  const baseline = server.openFds();
  const idle = await RawConnection.open(server.port);
  const stalled = await RawConnection.open(server.port);
  try {
    await idle.send(get(CAPS));
    assertEquals((await idle.response())?.status, 200);
    await stalled.send(
      `PUT ${DOC_PATH} HTTP/1.1\r\nHost: a\r\nContent-Type: application/resource-lists+xml\r\n` +
        `Content-Length: ${DOC.length}\r\n\r\n${DOC.slice(0, 10)}`,
    );
    assert(await idle.closed(SOON_MS), "an idle keep-alive connection was kept");
    assert(await stalled.closed(SOON_MS), "a stalled body was waited for");
    assert(await eventually(() => server.openFds() <= baseline), `${server.openFds()} fds`);
    // Nothing was stored from the stalled body.
    const c = await RawConnection.open(server.port);
    try {
      await c.send(get(DOC_PATH, "Connection: close\r\n"));
      assertEquals((await c.response())?.status, 404);
    } finally {
      c.close();
    }
  } finally {
    idle.close();
    stalled.close();
    await server.stop();
  }
});

Deno.test("SIGTERM stops accepting, closes idle connections, lets a slow upload finish and exits 0", async () => {
  const server = await spawnServer({ args: ["--shutdown-timeout-ms", "60000"] });
  const idle = await RawConnection.open(server.port);
  const upload = await RawConnection.open(server.port);
  try {
    await idle.send(get(CAPS));
    assertEquals((await idle.response())?.status, 200);
    // The 100 (Continue) proves the server is reading this body when the signal comes.
    await upload.send(
      `PUT ${DOC_PATH} HTTP/1.1\r\nHost: a\r\nContent-Type: application/resource-lists+xml\r\n` +
        `Expect: 100-continue\r\nContent-Length: ${DOC.length}\r\n\r\n`,
    );
    assertEquals((await upload.response())?.status, 100);
    await upload.send(DOC.slice(0, 10));
    server.kill("SIGTERM");
    // Shutdown has begun once the idle connection is closed.
    assert(await idle.closed(SOON_MS), "the idle connection was kept");
    const refused = await retry(async () => {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port: server.port })).close();
        return false;
      } catch {
        return true;
      }
    });
    assert(refused, "still accepting after SIGTERM");
    assert(server.alive(), "exited before the upload finished");
    await upload.send(DOC.slice(10));
    const response = await upload.response();
    assertEquals(response?.status, 201);
    assertEquals(response?.header("connection"), "close");
    const status = await server.exited(SOON_MS);
    assertEquals(status?.code, 0, server.stderr());
  } finally {
    idle.close();
    upload.close();
    await server.stop();
  }
});

Deno.test("SIGTERM cuts a stalled upload at --shutdown-timeout-ms and exits 0", async () => {
  const server = await spawnServer({ args: ["--shutdown-timeout-ms", "500"] });
  const upload = await RawConnection.open(server.port);
  try {
    await upload.send(
      `PUT ${DOC_PATH} HTTP/1.1\r\nHost: a\r\nContent-Type: application/resource-lists+xml\r\n` +
        `Content-Length: ${DOC.length}\r\n\r\n${DOC.slice(0, 10)}`,
    );
    await sleep(100);
    server.kill("SIGTERM");
    // The deadline (0.5 s) plus a generous margin for a loaded machine.
    const status = await server.exited(SOON_MS);
    assertEquals(status?.code, 0, server.stderr());
    assert(await upload.closed(SOON_MS));
  } finally {
    upload.close();
    await server.stop();
  }
});

Deno.test("XcapServer.close() waits for a request in flight only until shutdownTimeoutMs", async () => {
  const server = (await startXcapServer({ shutdownTimeoutMs: 200 }))._unsafeUnwrap();
  const upload = await RawConnection.open(server.port);
  try {
    await upload.send(
      `PUT ${DOC_PATH} HTTP/1.1\r\nHost: a\r\nContent-Type: application/resource-lists+xml\r\n` +
        `Content-Length: ${DOC.length}\r\n\r\n${DOC.slice(0, 10)}`,
    );
    await sleep(50);
    // On Deno.serve, close() waited for the stalled upload forever.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const closed = await Promise.race([
      server.close().then(() => true),
      new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), SOON_MS)),
    ]);
    clearTimeout(timer);
    assert(closed, "close() did not return");
    assert(await upload.closed(SOON_MS));
  } finally {
    upload.close();
  }
});

Deno.test("parseServeArgs() reads the connection limit, timeouts and shutdown deadline", () => {
  const command = parseServeArgs([
    "--max-connections",
    "500",
    "--header-timeout-ms=2000",
    "--keep-alive-timeout-ms",
    "1000",
    "--body-timeout-ms",
    "3000",
    "--shutdown-timeout-ms",
    "0",
  ])._unsafeUnwrap();
  assert(command.kind === "serve");
  assertEquals(command.options.maxConnections, 500);
  assertEquals(command.options.headerTimeoutMs, 2000);
  assertEquals(command.options.keepAliveTimeoutMs, 1000);
  assertEquals(command.options.bodyTimeoutMs, 3000);
  assertEquals(command.options.shutdownTimeoutMs, 0);
  for (
    const args of [
      ["--max-connections", "0"],
      ["--max-connections"],
      ["--header-timeout-ms", "-5"],
      ["--keep-alive-timeout-ms", "1.5"],
      ["--body-timeout-ms", "soon"],
      ["--shutdown-timeout-ms", "1e3"],
    ]
  ) {
    const result = parseServeArgs(args);
    assert(result.isErr(), args.join(" "));
    assertEquals(result.error.argument, args[0]);
    assertStringIncludes(result.error.message, "whole number");
  }
  const help = parseServeArgs(["--help"])._unsafeUnwrap();
  assert(help.kind === "help");
  for (const flag of ["--max-connections", "--header-timeout-ms", "--shutdown-timeout-ms"]) {
    assertStringIncludes(help.text, flag);
  }
});
