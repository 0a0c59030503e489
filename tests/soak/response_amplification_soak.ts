/**
 * Response amplification (issue 10, item 12): what a hostile server's response costs a real
 * `xcap` process, and whether its timeout fires on time.
 *
 * ```sh
 * deno task soak response_amplification
 * ```
 *
 * - Peak RSS (`VmHWM`) of `xcap get` for 60,000 one-byte chunks and for a 1 MB gzip body that
 *   inflates to 1 GiB, each next to a small response of its kind (a small document; 1 MiB of
 *   gzip). Bound: at most twice the 16 MiB response limit above that.
 * - `xcap get --timeout 3` against a server that trickles an endless body one byte per
 *   millisecond, and one that floods one-byte chunks: how long after the request the client
 *   closes the connection. Bound: 3.3 s.
 *
 * Exits 1 when a bound fails.
 *
 * @module
 */
import { DEFAULT_MAX_RESPONSE_BYTES } from "../../src/client/executor.ts";
import { cliEnv, runXcap, runXcapMeasured, withTempDir } from "../_cli.ts";
import { type HostileServer, serveHttp, serveRaw, sleep } from "../_hostile_server.ts";

const MIB = 1024 * 1024;
const failures: string[] = [];

async function gzipOfZeros(size: number): Promise<Uint8Array<ArrayBuffer>> {
  const zeros = new Uint8Array(MIB);
  const stream = new CompressionStream("gzip");
  const writer = stream.writable.getWriter();
  const written = (async () => {
    for (let done = 0; done < size; done += MIB) await writer.write(zeros);
    await writer.close();
  })();
  const gzip = new Uint8Array(await new Response(stream.readable).arrayBuffer());
  await written;
  return gzip;
}

function env(server: HostileServer, dir: string) {
  return cliEnv(dir, {
    XCAP_ROOT: `${server.origin}/xcap-root`,
    XCAP_SIP_ADDRESS: "alice@example.com",
  });
}

function mib(bytes: number): string {
  return `${(bytes / MIB).toFixed(1)} MiB`;
}

await withTempDir(async (dir) => {
  // ---- memory ----
  // Each hostile response is compared with a small response of its own kind: a small document
  // for the chunks, a small gzip body (which carries the fixed cost of inflating and streaming)
  // for the bomb. The growth over the small document is printed too.
  const gzip = await gzipOfZeros(1024 * MIB);
  const smallGzip = await gzipOfZeros(MIB);
  const runs: Array<[string, HostileServer, string | undefined]> = [
    ["small document", serveHttp(() => new Response("<resource-lists/>")), undefined],
    [
      "60,000 one-byte chunks",
      serveRaw(async (conn) => {
        await conn.write(
          "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n" +
            "1\r\na\r\n".repeat(60_000) + "0\r\n\r\n",
        );
      }),
      "small document",
    ],
    [
      "1 MiB of zeros, gzip",
      serveHttp(() => new Response(smallGzip, { headers: { "content-encoding": "gzip" } })),
      undefined,
    ],
    [
      `${(gzip.byteLength / 1e6).toFixed(2)} MB gzip inflating to 1 GiB`,
      serveHttp(() => new Response(gzip, { headers: { "content-encoding": "gzip" } })),
      "1 MiB of zeros, gzip",
    ],
  ];
  const peaks = new Map<string, number>();
  console.log(
    "| response | exit | peak RSS | above a small document | above its own kind, small |",
  );
  console.log("|---|---:|---:|---:|---:|");
  for (const [name, server, baseline] of runs) {
    const run = await runXcapMeasured(
      ["get", "--app", "resource-lists", "--timeout", "60", "-o", `${dir}/out`],
      { env: env(server, dir), dir },
    );
    await server.close();
    peaks.set(name, run.peakRssBytes);
    const overSmall = run.peakRssBytes - peaks.get("small document")!;
    const growth = baseline === undefined ? undefined : run.peakRssBytes - peaks.get(baseline)!;
    console.log(
      `| ${name} | ${run.code} | ${mib(run.peakRssBytes)} | ${mib(overSmall)} | ${
        growth === undefined ? "—" : mib(growth)
      } |`,
    );
    if (growth !== undefined && growth >= 2 * DEFAULT_MAX_RESPONSE_BYTES) {
      failures.push(`${name}: peak RSS ${mib(growth)} above ${baseline}`);
    }
  }

  // ---- timeout ----
  // How long after the request the client closes the connection, for a body that trickles in
  // (1 byte/ms) and for a flood of one-byte chunks that keeps the client's event loop busy.
  console.log("\n| xcap get --timeout 3, server sends | exit | connection closed after |");
  console.log("|---|---:|---:|");
  for (const [name, pause] of [["one byte per ms", 1], ["one-byte chunks, flat out", 0]] as const) {
    let requested = 0;
    let closed = 0;
    const server = serveRaw(async (conn) => {
      requested = performance.now();
      await conn.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
      const burst = "1\r\na\r\n".repeat(pause === 0 ? 1000 : 1);
      try {
        for (;;) {
          await conn.write(burst);
          if (pause > 0) await sleep(pause, conn.closing);
        }
      } catch {
        closed = performance.now();
      }
    });
    const run = await runXcap(["get", "--app", "resource-lists", "--timeout", "3"], {
      env: env(server, dir),
      dir,
      killAfterMs: 60_000,
    });
    await sleep(100); // the server notices the closed connection at its next write
    await server.close();
    const after = closed === 0 ? NaN : closed - requested;
    console.log(`| ${name} | ${run.code} | ${(after / 1000).toFixed(2)} s |`);
    if (run.code !== 7 || !(after < 3300)) {
      failures.push(`timeout (${name}): ${after.toFixed(0)} ms`);
    }
  }

  // The 1 GiB gzip body with --timeout 3: the run must end by the limit or the timeout, whichever
  // comes first, not after inflating everything. Wall time of the process, next to a small GET.
  const bomb = serveHttp(() => new Response(gzip, { headers: { "content-encoding": "gzip" } }));
  const small = serveHttp(() => new Response("<resource-lists/>"));
  const timed = async (server: HostileServer) => {
    const started = performance.now();
    const run = await runXcap(["get", "--app", "resource-lists", "--timeout", "3"], {
      env: env(server, dir),
      dir,
      killAfterMs: 60_000,
    });
    return { code: run.code, seconds: (performance.now() - started) / 1000 };
  };
  const reference = await timed(small);
  const inflating = await timed(bomb);
  await bomb.close();
  await small.close();
  console.log(
    `| 1 GiB gzip (wall time of the process; of a small GET: ${reference.seconds.toFixed(2)} s) ` +
      `| ${inflating.code} | ${inflating.seconds.toFixed(2)} s |`,
  );
  if (inflating.seconds - reference.seconds > 3.3) {
    failures.push(`1 GiB gzip: the run took ${inflating.seconds.toFixed(2)} s`);
  }
});

if (failures.length > 0) {
  console.error(`response amplification: FAILED: ${failures.join("; ")}`);
  Deno.exit(1);
}
console.log("response amplification: every bound held");
