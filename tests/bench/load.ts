/**
 * Issue 6 in one run: every measurement the issue asks for, on one machine, printed as tables of
 * medians and ratios with the targets checked. Run by hand (CI does not run benchmarks):
 *
 * ```sh
 * deno task bench                      # deno bench suites, then this script
 * deno run --allow-net=127.0.0.1 --allow-read --allow-write --allow-run --allow-env \
 *   --unstable-kv --frozen --import-map=.ci/import_map.json --lock=.ci/deno.lock \
 *   tests/bench/load.ts --out /tmp/bench.md
 * ```
 *
 * Sections (all by default; `--only documents,client,servers,cold,memory` picks some):
 *
 * 1. `documents`: parse + select one entry by attribute predicate + change + serialize of a
 *    resource-lists document of 10 to 10,000 entries, against fast-xml-parser's parse + build
 *    (interleaved samples, medians), with the cost per entry to show the growth.
 * 2. `client`: `XCAPClient.get()` of a whole document against a bare `fetch()` of the same URL,
 *    sequential and 16 in flight, against a bare `Deno.serve` in another process.
 * 3. `servers`: `wrk` against a bare `Deno.serve` returning the same bytes, the embedded XCAP
 *    server on Deno KV (a SQLite file), in memory and on PostgreSQL (a cluster of its own from
 *    `tests/_postgres.ts`), and Kamailio's xcap_server (sqlite, one worker; and on PostgreSQL
 *    with 4 workers): whole-document GET, element GET, element PUT, with 1 and 16 connections. After each
 *    PUT run the final document is read back and every entry checked against the writes `wrk`
 *    saw acknowledged: a write that was acknowledged and then vanished is a lost write.
 * 4. `cold`: process start to first completed request, `mod.ts` + `XCAPClient` against a bare
 *    `fetch()`, and the size of `mod.ts`'s module graph (`deno info --json`).
 * 5. `memory`: peak RSS of a client that fetches and parses the 10,000-entry document.
 *
 * Options:
 * - `--duration S` seconds per wrk run (default 3), `--rounds N` runs per cell (default 3; the
 *   servers take turns within a round and the median round is shown);
 * - `--entries N` entries of the servers' document (default 1000);
 * - `--servers LIST` some of `bare,xcap-kv,xcap-mem,xcap-pg,kamailio,kamailio-pg`;
 *   `--skip-kamailio` (both Kamailio columns);
 * - `--only LIST` some of the sections;
 * - `--xcap-tree DIR` take the XCAP server, the client and the probes from another checkout
 *   (to measure a change side by side with the same load script);
 * - `--out FILE` also write the report as Markdown.
 *
 * Prints progress on stderr and the report on stdout. Run it on a quiet machine: the report
 * shows the load average before and after.
 *
 * Everything talks to 127.0.0.1 only. Needs `wrk` (Debian package `wrk`), for the Kamailio
 * columns the packages `tests/kamailio/README.md` lists, for the PostgreSQL columns `postgresql`
 * and `kamailio-postgres-modules`.
 *
 * @module
 */
import { buildXcapUri } from "../../mod.ts";
import { parseXmlDocument, type XmlElement } from "../../src/xml/mod.ts";
import type * as Mod from "../../mod.ts";
import { kamailioAvailable, kamailioPostgresAvailable, startKamailio } from "../_kamailio.ts";
import { postgresAvailable, startPostgres } from "../_postgres.ts";
import { openPostgresStore } from "../../src/server/postgres_store.ts";
import {
  BENCH_LIMITS,
  entrySelector,
  fxpParse,
  fxpParseBuild,
  resourceListsDocument,
  xcapCycle,
  xcapParse,
} from "./_documents.ts";
import {
  formatBytes,
  formatMs,
  formatRate,
  formatRatio,
  formatTable,
  median,
  quantile,
  sampleInterleaved,
  type Table,
  verdict,
} from "./_stats.ts";
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

// ---------------------------------------------------------------------------------------------
// Set-up
// ---------------------------------------------------------------------------------------------

const BENCH = `${REPO}/tests/bench`;
const IMPORT_FLAGS = importFlags();
const XUI = "sip:bench@example.com";
const SECTIONS = ["documents", "client", "servers", "cold", "memory"] as const;
type Section = typeof SECTIONS[number];

const SERVER_NAMES = [
  "bare",
  "xcap-kv",
  "xcap-mem",
  "xcap-pg",
  "kamailio",
  "kamailio-pg",
] as const;
type ServerName = typeof SERVER_NAMES[number];

interface Options {
  duration: number;
  rounds: number;
  entries: number;
  out: string | undefined;
  only: Set<Section>;
  servers: Set<ServerName>;
  /** The tree whose `src/server/serve.ts` runs the XCAP server (to try a change side by side). */
  xcapTree: string;
}

