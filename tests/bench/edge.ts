/**
 * Issue 13 in one run: what the client costs over a bare `fetch()`, for serverless edge functions
 * (a cold start on every new isolate, every request's CPU billed). Prints tables of medians and
 * ratios and the targets with a verdict; run by hand (`deno task bench` runs it before `load.ts`;
 * `deno task bench-edge` alone, with options), never in CI:
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-read --allow-write --allow-run --allow-env --frozen \
 *   --import-map=.ci/import_map.json --lock=.ci/deno.lock tests/bench/edge.ts
 * ```
 *
 * 1. `cold`: process start to first completed GET, `tests/bench/cold_client.ts` (imports `mod.ts`,
 *    `XCAPClient.get()`) against `tests/bench/cold_fetch.ts` (bare `fetch()` + `text()`, no
 *    imports). Target: within +20 ms.
 * 2. `client`: `XCAPClient.get()` of a whole document against `fetch()` + `text()` of the same
 *    URL in the same process, 10- and 1,000-entry documents, sequential and 16 in flight. Targets:
 *    throughput >= 0.9x, median latency <= 1.1x.
 * 3. `bundle`: `deno bundle --minify mod.ts`, one file. Target: <= 60 KB.
 *
 * The server for 1 and 2 is the embedded XCAP server (`src/server/serve.ts`, memory store) in
 * another process, on 127.0.0.1, seeded by a PUT. Contenders take turns (the order alternates each
 * round) so that a noisy machine hits them alike.
 *
 * Options: `--only cold,client,bundle`; `--baseline DIR` adds another checkout's client (its
 * `mod.ts` and `cold_client.ts`, e.g. `git archive main | tar -x -C DIR`) as a third contender
 * everywhere, to show a change before and after in one run; `--cold-runs N` (default 20);
 * `--rounds N` sequential blocks of 100 requests per contender (default 20; 16 in flight: blocks
 * of 800, 3/5 as many).
 *
 * @module
 */
import process from "node:process";
import type * as Mod from "../../mod.ts";
import { resourceListsDocument } from "./_documents.ts";
import {
  coldRun,
  importFlags,
  REPO,
  serveEnv,
  SERVER_FLAGS,
  spawnDeno,
  timeConcurrent,
  timeSequential,
  toFileUrl,
} from "./_harness.ts";
import {
  formatBytes,
  formatMs,
  formatRate,
  formatRatio,
  formatTable,
  median,
  type Table,
  verdict,
} from "./_stats.ts";

const SECTIONS = ["cold", "client", "bundle"] as const;
type Section = typeof SECTIONS[number];

interface Options {
  readonly only: ReadonlySet<Section>;
  readonly baseline: string | undefined;
  readonly coldRuns: number;
  readonly rounds: number;
}

function parseOptions(args: readonly string[]): Options {
  const value = (name: string): string | undefined => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const only = value("--only")?.split(",") ?? [...SECTIONS];
  const unknown = only.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length > 0) throw new Error(`--only: unknown section(s) ${unknown.join(", ")}`);
  const coldRuns = Number(value("--cold-runs") ?? 20);
  const rounds = Number(value("--rounds") ?? 20);
  if (!(coldRuns >= 1) || !(rounds >= 2)) {
    throw new Error("--cold-runs must be at least 1 and --rounds at least 2");
  }
  const baseline = value("--baseline")?.replace(/\/$/, "");
  return { only: new Set(only as Section[]), baseline, coldRuns, rounds };
}

/** A client under test: this checkout, or the `--baseline` one. */
interface Tree {
  readonly name: string;
  readonly dir: string;
}

const TARGET_COLD_MS = 20;
const TARGET_THROUGHPUT = 0.9;
const TARGET_LATENCY = 1.1;
const TARGET_BUNDLE_BYTES = 60 * 1024;

interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly ok: boolean;
}
const targets: TargetCheck[] = [];

function emitTable(table: Table): void {
  console.log(`${formatTable(table)}\n`);
}

/** Whose turn it is first in round `round`: the order rotates so nobody always goes first. */
function turns(count: number, round: number): number[] {
  return Array.from({ length: count }, (_, i) => (i + round) % count);
}

