/**
 * The HTTP front end side by side: `wrk` against a bare `Deno.serve` answering the same bytes,
 * the XCAP server of another checkout (e.g. main) and the XCAP server of this checkout, all
 * in-memory, each run as its tree's `deno task serve` runs it (with that tree's GLIBC_TUNABLES,
 * if any), taking turns within each round; document GET and element GET of a resource-lists
 * document, 1 and 16 connections. Prints medians of requests/s and ratios, and of the servers'
 * CPU time and minor page faults per request (from `/proc/PID/stat`): on a machine shared with
 * other work, CPU per request moves less than requests/s, and a heap that glibc trims and grows
 * again shows as page faults.
 *
 * ```sh
 * git worktree add --detach /tmp/xcap-main main   # the baseline tree
 * deno run --allow-net=127.0.0.1 --allow-read --allow-run --allow-env \
 *   --import-map=.ci/import_map.json --lock=.ci/deno.lock tests/bench/http1_ab.ts \
 *   --baseline /tmp/xcap-main --rounds 5 --duration 5
 * ```
 *
 * Needs `wrk`. Talks to 127.0.0.1 only.
 *
 * @module
 */
import { buildXcapUri } from "../../mod.ts";
import { entrySelector, resourceListsDocument } from "./_documents.ts";
import { formatTable, median } from "./_stats.ts";

const REPO = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");
const XUI = "sip:bench@example.com";
/**
 * The malloc settings `deno task serve` of the checkout at `root` sets (empty: none): older trees
 * (before the response bodies were built without Deno's native copy) set GLIBC_TUNABLES.
 */
function serveTunables(root: string): string {
  return /GLIBC_TUNABLES=(\S+)/.exec(Deno.readTextFileSync(`${root}/deno.json`))?.[1] ?? "";
}

function option(name: string, fallback: string): string {
  const at = Deno.args.indexOf(name);
  return at >= 0 && Deno.args[at + 1] !== undefined ? Deno.args[at + 1]! : fallback;
}

const baseline = option("--baseline", "");
const rounds = Number(option("--rounds", "3"));
const duration = Number(option("--duration", "3"));
const entries = Number(option("--entries", "1000"));
if (baseline === "") {
  console.error("--baseline DIR (a checkout whose serve.ts runs on Deno.serve) is required");
  Deno.exit(2);
}

interface Server {
  readonly name: string;
  readonly root: string;
  readonly child: Deno.ChildProcess;
}

async function spawn(
  name: string,
  script: string,
  args: string[],
  tunables: string,
): Promise<Server> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      `--import-map=${REPO}/.ci/import_map.json`,
      `--lock=${REPO}/.ci/deno.lock`,
      script,
      ...args,
    ],
    // As `deno task serve` of that tree runs it (see its deno.json).
    env: { GLIBC_TUNABLES: tunables },
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`${name} did not start`);
    out += value;
  }
  reader.releaseLock();
  return { name, root: out.split("\n")[0]!, child };
}

/** CPU time (user + system, ms) and minor page faults of the process so far (`/proc/PID/stat`). */
function usage(pid: number): { cpuMs: number; faults: number } {
  // Through `cat`: Deno allows reading another process's /proc entries only with --allow-all.
  const out = new Deno.Command("cat", { args: [`/proc/${pid}/stat`] }).outputSync();
  const fields = new TextDecoder().decode(out.stdout).split(") ")[1]!.split(" ");
  // Fields 10 (minflt), 14 and 15 (utime, stime in ticks of 10 ms: USER_HZ is 100 on Linux)
  // of stat, counted from 1; the list starts at field 3.
  return {
    cpuMs: (Number(fields[11]) + Number(fields[12])) * 10,
    faults: Number(fields[7]),
  };
}

/** What one wrk run measured. */
interface Sample {
  /** Requests per second. */
  readonly rps: number;
  /** The server's CPU time per request, µs. */
  readonly cpuUs: number;
  /** The server's minor page faults per request (heap trimmed and grown again shows here). */
  readonly faults: number;
}

