/**
 * Soak: connections held (issue 10, item 1), too long for CI. `deno task soak connections`.
 *
 * 1. `wrk -c 1100` for 30 s against `xcap-caps/global/index` on a server under `ulimit -n 1024`
 *    (the permissions of `deno task serve`, so the server learns its limit from the first EMFILE):
 *    the server stays up, serves the connections it holds, sheds the rest, serves a new client
 *    afterwards, and its descriptors come back to where they started.
 * 2. ~20,000 idle connections (opened by two helper processes, 10,000 each, that send nothing or
 *    a head fragment) against a server at the machine's default open-file limit, once with the
 *    permissions of `deno task serve` and once with `--allow-all` (the limit read from
 *    /proc/self/limits): how many are held and shed, RSS and descriptors while held, and the
 *    server closing them itself at its header timeout (30 s by default), back to its baseline.
 *
 * 3. SIGTERM (issue 10, item 8) with 1,000 idle keep-alive connections, 10 uploads still sending
 *    their bodies a byte every 100 ms and 10 stalled ones: idle connections closed at once, the
 *    uploads answered, the stalled ones cut at the default 10 s deadline, exit code 0.
 *
 * Prints its figures; exits 1 when a bound fails. Needs `wrk` (Debian package `wrk`).
 *
 * @module
 */
import { type ServerProcess, spawnServer } from "../_server_process.ts";
import { RawConnection } from "../_raw_http.ts";

const CAPS = "/xcap-root/xcap-caps/global/index";
const SELF = new URL(import.meta.url).pathname;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const failures: string[] = [];

function check(ok: boolean, what: string): void {
  console.log(`  ${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Open `count` connections to `port`, send `payload` on each, hold them until stdin closes. */
async function holdMode(port: number, count: number, payload: string): Promise<void> {
  const conns: Deno.Conn[] = [];
  let failed = 0;
  const bytes = new TextEncoder().encode(payload);
  for (let i = 0; i < count; i++) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conns.push(conn);
      if (bytes.length > 0) conn.write(bytes).catch(() => {});
    } catch {
      failed++;
    }
  }
  // Count those the server closes (shed, or timed out) by reading each until its end.
  let closed = 0;
  for (const conn of conns) {
    (async () => {
      const buffer = new Uint8Array(1024);
      try {
        while ((await conn.read(buffer)) !== null) { /* discard */ }
      } catch {
        // Reset.
      }
      closed++;
    })();
  }
  console.log(JSON.stringify({ opened: conns.length, failed }));
  // Report how many the server has closed every 500 ms, until stdin closes.
  const timer = setInterval(() => console.log(JSON.stringify({ closed })), 500);
  for await (const _ of Deno.stdin.readable) { /* wait for EOF */ }
  clearInterval(timer);
  for (const conn of conns) {
    try {
      conn.close();
    } catch {
      // Closed by the server.
    }
  }
  Deno.exit(0);
}

/** A helper process holding connections; `closed()` is how many the server closed so far. */
async function startHolder(port: number, count: number, payload: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", SELF, "--hold", String(port), String(count), payload],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  let opened = 0;
  let failed = 0;
  let closed = 0;
  const { promise: ready, resolve } = Promise.withResolvers<void>();
  (async () => {
    for (;;) {
      const { done, value } = await lines.read();
      if (done) return;
      buffered += value;
      let nl;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const message = JSON.parse(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        if ("opened" in message) {
          opened = message.opened;
          failed = message.failed;
          resolve();
        } else closed = message.closed;
      }
    }
  })();
  await ready;
  return {
    opened: () => opened,
    failed: () => failed,
    closed: () => closed,
    async release() {
      await child.stdin.close();
      await child.status;
    },
  };
}

async function servedNow(server: ServerProcess): Promise<boolean> {
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    try {
      const c = await RawConnection.open(server.port);
      try {
        await c.send(`GET ${CAPS} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
        if ((await c.response())?.status === 200) return true;
      } finally {
        c.close();
      }
    } catch {
      // Shed or refused: try again.
    }
    await sleep(200);
  }
  return false;
}

async function waitFor(check: () => boolean, ms: number): Promise<number | undefined> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (check()) return Date.now() - start;
    await sleep(250);
  }
  return check() ? Date.now() - start : undefined;
}