function parseOptions(args: readonly string[]): Options {
  const options: Options = {
    duration: 3,
    rounds: 3,
    entries: 1000,
    out: undefined,
    only: new Set(SECTIONS),
    servers: new Set(SERVER_NAMES),
    xcapTree: REPO,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`Option ${arg} needs a value`);
      return v;
    };
    if (arg === "--duration") options.duration = Number(value());
    else if (arg === "--rounds") options.rounds = Number(value());
    else if (arg === "--entries") options.entries = Number(value());
    else if (arg === "--skip-kamailio") {
      options.servers.delete("kamailio");
      options.servers.delete("kamailio-pg");
    } else if (arg === "--out") options.out = value();
    else if (arg === "--xcap-tree") options.xcapTree = value().replace(/\/$/, "");
    else if (arg === "--servers") {
      const names = value().split(",");
      for (const name of names) {
        if (!(SERVER_NAMES as readonly string[]).includes(name)) {
          throw new Error(`Unknown server "${name}"; servers: ${SERVER_NAMES.join(", ")}`);
        }
      }
      options.servers = new Set(names as ServerName[]);
    } else if (arg === "--only") {
      const names = value().split(",");
      for (const name of names) {
        if (!(SECTIONS as readonly string[]).includes(name)) {
          throw new Error(`Unknown section "${name}"; sections: ${SECTIONS.join(", ")}`);
        }
      }
      options.only = new Set(names as Section[]);
    } else throw new Error(`Unknown option "${arg}"`);
  }
  if (!(options.duration > 0) || !(options.entries >= 2) || !(options.rounds >= 1)) {
    throw new Error("--duration must be positive, --rounds at least 1 and --entries at least 2");
  }
  return options;
}

/** Everything printed, kept for `--out`. */
const report: string[] = [];

function emit(text: string): void {
  console.log(text);
  report.push(text);
}

function emitTable(table: Table): void {
  emit(`${formatTable(table)}\n`);
}

/** One target check, for the summary at the end. */
interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly ok: boolean | undefined;
}

const targets: TargetCheck[] = [];

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function commandOutput(cmd: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return text.trim();
  } catch (e) {
    return `(${cmd} unavailable: ${e instanceof Error ? e.message : String(e)})`;
  }
}

async function loadAverage(): Promise<string> {
  // Deno 2.9 asks for --allow-all to read /proc directly.
  const text = await commandOutput("cat", ["/proc/loadavg"]);
  return text.split(" ").slice(0, 3).join(" ") || "unknown";
}

async function machine(): Promise<void> {
  const cpuinfo = await commandOutput("cat", ["/proc/cpuinfo"]);
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? "unknown";
  const nproc = await commandOutput("nproc", []);
  const free = await commandOutput("free", ["-h"]);
  const wrk = (await commandOutput("wrk", ["--version"])).split("\n")[0] ?? "";
  const kamailio = (await commandOutput("/usr/sbin/kamailio", ["-v"])).split("\n")[0] ?? "";
  emit("## Machine\n");
  emit("```");
  emit(`date:      ${new Date().toISOString()}`);
  emit(`cpu:       ${model}, nproc ${nproc}`);
  emit(`deno:      ${Deno.version.deno} (v8 ${Deno.version.v8})`);
  emit(`wrk:       ${wrk}`);
  emit(`kamailio:  ${kamailio}`);
  emit(`load avg:  ${await loadAverage()} (1, 5, 15 min) at start`);
  emit(`free -h:\n${free}`);
  emit("```\n");
}

// ---------------------------------------------------------------------------------------------
// 1. Documents
// ---------------------------------------------------------------------------------------------

function documentsSection(): void {
  emit("## Document cycle: parse + select + change + serialize vs fast-xml-parser parse + build\n");
  const sizes = [10, 100, 1_000, 10_000];
  const rows: string[][] = [];
  const perEntry: number[] = [];
  let previous: { entries: number; cycle: number } | undefined;
  const cycleByEntries = new Map<number, number>();
  for (const entries of sizes) {
    const text = resourceListsDocument(entries);
    const target = Math.ceil(entries / 2);
    const [fxp, cycle, parse, fxpOnly] = sampleInterleaved([
      () => fxpParseBuild(text),
      () => xcapCycle(text, target),
      () => xcapParse(text),
      () => fxpParse(text),
    ], { minSamples: entries >= 10_000 ? 25 : 40, minTimeMs: entries >= 10_000 ? 6000 : 2500 });
    const m = { fxp: median(fxp!), cycle: median(cycle!), parse: median(parse!) };
    const fxpParseMedian = median(fxpOnly!);
    cycleByEntries.set(entries, m.cycle);
    const nsPerEntry = (m.cycle * 1e6) / entries;
    perEntry.push(nsPerEntry);
    const growth = previous === undefined
      ? "-"
      : `${(m.cycle / previous.cycle).toFixed(1)}x for ${entries / previous.entries}x`;
    previous = { entries, cycle: m.cycle };
    rows.push([
      entries.toLocaleString("en-US"),
      formatBytes(new TextEncoder().encode(text).length),
      formatMs(m.fxp),
      formatMs(fxpParseMedian),
      formatMs(m.parse),
      formatMs(m.cycle),
      formatRatio(m.cycle / m.fxp),
      `${Math.round(nsPerEntry)} ns`,
      growth,
      `${cycle!.length}`,
    ]);
    if (entries === 10 || entries === 1_000 || entries === 10_000) {
      targets.push({
        target: `document cycle <= 2x fast-xml-parser parse+build (${entries} entries)`,
        measured: formatRatio(m.cycle / m.fxp),
        ok: m.cycle / m.fxp <= 2,
      });
    }
  }
  emitTable({
    title: "Medians per call (interleaved samples)",
    header: [
      "entries",
      "size",
      "fxp parse+build",
      "fxp parse",
      "xcap parse",
      "xcap cycle",
      "cycle / fxp",
      "cycle per entry",
      "growth",
      "samples",
    ],
    rows,
    notes: [
      "xcap cycle = parseXmlDocument + selectNode(entry[@uri=...]) + putNode (splice, then the " +
      "re-parse that validates the result) - two parses in all. Linear growth shows as a flat " +
      '"cycle per entry" once the fixed cost is amortized (1,000 and up).',
    ],
  });
  const c1k = cycleByEntries.get(1_000)!;
  const c10k = cycleByEntries.get(10_000)!;
  targets.push({
    target: "document cycle grows linearly (10,000 vs 1,000 entries: about 10x)",
    measured: `${(c10k / c1k).toFixed(1)}x`,
    ok: c10k / c1k <= 13,
  });
}

