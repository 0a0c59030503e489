/**
 * Where the client's overhead over a bare `fetch()` goes (issue 6): the same GET through
 * successively more of the client, interleaved, against a bare `Deno.serve` in another process.
 *
 * ```sh
 * deno run -A --frozen --import-map=.ci/import_map.json --lock=.ci/deno.lock \
 *   tests/bench/client_stages.ts [--entries 10] [--xcap-tree DIR]
 * ```
 *
 * Stages: `fetch()` + `text()`; the same with `arrayBuffer()` and a strict UTF-8 decode; with a
 * `getReader()` loop (what `createFetchExecutor` did); with the `RequestInit` the executor
 * passes; that wrapped in neverthrow's `ResultAsync.fromThrowable`; `createFetchExecutor()` on a
 * prebuilt request; plus `interpretResponse`; `XCAPClient.get()`.
 *
 * @module
 */
import { ResultAsync } from "npm:neverthrow@^8.2.0";
import type * as Mod from "../../mod.ts";
import { median } from "./_stats.ts";

function option(name: string, fallback: string): string {
  const at = Deno.args.indexOf(name);
  return at >= 0 && Deno.args[at + 1] !== undefined ? Deno.args[at + 1]! : fallback;
}

const REPO = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");
const tree = option("--xcap-tree", REPO).replace(/\/$/, "");
const entries = option("--entries", "10");
const xcap = await import(`file://${tree}/mod.ts`) as typeof Mod;

const server = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--allow-net=127.0.0.1",
    `--import-map=${REPO}/.ci/import_map.json`,
    `--lock=${REPO}/.ci/deno.lock`,
    "--frozen",
    `${REPO}/tests/bench/bare_server.ts`,
    "--entries",
    entries,
  ],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
let first = "";
while (!first.includes("\n")) {
  const { done, value } = await reader.read();
  if (done) throw new Error("bare_server.ts exited");
  first += value;
}
const root = first.trim();

try {
  const xui = "sip:bench@example.com";
  const client = new xcap.XCAPClient(root, xui);
  const request = xcap.buildGetRequest({ xcapRoot: root, auid: "resource-lists", xui })
    ._unsafeUnwrap();
  const url = request.url;
  const execute = xcap.createFetchExecutor();
  const strict = new TextDecoder("utf-8", { fatal: true });
  const stages: Record<string, () => Promise<unknown>> = {
    "fetch + text()": async () => await (await fetch(url)).text(),
    "fetch + arrayBuffer() + strict decode": async () =>
      strict.decode(await (await fetch(url)).arrayBuffer()),
    "fetch + getReader() loop + strict decode": async () => {
      const body = (await fetch(url)).body!.getReader();
      const parts: Uint8Array[] = [];
      for (;;) {
        const { done, value } = await body.read();
        if (done) break;
        parts.push(value);
      }
      return strict.decode(parts[0]);
    },
    "fetch(url, init) + arrayBuffer() + strict decode": async () =>
      strict.decode(
        await (await fetch(url, { method: "GET", headers: {}, redirect: "follow" })).arrayBuffer(),
      ),
    "... in ResultAsync.fromThrowable": async () =>
      (await ResultAsync.fromThrowable(
        async () =>
          strict.decode(
            await (await fetch(url, { method: "GET", headers: {}, redirect: "follow" }))
              .arrayBuffer(),
          ),
        (e) => e,
      )())._unsafeUnwrap(),
    "createFetchExecutor() (prebuilt request)": async () =>
      (await execute(request))._unsafeUnwrap(),
    "... + interpretResponse": async () =>
      (await execute(request).andThen(xcap.interpretResponse))._unsafeUnwrap(),
    "XCAPClient.get()": async () => (await client.get("resource-lists"))._unsafeUnwrap(),
  };
  const names = Object.keys(stages);
  const sequential = new Map<string, number[]>(names.map((n) => [n, []]));
  const parallel = new Map<string, number[]>(names.map((n) => [n, []]));
  for (const fn of Object.values(stages)) for (let i = 0; i < 300; i++) await fn();
  for (let round = 0; round < 8; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const fn = stages[name]!;
      for (let i = 0; i < 200; i++) {
        const t0 = performance.now();
        await fn();
        sequential.get(name)!.push(performance.now() - t0);
      }
      let issued = 0;
      const total = 1600;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (issued++ < total) await fn();
      }));
      parallel.get(name)!.push(total / ((performance.now() - t0) / 1000));
    }
  }
  const baseSeq = median(sequential.get(names[0]!)!);
  const basePar = median(parallel.get(names[0]!)!);
  console.log(`${entries}-entry document, ${root}; medians of 8 interleaved rounds\n`);
  console.log("| stage | sequential p50 | vs fetch | 16 in flight req/s | vs fetch |");
  console.log("|---|---:|---:|---:|---:|");
  for (const name of names) {
    const s = median(sequential.get(name)!);
    const p = median(parallel.get(name)!);
    console.log(
      `| ${name} | ${(s * 1000).toFixed(1)} µs | ${(s / baseSeq).toFixed(2)}x | ${
        Math.round(p)
      } | ${(p / basePar).toFixed(2)} |`,
    );
  }
} finally {
  server.kill("SIGTERM");
  await server.status;
  await reader.cancel().catch(() => {});
}
