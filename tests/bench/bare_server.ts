/**
 * The limit for the load benchmarks: a bare `Deno.serve` on 127.0.0.1 that answers with the
 * same bytes and headers as the XCAP server, and does nothing else.
 *
 * - `GET` of a path with `/~~/` answers the middle entry's element (`application/xcap-el+xml`),
 *   any other `GET` the whole resource-lists document of `--entries` entries.
 * - `PUT` reads the whole body and answers `200` with an entity-tag.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 tests/bench/bare_server.ts --entries 1000
 * ```
 *
 * Prints the XCAP root URL (`http://127.0.0.1:PORT/xcap-root`) as its first line; stops on
 * SIGINT or SIGTERM.
 *
 * @module
 */
import { entryElement, resourceListsDocument } from "./_documents.ts";

function option(name: string, fallback: string): string {
  const at = Deno.args.indexOf(name);
  return at >= 0 && Deno.args[at + 1] !== undefined ? Deno.args[at + 1]! : fallback;
}

const entries = Number(option("--entries", "1000"));
const port = Number(option("--port", "0"));
const encoder = new TextEncoder();
const documentBytes = encoder.encode(resourceListsDocument(entries));
const elementBytes = encoder.encode(entryElement(Math.ceil(entries / 2)));
const ETAG = '"bare-1"';

const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (request) => {
  if (request.method === "PUT") {
    await request.arrayBuffer();
    return new Response(null, { status: 200, headers: { etag: ETAG } });
  }
  if (request.url.includes("/~~/")) {
    return new Response(elementBytes, {
      headers: { "content-type": "application/xcap-el+xml", etag: ETAG },
    });
  }
  return new Response(documentBytes, {
    headers: { "content-type": "application/resource-lists+xml", etag: ETAG },
  });
});
console.log(`http://127.0.0.1:${server.addr.port}/xcap-root`);

const stop = () => server.shutdown();
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
await server.finished;
Deno.exit(0);