// ---------------------------------------------------------------------------------------------
// 2. Client overhead
// ---------------------------------------------------------------------------------------------

async function clientSection(options: Options): Promise<void> {
  emit("## Client overhead: XCAPClient.get() vs bare fetch() of the same URL\n");
  const { XCAPClient } = await import(toFileUrl(`${options.xcapTree}/mod.ts`)) as typeof Mod;
  const rows: string[][] = [];
  for (const entries of [10, 1_000]) {
    const server = await spawnDeno(`${BENCH}/bare_server.ts`, ["--entries", String(entries)]);
    try {
      const root = server.firstLine;
      const client = new XCAPClient(root, XUI);
      const url = buildXcapUri({ xcapRoot: root, auid: "resource-lists", xui: XUI })
        ._unsafeUnwrap();
      const viaClient = async () => {
        const got = await client.get("resource-lists");
        if (got.isErr()) throw new Error(`client.get failed: ${got.error.message}`);
      };
      const viaFetch = async () => {
        const response = await fetch(url);
        if (!response.ok) throw new Error(`fetch answered ${response.status}`);
        await response.text();
      };
      const contenders = [viaClient, viaFetch];
      // Warm-up: JIT, connection pool.
      for (const fn of contenders) await timeSequential(fn, 300);

      const seq: number[][] = [[], []];
      const seqTime = [0, 0];
      const rounds = 20;
      for (let r = 0; r < rounds; r++) {
        for (const k of r % 2 === 0 ? [0, 1] : [1, 0]) {
          const t0 = performance.now();
          seq[k]!.push(...await timeSequential(contenders[k]!, 100));
          seqTime[k]! += performance.now() - t0;
        }
      }
      const par: number[][] = [[], []];
      const parTime = [0, 0];
      for (let r = 0; r < 12; r++) {
        for (const k of r % 2 === 0 ? [0, 1] : [1, 0]) {
          const { latencies, elapsed } = await timeConcurrent(contenders[k]!, 16, 800);
          par[k]!.push(...latencies);
          parTime[k]! += elapsed;
        }
      }
      for (
        const [mode, lat, time] of [
          ["sequential", seq, seqTime],
          ["16 in flight", par, parTime],
        ] as const
      ) {
        const medClient = median(lat[0]!);
        const medFetch = median(lat[1]!);
        const tputClient = lat[0]!.length / (time[0]! / 1000);
        const tputFetch = lat[1]!.length / (time[1]! / 1000);
        const latencyRatio = medClient / medFetch;
        const throughputRatio = tputClient / tputFetch;
        rows.push([
          `${entries.toLocaleString("en-US")} entries, ${mode}`,
          formatMs(medFetch),
          formatMs(medClient),
          formatRatio(latencyRatio),
          formatRate(tputFetch),
          formatRate(tputClient),
          throughputRatio.toFixed(2),
          formatMs(quantile(lat[0]!, 0.99)),
          `${lat[0]!.length}`,
        ]);
        targets.push({
          target: `client median latency <= 1.10x fetch (${entries} entries, ${mode})`,
          measured: formatRatio(latencyRatio),
          ok: latencyRatio <= 1.10,
        });
        targets.push({
          target: `client throughput >= 0.9x fetch (${entries} entries, ${mode})`,
          measured: throughputRatio.toFixed(2),
          ok: throughputRatio >= 0.9,
        });
      }
    } finally {
      await server.stop();
    }
  }
  emitTable({
    title: "Medians against a bare Deno.serve in another process (keep-alive, loopback)",
    header: [
      "document, mode",
      "fetch p50",
      "client p50",
      "client / fetch",
      "fetch req/s",
      "client req/s",
      "tput ratio",
      "client p99",
      "requests",
    ],
    rows,
    notes: [
      "Blocks of 100 sequential requests (20 per contender) or 800 requests 16 in flight (12 " +
      "per contender), alternating which contender goes first; fetch = fetch() + text().",
    ],
  });
}

// ---------------------------------------------------------------------------------------------
// 3. Servers under wrk
// ---------------------------------------------------------------------------------------------

interface WrkResult {
  readonly requests: number;
  readonly duration_us: number;
  readonly bytes: number;
  readonly connect: number;
  readonly read: number;
  readonly write: number;
  readonly status: number;
  readonly timeout: number;
  readonly p50_us: number;
  readonly p99_us: number;
}

interface WrkRun {
  readonly result: WrkResult;
  readonly rps: number;
  readonly lines: readonly string[];
}