async function wrk(url: string, connections: number, pid: number): Promise<Sample> {
  const before = usage(pid);
  const out = await new Deno.Command("wrk", {
    args: ["-t", String(connections), "-c", String(connections), "-d", `${duration}s`, url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (/Non-2xx|Socket errors/.test(text)) throw new Error(`wrk saw errors on ${url}:\n${text}`);
  const after = usage(pid);
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? "0");
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? "0"),
    cpuUs: (after.cpuMs - before.cpuMs) * 1000 / requests,
    faults: (after.faults - before.faults) / requests,
  };
}

const servers = [
  await spawn("bare Deno.serve", `${REPO}/tests/bench/bare_server.ts`, [
    "--entries",
    String(entries),
  ], ""),
  await spawn(
    "xcap, baseline",
    `${baseline}/src/server/serve.ts`,
    ["--port", "0"],
    serveTunables(baseline),
  ),
  await spawn(
    "xcap, this tree",
    `${REPO}/src/server/serve.ts`,
    ["--port", "0"],
    serveTunables(REPO),
  ),
];
try {
  const text = resourceListsDocument(entries);
  for (const server of servers.slice(1)) {
    const url = buildXcapUri({ xcapRoot: server.root, auid: "resource-lists", xui: XUI })
      ._unsafeUnwrap();
    const put = await fetch(url, {
      method: "PUT",
      body: text,
      headers: { "content-type": "application/resource-lists+xml" },
    });
    await put.body?.cancel();
    if (put.status !== 201) throw new Error(`${server.name}: PUT answered ${put.status}`);
  }
  const cells: { op: string; conns: number; url: (root: string) => string }[] = [];
  for (const conns of [1, 16]) {
    cells.push({
      op: "GET document",
      conns,
      url: (root) =>
        buildXcapUri({ xcapRoot: root, auid: "resource-lists", xui: XUI })._unsafeUnwrap(),
    });
    cells.push({
      op: "GET element",
      conns,
      url: (root) =>
        buildXcapUri({
          xcapRoot: root,
          auid: "resource-lists",
          xui: XUI,
          node: entrySelector(Math.ceil(entries / 2)),
        })._unsafeUnwrap(),
    });
  }
  const samples = new Map<string, Sample[]>();
  for (let round = 0; round < rounds; round++) {
    for (const cell of cells) {
      for (const server of servers) {
        const key = `${cell.op}|${cell.conns}|${server.name}`;
        const sample = await wrk(cell.url(server.root), cell.conns, server.child.pid);
        samples.set(key, [...(samples.get(key) ?? []), sample]);
        console.error(
          `round ${round + 1}: ${key}: ${sample.rps.toFixed(0)} req/s, ` +
            `${sample.cpuUs.toFixed(0)} µs, ${sample.faults.toFixed(2)} faults`,
        );
      }
    }
  }
  const rows = cells.map((cell) => {
    const m = (name: string, field: keyof Sample) =>
      median(samples.get(`${cell.op}|${cell.conns}|${name}`)!.map((sample) => sample[field]));
    const [bare, base, mine] = servers.map((s) => m(s.name, "rps")) as [number, number, number];
    return [
      cell.op,
      String(cell.conns),
      bare.toFixed(0),
      base.toFixed(0),
      mine.toFixed(0),
      (mine / base).toFixed(2) + "x",
      (base / bare).toFixed(2) + "x",
      (mine / bare).toFixed(2) + "x",
      servers.map((s) => m(s.name, "cpuUs").toFixed(0)).join(" / "),
      servers.map((s) => m(s.name, "faults").toFixed(1)).join(" / "),
    ];
  });
  console.log(formatTable({
    title: `Requests/s, ${entries}-entry document, median of ${rounds} rounds of ${duration} s`,
    header: [
      "operation",
      "conns",
      "bare",
      "baseline",
      "this tree",
      "this / baseline",
      "baseline / bare",
      "this / bare",
      "CPU µs/req (bare / base / this)",
      "faults/req",
    ],
    rows,
  }));
} finally {
  for (const server of servers) {
    try {
      server.child.kill("SIGKILL");
    } catch {
      // Gone.
    }
    await server.child.status;
  }
}
