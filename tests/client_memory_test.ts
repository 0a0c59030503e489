// What a hostile response costs the client (issue 10, item 12), measured on a real `xcap` process:
// its peak RSS (VmHWM from /proc) against a baseline run that fetches a small response of the same
// kind (a small document; a small gzip body, which carries the fixed cost of inflating and
// streaming, ~7 MiB in Deno 2.9). The response limit is the default 16 MiB; a hostile response
// may cost at most twice that on top of its baseline.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { DEFAULT_MAX_RESPONSE_BYTES } from "../src/client/executor.ts";
import { cliEnv, runXcapMeasured, withTempDir } from "./_cli.ts";
import { type HostileServer, serveHttp, serveRaw } from "./_hostile_server.ts";

const MIB = 1024 * 1024;
const BOUND = 2 * DEFAULT_MAX_RESPONSE_BYTES;

/** gzip of `size` zero bytes (~1,000:1). */
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

async function measure(server: HostileServer, dir: string) {
  const env = cliEnv(dir, {
    XCAP_ROOT: `${server.origin}/xcap-root`,
    XCAP_SIP_ADDRESS: "alice@example.com",
  });
  return await runXcapMeasured(["get", "--app", "resource-lists", "--timeout", "60"], { env, dir });
}

function mib(bytes: number): string {
  return `${(bytes / MIB).toFixed(1)} MiB`;
}

Deno.test({
  name: "xcap get: one-byte chunks and a gzip bomb cost at most twice the response limit",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const baselineServer = serveHttp(() => new Response("<resource-lists/>"));
    const smallGzip = await gzipOfZeros(MIB);
    const gzipBaselineServer = serveHttp(() =>
      new Response(smallGzip, { headers: { "content-encoding": "gzip" } })
    );
    // 60,000 one-byte chunks: each arrives as a view on its own 64 KiB buffer.
    const chunked = serveRaw(async (conn) => {
      await conn.write(
        "HTTP/1.1 200 OK\r\ncontent-type: application/resource-lists+xml\r\n" +
          "transfer-encoding: chunked\r\nconnection: close\r\n\r\n" +
          "1\r\na\r\n".repeat(60_000) + "0\r\n\r\n",
      );
    });
    // 256 KiB on the wire, 256 MiB once inflated; Content-Length is the compressed size.
    const gzip = await gzipOfZeros(256 * MIB);
    const bomb = serveHttp(() =>
      new Response(gzip, {
        headers: { "content-encoding": "gzip", "content-type": "application/resource-lists+xml" },
      })
    );
    try {
      await withTempDir(async (dir) => {
        const baseline = await measure(baselineServer, dir);
        assertEquals(baseline.code, 0, baseline.stderr);
        const gzipBaseline = await measure(gzipBaselineServer, dir);
        assertEquals(gzipBaseline.code, 0, gzipBaseline.stderr);

        const chunks = await measure(chunked, dir);
        assertEquals(chunks.code, 0, chunks.stderr);
        assertEquals(chunks.stdout.byteLength, 60_000);

        const inflated = await measure(bomb, dir);
        assertEquals(inflated.code, 7, inflated.stderr);
        assertStringIncludes(
          inflated.stderr,
          `is too large (more than ${DEFAULT_MAX_RESPONSE_BYTES} bytes`,
        );

        console.log(
          `peak RSS: small document ${mib(baseline.peakRssBytes)}, 60,000 one-byte chunks ` +
            `${mib(chunks.peakRssBytes)}; 1 MiB gzip ${mib(gzipBaseline.peakRssBytes)}, ` +
            `${gzip.byteLength} B gzip -> 256 MiB ${mib(inflated.peakRssBytes)} ` +
            `(bound: baseline + ${mib(BOUND)})`,
        );
        const runs = [
          ["one-byte chunks", chunks, baseline],
          ["gzip bomb", inflated, gzipBaseline],
        ] as const;
        for (const [name, run, base] of runs) {
          const growth = run.peakRssBytes - base.peakRssBytes;
          assert(growth < BOUND, `${name}: peak RSS grew by ${mib(growth)}`);
        }
      });
    } finally {
      await baselineServer.close();
      await gzipBaselineServer.close();
      await chunked.close();
      await bomb.close();
    }
  },
});