async function runWrk(
  url: string,
  connections: number,
  seconds: number,
  script: string,
  scriptArgs: string[] = [],
): Promise<WrkRun> {
  const args = [
    "-t",
    String(connections),
    "-c",
    String(connections),
    "-d",
    `${seconds}s`,
    "--timeout",
    "10s",
    "-s",
    script,
    url,
  ];
  if (scriptArgs.length > 0) args.push("--", ...scriptArgs);
  const out = await new Deno.Command("wrk", { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  const lines = text.split("\n");
  const json = lines.find((l) => l.startsWith("WRKJSON "));
  if (!out.success || json === undefined) {
    throw new Error(`wrk failed on ${url}:\n${text}\n${new TextDecoder().decode(out.stderr)}`);
  }
  const result = JSON.parse(json.slice(8)) as WrkResult;
  return { result, rps: result.requests / (result.duration_us / 1e6), lines };
}

interface ServerUnderTest {
  readonly name: string;
  readonly short: string;
  readonly root: string;
  /** Whether the final state of a PUT run can be checked (not for the bare server). */
  readonly stateful: boolean;
  stop(): Promise<void>;
}

function documentUrl(root: string): string {
  return buildXcapUri({ xcapRoot: root, auid: "resource-lists", xui: XUI })._unsafeUnwrap();
}

function elementUrl(root: string, entry: number): string {
  return buildXcapUri({
    xcapRoot: root,
    auid: "resource-lists",
    xui: XUI,
    node: entrySelector(entry),
  })._unsafeUnwrap();
}

async function resetDocument(root: string, text: string): Promise<void> {
  const response = await fetch(documentUrl(root), {
    method: "PUT",
    body: text,
    headers: { "content-type": "application/resource-lists+xml" },
  });
  await response.body?.cancel();
  if (response.status !== 200 && response.status !== 201) {
    throw new Error(`Resetting the document at ${root} answered ${response.status}`);
  }
}

/** Outcome of checking a document after a PUT run. */
interface WriteCheck {
  readonly failed: number;
  readonly lost: number;
  readonly inFlight: number;
  readonly detail: string;
}

function elementChildren(element: XmlElement, local: string): XmlElement[] {
  return element.children.filter((c): c is XmlElement =>
    c.kind === "element" && c.localName === local
  );
}

/**
 * Check the final document of a PUT run against what wrk saw: every entry must hold the value of
 * its last acknowledged write, or of a later write that was still in flight when wrk stopped.
 */
async function checkWrites(
  root: string,
  run: WrkRun,
  entries: number,
  threads: number,
): Promise<WriteCheck> {
  const generated = new Map<number, number>();
  let failed = run.result.connect + run.result.read + run.result.write + run.result.timeout;
  for (const line of run.lines) {
    const m = /^WRKTHREAD (\d+) (\d+) (\d+) (\d+) (\d+)/.exec(line);
    if (m !== null) {
      generated.set(Number(m[1]), Number(m[2]));
      failed += Number(m[4]);
    }
  }
  const lastAcked = new Map<number, number>();
  for (const line of run.lines) {
    const m = /^WRKACK (\d+) (\d+) (\d+)/.exec(line);
    if (m !== null) lastAcked.set(Number(m[2]), Number(m[3]));
  }
  const response = await fetch(documentUrl(root));
  const text = await response.text();
  const doc = parseXmlDocument(text, BENCH_LIMITS);
  if (!response.ok || doc.isErr()) {
    return { failed, lost: entries, inFlight: 0, detail: `final GET ${response.status}` };
  }
  const found = new Map<number, string>();
  let duplicates = 0;
  for (const list of elementChildren(doc.value.root, "list")) {
    for (const entry of elementChildren(list, "entry")) {
      const uri = entry.attributes.find((a) => a.localName === "uri")?.value ?? "";
      const i = Number(/^sip:user(\d+)@example\.com$/.exec(uri)?.[1]);
      const name = elementChildren(entry, "display-name")[0];
      const value = name?.children.map((c) => (c.kind === "text" ? c.value : "")).join("") ?? "";
      if (found.has(i)) duplicates++;
      found.set(i, value);
    }
  }
  let lost = duplicates;
  let inFlight = 0;
  const problems: string[] = [];
  for (let i = 1; i <= entries; i++) {
    const thread = (i - 1) % threads;
    const owned = Math.floor((entries - 1 - thread) / threads) + 1;
    const slot = Math.floor((i - 1 - thread) / threads);
    const acked = lastAcked.get(i);
    const value = found.get(i);
    const expected = acked === undefined ? `User ${i}` : `w${thread}-${acked}`;
    if (value === expected) continue;
    const m = value === undefined ? null : /^w(\d+)-(\d+)$/.exec(value);
    const k = m === null ? NaN : Number(m[2]);
    const later = m !== null && Number(m[1]) === thread && k > (acked ?? 0) &&
      k <= (generated.get(thread) ?? 0) && (k - 1) % owned === slot;
    if (later) {
      inFlight++;
      continue;
    }
    lost++;
    if (problems.length < 3) {
      problems.push(`entry ${i}: found ${JSON.stringify(value)}, expected ${expected}`);
    }
  }
  return { failed, lost, inFlight, detail: problems.join("; ") };
}

interface LoadRow {
  readonly operation: string;
  readonly connections: number;
  readonly server: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly failed: number | undefined;
  readonly lost: number | undefined;
  readonly note: string;
}

async function startServers(
  options: Options,
  kvDir: string,
  cleanups: (() => Promise<void>)[],
): Promise<ServerUnderTest[]> {
  const servers: ServerUnderTest[] = [];
  const want = options.servers;
  if (want.has("bare")) {
    const bare = await spawnDeno(`${BENCH}/bare_server.ts`, ["--entries", String(options.entries)]);
    servers.push({
      name: "bare Deno.serve (same bytes)",
      short: "bare",
      root: bare.firstLine,
      stateful: false,
      stop: bare.stop,
    });
  }
  const serve = `${options.xcapTree}/src/server/serve.ts`;
  if (want.has("xcap-kv")) {
    const kv = await spawnDeno(
      serve,
      ["--port", "0", "--kv", `${kvDir}/xcap.sqlite`],
      SERVER_FLAGS,
      serveEnv(options.xcapTree),
    );
    servers.push({
      name: "xcap server, Deno KV file",
      short: "xcap-kv",
      root: kv.firstLine,
      stateful: true,
      stop: kv.stop,
    });
  }
  if (want.has("xcap-mem")) {
    const memory = await spawnDeno(
      serve,
      ["--port", "0"],
      SERVER_FLAGS,
      serveEnv(options.xcapTree),
    );
    servers.push({
      name: "xcap server, memory store",
      short: "xcap-mem",
      root: memory.firstLine,
      stateful: true,
      stop: memory.stop,
    });
  }
  if (want.has("kamailio")) {
    if (!kamailioAvailable()) {
      emit("Kamailio is not installed: its column is left out.\n");
    } else {
      const kamailio = await startKamailio({ workers: 1 });
      servers.push({
        name: "Kamailio xcap_server (sqlite, 1 worker)",
        short: "kamailio",
        root: kamailio.xcapRoot,
        stateful: true,
        stop: kamailio.stop,
      });
    }
  }
  if (want.has("xcap-pg") || want.has("kamailio-pg")) {
    if (!postgresAvailable()) {
      emit("PostgreSQL is not installed: its columns are left out.\n");
      return servers;
    }
    // One cluster, one database per server; fsync and synchronous commit as shipped.
    const pg = await startPostgres();
    cleanups.push(() => pg.destroy());
    emit(`PostgreSQL ${await pg.psql("SHOW server_version")}, fsync and commits as shipped.\n`);
    if (want.has("xcap-pg")) {
      const url = await pg.createDatabase("bench_xcap");
      const server = await spawnDeno(serve, ["--port", "0", "--postgres", url]);
      servers.push({
        name: "xcap server, PostgreSQL store (pool of 10)",
        short: "xcap-pg",
        root: server.firstLine,
        stateful: true,
        stop: server.stop,
      });
    }
    if (want.has("kamailio-pg")) {
      if (!kamailioPostgresAvailable().available) {
        emit("Kamailio's db_postgres is not installed: its column is left out.\n");
      } else {
        // Kamailio needs the tables: the store creates them as Kamailio defines them.
        const url = await pg.createDatabase("bench_kamailio");
        const opened = await openPostgresStore(url);
        if (opened.isErr()) throw new Error(opened.error.message);
        await opened.value.close();
        const kamailio = await startKamailio({ postgres: url, workers: 4 });
        servers.push({
          name: "Kamailio xcap_server (PostgreSQL, 4 workers)",
          short: "kamailio-pg",
          root: kamailio.xcapRoot,
          stateful: true,
          stop: kamailio.stop,
        });
      }
    }
  }
  return servers;
}

async function serversSection(options: Options): Promise<void> {
  emit(
    `## Servers under wrk: ${options.entries.toLocaleString("en-US")}-entry resource-lists ` +
      `document, ${options.rounds} rounds of ${options.duration} s per cell\n`,
  );
  const kvDir = await Deno.makeTempDir({ prefix: "xcap-bench-kv-" });
  const text = resourceListsDocument(options.entries);
  const middle = Math.ceil(options.entries / 2);
  const rows: LoadRow[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const servers = await startServers(options, kvDir, cleanups).catch(async (e) => {
    for (const cleanup of cleanups) await cleanup();
    throw e;
  });
  try {
    const urls = new Map(servers.map((server) => {
      const docUrl = documentUrl(server.root);
      return [server.short, {
        "GET document": docUrl,
        "GET element": elementUrl(server.root, middle),
        putPath: new URL(`${docUrl}/~~/resource-lists/list/entry%5B@uri=%22`).pathname,
      }];
    }));
    for (const server of servers) {
      console.error(`-- ${server.name} at ${server.root}`);
      await resetDocument(server.root, text);
      // Warm-up (JIT, caches), not recorded.
      const u = urls.get(server.short)!;
      await runWrk(u["GET document"], 4, 1, `${BENCH}/wrk_report.lua`);
      await runWrk(u["GET element"], 4, 1, `${BENCH}/wrk_report.lua`);
    }
    // Every cell is measured `rounds` times, the servers taking turns within a round, so load
    // from elsewhere on the machine hits every server alike; the table shows the median round.
    const runs = new Map<string, { run: WrkRun; check: WriteCheck | undefined }[]>();
    for (let round = 0; round < options.rounds; round++) {
      for (const connections of [1, 16]) {
        for (const operation of ["GET document", "GET element", "PUT element"] as const) {
          for (const server of servers) {
            const u = urls.get(server.short)!;
            let run: WrkRun;
            let check: WriteCheck | undefined;
            if (operation === "PUT element") {
              await resetDocument(server.root, text);
              run = await runWrk(
                u["GET document"],
                connections,
                options.duration,
                `${BENCH}/wrk_put.lua`,
                [u.putPath, String(options.entries), String(connections)],
              );
              check = server.stateful
                ? await checkWrites(server.root, run, options.entries, connections)
                : undefined;
              await resetDocument(server.root, text);
            } else {
              run = await runWrk(
                u[operation],
                connections,
                options.duration,
                `${BENCH}/wrk_report.lua`,
              );
            }
            const id = `${operation}|${connections}|${server.short}`;
            runs.set(id, [...(runs.get(id) ?? []), { run, check }]);
            console.error(
              `   round ${round + 1} ${server.short} ${operation} c=${connections}: ` +
                `${formatRate(run.rps)} req/s` +
                (check ? `, failed ${check.failed}, lost ${check.lost}` : ""),
            );
          }
        }
      }
    }
    for (const [id, all] of runs) {
      const [operation, connections, server] = id.split("|");
      const sorted = [...all].sort((a, b) => a.run.rps - b.run.rps);
      const mid = sorted[(sorted.length - 1) >> 1]!;
      const r = mid.run.result;
      const socket = (x: WrkResult) => x.connect + x.read + x.write + x.timeout;
      const failed = all.reduce(
        (n, { run, check }) => n + (check?.failed ?? run.result.status + socket(run.result)),
        0,
      );
      const checked = all.filter((a) => a.check !== undefined);
      rows.push({
        operation: operation!,
        connections: Number(connections),
        server: server!,
        rps: mid.run.rps,
        p50: r.p50_us / 1000,
        p99: r.p99_us / 1000,
        failed,
        lost: checked.length === 0 ? undefined : checked.reduce((n, a) => n + a.check!.lost, 0),
        note: all.map((a) => formatRate(a.run.rps)).join(" / ") +
          (checked.length === 0
            ? ""
            : `; in flight at stop: ${checked.map((a) => a.check!.inFlight).join(" / ")}` +
              checked.map((a) => (a.check!.detail ? `; ${a.check!.detail}` : "")).join("")),
      });
    }
  } finally {
    for (const server of servers) await server.stop();
    for (const cleanup of cleanups) await cleanup();
    await Deno.remove(kvDir, { recursive: true }).catch(() => {});
  }

  const names = servers.map((s) => s.short);
  const rate = (operation: string, connections: number, server: string) =>
    rows.find((r) =>
      r.operation === operation && r.connections === connections && r.server === server
    )?.rps ?? NaN;
  emitTable({
    title: "Throughput (requests/s, median round; wrk -t N -c N, N = connections)",
    header: ["operation", "conns", ...names],
    rows: ["GET document", "GET element", "PUT element"].flatMap((operation) =>
      [1, 16].map((
        c,
      ) => [operation, String(c), ...names.map((n) => formatRate(rate(operation, c, n)))])
    ),
  });
  const hasKamailio = names.includes("kamailio");
  const ratioRows: string[][] = [];
  for (const operation of ["GET document", "GET element", "PUT element"]) {
    for (const c of [1, 16]) {
      const kv = rate(operation, c, "xcap-kv");
      const mem = rate(operation, c, "xcap-mem");
      const pg = rate(operation, c, "xcap-pg");
      const bare = rate(operation, c, "bare");
      const kam = rate(operation, c, "kamailio");
      const kamPg = rate(operation, c, "kamailio-pg");
      const docKv = rate("GET document", c, "xcap-kv");
      const docMem = rate("GET document", c, "xcap-mem");
      ratioRows.push([
        operation,
        String(c),
        hasKamailio ? formatRatio(kv / kam) : "n/a",
        hasKamailio ? formatRatio(mem / kam) : "n/a",
        formatRatio(pg / kamPg),
        formatRatio(pg / kv),
        formatRatio(kv / bare),
        formatRatio(mem / bare),
        operation === "GET element" ? formatRatio(docKv / kv) : "",
        operation === "GET element" ? formatRatio(docMem / mem) : "",
      ]);
    }
  }
  emitTable({
    title: "Ratios (higher is better except the last column)",
    header: [
      "operation",
      "conns",
      "kv / kamailio",
      "mem / kamailio",
      "pg / kamailio-pg",
      "pg / kv",
      "kv / bare",
      "mem / bare",
      "element / document time (kv)",
      "(mem)",
    ],
    rows: ratioRows,
  });
  emitTable({
    title: "Latency (median round) and correctness (all rounds: failed = non-2xx + socket " +
      "errors; lost = acknowledged writes missing afterwards)",
    header: [
      "operation",
      "conns",
      "server",
      "p50",
      "p99",
      "failed",
      "lost writes",
      "req/s by round",
    ],
    rows: rows.map((r) => [
      r.operation,
      String(r.connections),
      r.server,
      formatMs(r.p50),
      formatMs(r.p99),
      r.failed === undefined ? "" : String(r.failed),
      r.lost === undefined ? (r.operation.startsWith("PUT") ? "n/a" : "") : String(r.lost),
      r.note,
    ]),
    notes: [
      "PUT element: each wrk thread owns every N-th entry and replaces them round-robin with a " +
      "new display-name; afterwards the document is read back and each entry must hold its last " +
      "acknowledged value (or a later one still in flight when wrk stopped). The bare server " +
      "keeps no state, so there is nothing to check.",
    ],
  });
  const check = (target: string, value: number, ok: boolean) => {
    if (Number.isFinite(value)) targets.push({ target, measured: formatRatio(value), ok });
  };
  for (const store of ["xcap-kv", "xcap-mem"]) {
    for (const c of [1, 16]) {
      const doc = rate("GET document", c, store);
      const kam = doc / rate("GET document", c, "kamailio");
      const bare = doc / rate("GET document", c, "bare");
      const element = doc / rate("GET element", c, store);
      check(`${store}: document GET >= 5x Kamailio (c=${c})`, kam, kam >= 5);
      check(`${store}: document GET >= 0.5x bare Deno.serve (c=${c})`, bare, bare >= 0.5);
      check(
        `${store}: element GET time <= 1.5x document GET time (c=${c})`,
        element,
        element <= 1.5,
      );
    }
  }
  for (const c of [1, 16]) {
    const put = rate("PUT element", c, "xcap-kv") / rate("PUT element", c, "kamailio");
    check(`xcap-kv: PUT throughput > Kamailio (c=${c})`, put, put > 1);
    const putPg = rate("PUT element", c, "xcap-pg") / rate("PUT element", c, "kamailio-pg");
    check(`xcap-pg: PUT throughput > Kamailio on PostgreSQL (c=${c})`, putPg, putPg > 1);
    for (const store of ["xcap-kv", "xcap-pg"]) {
      const row = rows.find((r) =>
        r.operation === "PUT element" && r.connections === c && r.server === store
      );
      if (row !== undefined) {
        targets.push({
          target: `${store}: PUT with no failed or lost writes (c=${c})`,
          measured: `${row.failed} failed, ${row.lost} lost`,
          ok: row.failed === 0 && row.lost === 0,
        });
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 4. Cold start and module graph
// ---------------------------------------------------------------------------------------------

async function directorySize(path: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(path)) {
    const full = `${path}/${entry.name}`;
    if (entry.isDirectory) total += await directorySize(full);
    else if (entry.isFile) total += (await Deno.stat(full)).size;
  }
  return total;
}

async function coldSection(options: Options): Promise<void> {
  emit("## Cold start: process start to first completed request\n");
  const server = await spawnDeno(`${BENCH}/bare_server.ts`, ["--entries", "10"]);
  const scripts = [
    `${options.xcapTree}/tests/bench/cold_client.ts`,
    `${options.xcapTree}/tests/bench/cold_fetch.ts`,
  ];
  const runs: { first: number[]; exit: number[] }[] = [
    { first: [], exit: [] },
    { first: [], exit: [] },
  ];
  try {
    for (const script of scripts) {
      for (let i = 0; i < 2; i++) await coldRun(script, server.firstLine);
    }
    for (let r = 0; r < 20; r++) {
      for (const k of r % 2 === 0 ? [0, 1] : [1, 0]) {
        const { first, exit } = await coldRun(scripts[k]!, server.firstLine);
        runs[k]!.first.push(first);
        runs[k]!.exit.push(exit);
      }
    }
  } finally {
    await server.stop();
  }
  const [client, bare] = runs;
  const ratio = median(client!.first) / median(bare!.first);
  emitTable({
    title: "Medians of 20 runs each, interleaved, after 2 warm-up runs (transpile cache warm)",
    header: ["script", "to first response", "to exit", "min to first", "max to first"],
    rows: [
      [
        "mod.ts + XCAPClient.get()",
        formatMs(median(client!.first)),
        formatMs(median(client!.exit)),
        formatMs(Math.min(...client!.first)),
        formatMs(Math.max(...client!.first)),
      ],
      [
        "bare fetch()",
        formatMs(median(bare!.first)),
        formatMs(median(bare!.exit)),
        formatMs(Math.min(...bare!.first)),
        formatMs(Math.max(...bare!.first)),
      ],
      [
        "difference / ratio",
        `+${formatMs(median(client!.first) - median(bare!.first))}`,
        `+${formatMs(median(client!.exit) - median(bare!.exit))}`,
        formatRatio(ratio),
        "",
      ],
    ],
  });
  targets.push({
    target: "cold start (no target): mod.ts client vs bare fetch, to first response",
    measured: `${formatRatio(ratio)} (+${formatMs(median(client!.first) - median(bare!.first))})`,
    ok: undefined,
  });

  emitTable(await moduleGraphTable(options));
}

/** `mod.ts`'s module graph: what `deno info` counts, and what is actually loaded (bundled). */
async function moduleGraphTable(options: Options): Promise<Table> {
  const entry = `${options.xcapTree}/mod.ts`;
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", ...IMPORT_FLAGS, entry],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const graph = JSON.parse(new TextDecoder().decode(info.stdout)) as {
    modules: { specifier: string; size?: number; kind?: string }[];
    npmPackages: Record<string, { name: string; dependencies?: string[]; localPath?: string }>;
  };
  const local = graph.modules.filter((m) => m.specifier.startsWith("file:"));
  const localBytes = local.reduce((sum, m) => sum + (m.size ?? 0), 0);
  // The packages the graph reaches: the npm modules it imports and their dependencies.
  const reached = new Set<string>();
  const pending = graph.modules.filter((m) => m.kind === "npm")
    .map((m) => /^npm:\/?(@?[^@/]+(?:\/[^@/]+)?@[^/]+)/.exec(m.specifier)?.[1] ?? "");
  while (pending.length > 0) {
    const id = pending.pop()!;
    if (reached.has(id) || graph.npmPackages[id] === undefined) continue;
    reached.add(id);
    pending.push(...(graph.npmPackages[id].dependencies ?? []));
  }
  const rows: string[][] = [[
    `${local.length} local TypeScript modules (source)`,
    formatBytes(localBytes),
  ]];
  let npmBytes = 0;
  for (const id of [...reached].sort()) {
    const path = graph.npmPackages[id]!.localPath;
    const size = path === undefined ? NaN : await directorySize(path);
    if (Number.isFinite(size)) npmBytes += size;
    rows.push([`npm:${id} (whole package folder)`, formatBytes(size)]);
  }
  rows.push(["local sources + npm package folders", formatBytes(localBytes + npmBytes)]);
  const dir = await Deno.makeTempDir({ prefix: "xcap-bench-bundle-" });
  try {
    for (const minify of [false, true]) {
      const file = `${dir}/mod${minify ? ".min" : ""}.js`;
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "bundle",
          ...IMPORT_FLAGS,
          "--platform=deno",
          ...(minify ? ["--minify"] : []),
          "-o",
          file,
          entry,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const size = out.success ? (await Deno.stat(file)).size : NaN;
      rows.push([
        `deno bundle${minify ? " --minify" : ""}: what is loaded, as one file`,
        formatBytes(size),
      ]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return {
    title: "Module graph of mod.ts (deno info --json; deno bundle)",
    header: ["part", "bytes"],
    rows,
    notes: [
      "deno info counts whole npm package folders (neverthrow's folder also holds its CJS build " +
      "and type declarations); the bundle holds only the code that is loaded.",
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// 5. Memory
// ---------------------------------------------------------------------------------------------

async function memorySection(options: Options): Promise<void> {
  emit("## Memory: peak RSS fetching and parsing the 10,000-entry document\n");
  const server = await spawnDeno(`${BENCH}/bare_server.ts`, ["--entries", "10000"]);
  const modes = ["runtime", "fetch", "client", "xcap", "fxp"] as const;
  const peaks = new Map<string, number[]>(modes.map((m) => [m, []]));
  const heaps = new Map<string, number[]>(modes.map((m) => [m, []]));
  try {
    for (let r = 0; r < 5; r++) {
      for (const mode of modes) {
        const out = await new Deno.Command("/usr/bin/time", {
          args: [
            "-f",
            "peak-rss-kib %M",
            Deno.execPath(),
            "run",
            "--allow-net=127.0.0.1",
            "--v8-flags=--expose-gc",
            ...IMPORT_FLAGS,
            `${options.xcapTree}/tests/bench/memory_client.ts`,
            mode,
            server.firstLine,
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const errors = new TextDecoder().decode(out.stderr);
        const bytes = Number(/peak-rss-kib (\d+)/.exec(errors)?.[1]) * 1024;
        if (!out.success || !Number.isFinite(bytes)) {
          throw new Error(`memory_client ${mode} failed: ${errors}`);
        }
        peaks.get(mode)!.push(bytes);
        const text = new TextDecoder().decode(out.stdout);
        heaps.get(mode)!.push(Number(/heap (\d+)/.exec(text)?.[1]));
      }
    }
  } finally {
    await server.stop();
  }
  const runtime = median(peaks.get("runtime")!);
  const runtimeHeap = median(heaps.get("runtime")!);
  const labels: Record<string, string> = {
    runtime: "Deno runtime, no request",
    fetch: "bare fetch() + text()",
    client: "XCAPClient.get() alone",
    xcap: "XCAPClient.get() + parseXmlDocument()",
    fxp: "fetch() + fast-xml-parser parse()",
  };
  const size = new TextEncoder().encode(resourceListsDocument(10_000)).length;
  emitTable({
    title: `Peak RSS (/usr/bin/time %M), median of 5 fresh processes; document ${
      formatBytes(size)
    }`,
    header: ["client", "peak RSS", "above runtime", "heap after GC", "heap above runtime"],
    rows: modes.map((mode) => {
      const m = median(peaks.get(mode)!);
      const h = median(heaps.get(mode)!);
      return [
        labels[mode]!,
        formatBytes(m),
        mode === "runtime" ? "" : formatBytes(m - runtime),
        formatBytes(h),
        mode === "runtime" ? "" : formatBytes(h - runtimeHeap),
      ];
    }),
    notes: [
      "Heap after GC: V8 heap in use after a full collection with the result still referenced " +
      "(--v8-flags=--expose-gc): what the parsed tree itself keeps.",
    ],
  });
  const xcap = median(peaks.get("xcap")!);
  targets.push({
    target: "memory (no target): peak RSS of the client fetching + parsing 10,000 entries",
    measured: `${formatBytes(xcap)} (${formatBytes(xcap - runtime)} above the runtime)`,
    ok: undefined,
  });
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseOptions(Deno.args);
  emit("# XCAP performance (issue 6)\n");
  const args = Deno.args.length > 0 ? ` ${Deno.args.join(" ")}` : "";
  emit(
    "Command: `deno run --allow-net=127.0.0.1 --allow-read --allow-write --allow-run " +
      "--allow-env --unstable-kv --frozen --import-map=.ci/import_map.json " +
      `--lock=.ci/deno.lock tests/bench/load.ts${args}\`\n`,
  );
  await machine();
  if (options.only.has("documents")) documentsSection();
  if (options.only.has("client")) await clientSection(options);
  if (options.only.has("servers")) await serversSection(options);
  if (options.only.has("cold")) await coldSection(options);
  if (options.only.has("memory")) await memorySection(options);
  emitTable({
    title: "Targets",
    header: ["target", "measured", "verdict"],
    rows: targets.map((t) => [
      t.target,
      t.measured,
      t.ok === undefined ? "(context)" : verdict(t.ok),
    ]),
  });
  emit(`Load average at the end: ${await loadAverage()} (1, 5, 15 min).`);
  if (options.out !== undefined) await Deno.writeTextFile(options.out, report.join("\n") + "\n");
  await sleep(0);
}

if (import.meta.main) {
  await main();
}