async function loadAverage(): Promise<string> {
  const out = await new Deno.Command("cat", { args: ["/proc/loadavg"], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).split(" ").slice(0, 3).join(" ");
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

function documentUrl(root: string, xui: string): string {
  return `${root}/resource-lists/users/${xui}/index`;
}

async function seed(root: string, xui: string, entries: number): Promise<void> {
  const response = await fetch(documentUrl(root, xui), {
    method: "PUT",
    body: resourceListsDocument(entries),
    headers: { "content-type": "application/resource-lists+xml" },
  });
  await response.body?.cancel();
  if (response.status !== 200 && response.status !== 201) {
    throw new Error(`Seeding ${xui} answered ${response.status}`);
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Cold start
// ---------------------------------------------------------------------------------------------

async function coldSection(root: string, trees: readonly Tree[], runs: number): Promise<void> {
  // cold_client.ts GETs sip:bench@example.com's resource-lists document.
  await seed(root, "sip:bench@example.com", 10);
  const contenders = [
    {
      name: "bare fetch() + text()",
      script: `${REPO}/tests/bench/cold_fetch.ts`,
      flags: importFlags(),
    },
    ...trees.map((t) => ({
      name: `${t.name}: mod.ts + XCAPClient.get()`,
      script: `${t.dir}/tests/bench/cold_client.ts`,
      flags: importFlags(t.dir),
    })),
  ];
  const first: number[][] = contenders.map(() => []);
  const exit: number[][] = contenders.map(() => []);
  // Warm-up: the transpile cache and the page cache, as on an edge host after deployment.
  for (const c of contenders) {
    for (let i = 0; i < 2; i++) await coldRun(c.script, root, c.flags);
  }
  for (let r = 0; r < runs; r++) {
    for (const k of turns(contenders.length, r)) {
      const c = contenders[k]!;
      const t = await coldRun(c.script, root, c.flags);
      first[k]!.push(t.first);
      exit[k]!.push(t.exit);
    }
  }
  const bare = median(first[0]!);
  emitTable({
    title: `Cold start: process start to first completed GET (median of ${runs}, interleaved)`,
    header: ["script", "to first response", "to exit", "min", "max", "over bare fetch()"],
    rows: contenders.map((c, k) => [
      c.name,
      formatMs(median(first[k]!)),
      formatMs(median(exit[k]!)),
      formatMs(Math.min(...first[k]!)),
      formatMs(Math.max(...first[k]!)),
      k === 0 ? "" : `+${formatMs(median(first[k]!) - bare)}`,
    ]),
    notes: [
      "Each run is a fresh `deno run` (transpile cache warm, 2 untimed runs each first) " +
      "GETting a 10-entry document; the time is to the line the script prints after the body.",
    ],
  });
  trees.forEach((t, i) => {
    const extra = median(first[i + 1]!) - bare;
    targets.push({
      target: `${t.name}: cold start within +${TARGET_COLD_MS} ms of bare fetch()`,
      measured: `+${formatMs(extra)}`,
      ok: extra <= TARGET_COLD_MS,
    });
  });
}

// ---------------------------------------------------------------------------------------------
// 2. Per-request cost
// ---------------------------------------------------------------------------------------------

async function clientSection(root: string, trees: readonly Tree[], rounds: number): Promise<void> {
  const modules = await Promise.all(
    trees.map(async (t) => await import(toFileUrl(`${t.dir}/mod.ts`)) as typeof Mod),
  );
  const rows: string[][] = [];
  for (const entries of [10, 1_000]) {
    const xui = `sip:bench-${entries}@example.com`;
    await seed(root, xui, entries);
    const url = documentUrl(root, xui);
    const viaFetch = async () => {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`fetch answered ${response.status}`);
      await response.text();
    };
    const contenders = [
      { name: "fetch() + text()", run: viaFetch },
      ...trees.map((t, i) => {
        const client = new modules[i]!.XCAPClient(root, xui);
        return {
          name: `${t.name}: XCAPClient.get()`,
          run: async () => {
            const got = await client.get("resource-lists");
            if (got.isErr()) throw new Error(`client.get failed: ${got.error.message}`);
          },
        };
      }),
    ];
    // Warm-up: JIT, connection pool.
    for (const c of contenders) await timeSequential(c.run, 300);
    for (
      const mode of [
        { name: "sequential", rounds, inFlight: 1, block: 100 },
        { name: "16 in flight", rounds: Math.ceil(rounds * 0.6), inFlight: 16, block: 800 },
      ]
    ) {
      const latencies: number[][] = contenders.map(() => []);
      const time = contenders.map(() => 0);
      const cpu = contenders.map(() => 0);
      for (let r = 0; r < mode.rounds; r++) {
        for (const k of turns(contenders.length, r)) {
          const cpu0 = process.cpuUsage();
          const { latencies: l, elapsed } = mode.inFlight === 1
            ? await (async () => {
              const t0 = performance.now();
              const l = await timeSequential(contenders[k]!.run, mode.block);
              return { latencies: l, elapsed: performance.now() - t0 };
            })()
            : await timeConcurrent(contenders[k]!.run, mode.inFlight, mode.block);
          const used = process.cpuUsage(cpu0);
          cpu[k]! += (used.user + used.system) / 1000;
          latencies[k]!.push(...l);
          time[k]! += elapsed;
        }
      }
      const p50 = latencies.map(median);
      const rate = latencies.map((l, k) => l.length / (time[k]! / 1000));
      contenders.forEach((c, k) => {
        rows.push([
          `${entries.toLocaleString("en-US")} entries, ${mode.name}`,
          c.name,
          formatMs(p50[k]!),
          formatRate(rate[k]!),
          formatMs(cpu[k]! / latencies[k]!.length),
          k === 0 ? "" : formatRatio(p50[k]! / p50[0]!),
          k === 0 ? "" : formatRatio(rate[k]! / rate[0]!),
        ]);
      });
      trees.forEach((t, i) => {
        const latency = p50[i + 1]! / p50[0]!;
        const throughput = rate[i + 1]! / rate[0]!;
        const cell = `${entries} entries, ${mode.name}`;
        targets.push({
          target: `${t.name}: throughput >= ${TARGET_THROUGHPUT}x fetch (${cell})`,
          measured: formatRatio(throughput),
          ok: throughput >= TARGET_THROUGHPUT,
        });
        targets.push({
          target: `${t.name}: median latency <= ${TARGET_LATENCY}x fetch (${cell})`,
          measured: formatRatio(latency),
          ok: latency <= TARGET_LATENCY,
        });
      });
    }
  }
  emitTable({
    title: "XCAPClient.get() against fetch() + text(), embedded server (memory store)",
    header: [
      "document, mode",
      "contender",
      "p50",
      "req/s",
      "CPU / req",
      "p50 / fetch",
      "req/s / fetch",
    ],
    rows,
    notes: [
      `Blocks of 100 sequential requests (${rounds} per contender) or 800 requests 16 in flight ` +
      `(${Math.ceil(rounds * 0.6)} per contender), the order rotating every block, after 300 ` +
      "untimed requests each. CPU / req: user + system time of this process (the client side " +
      "only; the server runs in another process) per request.",
    ],
  });
}

// ---------------------------------------------------------------------------------------------
// 3. Bundle size
// ---------------------------------------------------------------------------------------------

async function bundleSection(trees: readonly Tree[]): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "xcap-edge-bundle-" });
  const rows: string[][] = [];
  try {
    for (const [i, t] of trees.entries()) {
      const file = `${dir}/mod-${i}.min.js`;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["bundle", ...importFlags(t.dir), "--minify", "-o", file, `${t.dir}/mod.ts`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      if (!out.success) {
        throw new Error(`deno bundle failed:\n${new TextDecoder().decode(out.stderr)}`);
      }
      const size = (await Deno.stat(file)).size;
      rows.push([t.name, `${size.toLocaleString("en-US")} B`, formatBytes(size)]);
      targets.push({
        target: `${t.name}: deno bundle --minify mod.ts <= 60 KiB`,
        measured: formatBytes(size),
        ok: size <= TARGET_BUNDLE_BYTES,
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  emitTable({
    title: "The client entry bundled: deno bundle --minify mod.ts (one file, esbuild inside)",
    header: ["tree", "bytes", ""],
    rows,
  });
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseOptions(Deno.args);
  const trees: Tree[] = [{ name: "this tree", dir: REPO }];
  if (options.baseline !== undefined) trees.push({ name: "baseline", dir: options.baseline });
  console.log(
    `# Edge client cost (issue 13)\n\n${new Date().toISOString()}, deno ${Deno.version.deno}, ` +
      `load average ${await loadAverage()} at the start` +
      (options.baseline === undefined ? "" : `; baseline: ${options.baseline}`) + "\n",
  );
  if (options.only.has("cold") || options.only.has("client")) {
    const server = await spawnDeno(
      `${REPO}/src/server/serve.ts`,
      ["--port", "0"],
      SERVER_FLAGS,
      serveEnv(REPO),
    );
    try {
      const root = server.firstLine;
      if (options.only.has("cold")) await coldSection(root, trees, options.coldRuns);
      if (options.only.has("client")) await clientSection(root, trees, options.rounds);
    } finally {
      await server.stop();
    }
  }
  if (options.only.has("bundle")) await bundleSection(trees);
  emitTable({
    title: "Targets",
    header: ["target", "measured", "verdict"],
    rows: targets.map((t) => [t.target, t.measured, verdict(t.ok)]),
  });
  console.log(`Load average at the end: ${await loadAverage()} (1, 5, 15 min).`);
}

if (import.meta.main) {
  await main();
}