async function wrkFlood(): Promise<void> {
  console.log("\n## wrk -c 1100 -d 30s at ulimit -n 1024 (task permissions)");
  const server = await spawnServer({ maxOpenFiles: 1024 });
  try {
    const baseline = server.openFds();
    let peakFds = baseline;
    const sampler = setInterval(() => {
      if (server.alive()) peakFds = Math.max(peakFds, server.openFds());
    }, 500);
    const out = await new Deno.Command("wrk", {
      args: [
        "-t",
        "2",
        "-c",
        "1100",
        "-d",
        "30s",
        "--timeout",
        "5s",
        `${server.xcapRoot}/xcap-caps/global/index`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    clearInterval(sampler);
    const text = new TextDecoder().decode(out.stdout);
    const rps = /Requests\/sec:\s+([\d.]+)/.exec(text)?.[1];
    const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? "0";
    const errors = /Socket errors: (.*)/.exec(text)?.[1] ?? "none";
    const total = /(\d+) requests in/.exec(text)?.[1];
    console.log(
      `  wrk: ${total} requests, ${rps} requests/s, ${non2xx} non-2xx (shed 503s), socket errors: ${errors}`,
    );
    console.log(
      `  server: descriptors ${baseline} before, peak ${peakFds} (sampled every 0.5 s), RSS peak ${
        mib(server.peakRssBytes())
      }`,
    );
    check(server.alive(), "the server is alive after 30 s of wrk -c 1100");
    check(out.success && Number(rps) > 0, "wrk got answers");
    check(await servedNow(server), "a new client is served afterwards");
    const back = await waitFor(() => server.openFds() <= baseline + 2, 15_000);
    check(back !== undefined, `descriptors back to ${baseline} (now ${server.openFds()})`);
    const learned = /serving at most (\d+) connections/.exec(server.stderr())?.[1];
    console.log(`  limit learned from EMFILE: ${learned ?? "none reported"}`);
  } finally {
    await server.stop();
  }
}

async function idleFlood(label: string, denoFlags: string[]): Promise<void> {
  console.log(`\n## ~20,000 idle connections at the default open-file limit (${label})`);
  const limit = new TextDecoder().decode(
    (await new Deno.Command("sh", { args: ["-c", "ulimit -n"], stdout: "piped" }).output()).stdout,
  ).trim();
  console.log(`  open-file limit: ${limit}`);
  const server = await spawnServer({ denoFlags });
  try {
    await sleep(500);
    const baseline = server.openFds();
    const rssBefore = server.rssBytes();
    const started = Date.now();
    // Half send nothing, half a head fragment (the 1,100-connection case of the issue).
    const holders = [
      await startHolder(server.port, 10_000, ""),
      await startHolder(server.port, 10_000, "GET / HTTP/1.1\r\n"),
    ];
    const opened = holders.reduce((n, h) => n + h.opened(), 0);
    const failedToOpen = holders.reduce((n, h) => n + h.failed(), 0);
    // The helpers report what the server closed every 0.5 s: let the sheds arrive.
    await sleep(2_000);
    const shed = holders.reduce((n, h) => n + h.closed(), 0);
    const fds = server.openFds();
    const rss = server.rssBytes();
    const held = opened - shed;
    console.log(
      `  opened ${opened} (${failedToOpen} failed to connect) in ${
        ((Date.now() - started) / 1000).toFixed(1)
      } s; ` +
        `held ${held}, shed ${shed}`,
    );
    console.log(
      `  server: descriptors ${baseline} -> ${fds}; RSS ${mib(rssBefore)} -> ${mib(rss)} ` +
        `(${
          held > 0 ? ((rss - rssBefore) / held / 1024).toFixed(1) : "-"
        } KiB per held connection)`,
    );
    check(server.alive(), "the server is alive with ~20,000 connections");
    check(held > 0, "it holds connections");
    check(
      (rss - rssBefore) / Math.max(1, held) < 64 * 1024,
      "under 64 KiB of RSS per held connection",
    );
    // Nothing finishes a head: the header timeout (30 s by default) closes them all.
    const closedAfter = await waitFor(
      () => holders.reduce((n, h) => n + h.closed(), 0) >= opened,
      90_000,
    );
    console.log(
      `  all closed by the server ${
        closedAfter === undefined
          ? "NOT within 90 s"
          : `${((Date.now() - started) / 1000).toFixed(1)} s after the first was opened`
      }`,
    );
    check(closedAfter !== undefined, "the header timeout closed every idle connection");
    const back = await waitFor(() => server.openFds() <= baseline + 2, 15_000);
    check(back !== undefined, `descriptors back to ${baseline} (now ${server.openFds()})`);
    console.log(`  RSS after: ${mib(server.rssBytes())}, peak ${mib(server.peakRssBytes())}`);
    check(await servedNow(server), "a new client is served afterwards");
    for (const holder of holders) await holder.release();
  } finally {
    await server.stop();
  }
}

async function shutdown(): Promise<void> {
  console.log(
    "\n## SIGTERM with 1,000 idle keep-alive connections, 10 uploads finishing slowly and 10 " +
      "stalled (default deadline, 10 s)",
  );
  const server = await spawnServer();
  const doc = `<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list name="a"/>` +
    "</resource-lists>";
  const put = (i: number) =>
    `PUT /xcap-root/resource-lists/users/sip:u${i}@example.com/index HTTP/1.1\r\nHost: a\r\n` +
    `Content-Type: application/resource-lists+xml\r\nContent-Length: ${doc.length}\r\n\r\n` +
    doc.slice(0, 20);
  const idle: RawConnection[] = [];
  const finishing: RawConnection[] = [];
  const stalled: RawConnection[] = [];
  try {
    for (let i = 0; i < 1_000; i++) {
      const c = await RawConnection.open(server.port);
      await c.send(`GET ${CAPS} HTTP/1.1\r\nHost: a\r\n\r\n`);
      if ((await c.response())?.status === 200) idle.push(c);
    }
    for (let i = 0; i < 20; i++) {
      const c = await RawConnection.open(server.port);
      await c.send(put(i));
      (i < 10 ? finishing : stalled).push(c);
    }
    await sleep(500);
    const started = performance.now();
    server.kill("SIGTERM");
    const idleClosed = Promise.all(idle.map((c) => c.closed(30_000))).then((all) => ({
      all: all.every(Boolean),
      ms: performance.now() - started,
    }));
    // The finishing uploads send the rest a byte every 100 ms (about 6 s).
    const answers = Promise.all(finishing.map(async (c) => {
      for (const ch of doc.slice(20)) {
        await c.send(ch);
        await sleep(100);
      }
      return await c.response();
    }));
    const stalledClosed = Promise.all(stalled.map((c) => c.closed(30_000)));
    const status = await server.exited(30_000);
    const exitMs = performance.now() - started;
    const idleResult = await idleClosed;
    const finished = await answers;
    const cut = await stalledClosed;
    console.log(
      `  idle connections closed ${(idleResult.ms / 1000).toFixed(2)} s after SIGTERM; ` +
        `process exited with ${status?.code} ${(exitMs / 1000).toFixed(2)} s after SIGTERM`,
    );
    console.log(
      `  slow uploads answered: ${finished.map((r) => r?.status ?? "none").join(",")} ` +
        `(Connection: ${finished[0]?.header("connection")}); stalled ones cut: ${
          cut.filter(Boolean).length
        }/10`,
    );
    check(idleResult.all && idleResult.ms < 2_000, "idle connections closed at once");
    check(finished.every((r) => r?.status === 201), "uploads in flight finished (201)");
    check(status?.code === 0, "exit code 0");
    check(exitMs >= 9_500 && exitMs < 13_000, "exit at the 10 s deadline (the stalled uploads)");
    check(cut.every(Boolean), "stalled uploads cut at the deadline");
  } finally {
    for (const c of [...idle, ...finishing, ...stalled]) c.close();
    await server.stop();
  }
}

if (Deno.args[0] === "--hold") {
  await holdMode(Number(Deno.args[1]), Number(Deno.args[2]), Deno.args[3] ?? "");
} else {
  await wrkFlood();
  await idleFlood("deno task serve's permissions: limit learned from EMFILE", []);
  await idleFlood("--allow-all: limit read from /proc/self/limits", ["--allow-all"]);
  await shutdown();
  console.log(
    failures.length === 0
      ? "\nconnections soak: all bounds held"
      : `\nFAILED: ${failures.join("; ")}`,
  );
  Deno.exit(failures.length === 0 ? 0 : 1);
}
