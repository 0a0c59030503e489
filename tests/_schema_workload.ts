/**
 * A validation workload for a real server process: element PUTs into a resource-lists document,
 * each carrying elements and attributes of a namespace never seen before (so that nothing the
 * validator caches may grow with what documents contain), half of them invalid (409). Shared by
 * `server_schema_process_test.ts` (short, in CI) and `soak/schema_soak.ts` (long).
 *
 * Helpers only, no tests.
 */
import type { ServerProcess } from "./_server_process.ts";

/**
 * A field of `/proc/PID/status` in bytes, read through `cat`: Deno 2.9 lets a test read `/proc`
 * only with `--allow-all`, which `deno task test` does not give (so `ServerProcess.rssBytes()`
 * cannot be used there).
 */
export function procStatusBytes(pid: number, field: "VmRSS" | "VmHWM"): number {
  const out = new Deno.Command("cat", { args: [`/proc/${pid}/status`] }).outputSync();
  const match = new TextDecoder().decode(out.stdout).match(
    new RegExp(`^${field}:\\s+(\\d+) kB`, "m"),
  );
  if (match === null) throw new Error(`No ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

const RL = "urn:ietf:params:xml:ns:resource-lists";
const XUI = "sip:schema@example.com";

/** What one run of {@linkcode validationWorkload} measured. */
export interface WorkloadFigures {
  /** Requests sent. */
  readonly requests: number;
  /** Answers by status. */
  readonly statuses: Readonly<Record<number, number>>;
  /** RSS after the warm-up (the first tenth of the requests), in bytes. */
  readonly warmRss: number;
  /** RSS after each tenth of the requests, in bytes. */
  readonly rssByTenth: readonly number[];
  /** RSS at the end, in bytes. */
  readonly endRss: number;
  /** Peak RSS, in bytes. */
  readonly peakRss: number;
  /** Requests per second over the whole run. */
  readonly rate: number;
}

/**
 * Create a document of `entries` entries, then send `requests` element PUTs, one at a time.
 *
 * @param server The server process.
 * @param requests How many element PUTs.
 * @param entries Entries in the document.
 * @returns The figures.
 */
export async function validationWorkload(
  server: ServerProcess,
  requests: number,
  entries = 200,
): Promise<WorkloadFigures> {
  const doc = `${server.xcapRoot}/resource-lists/users/${XUI}/index`;
  const lines = Array.from(
    { length: entries },
    (_, i) => `<entry uri="sip:u${i}@example.com"><display-name>U ${i}</display-name></entry>`,
  );
  const created = await fetch(doc, {
    method: "PUT",
    headers: { "content-type": "application/resource-lists+xml" },
    body: `<resource-lists xmlns="${RL}"><list name="l">${lines.join("")}</list></resource-lists>`,
  });
  await created.body?.cancel();
  if (created.status !== 201) throw new Error(`document PUT: ${created.status}`);
  const statuses: Record<number, number> = {};
  const rssByTenth: number[] = [];
  const started = performance.now();
  for (let i = 0; i < requests; i++) {
    if (i > 0 && i % Math.ceil(requests / 10) === 0) {
      rssByTenth.push(procStatusBytes(server.pid, "VmRSS"));
    }
    const target = i % entries;
    const ns = `urn:example:n${i}`;
    // Every other request carries an attribute <entry> does not declare: a 409.
    const bad = i % 2 === 1 ? ` bad${i}="1"` : "";
    const body = `<entry xmlns="${RL}" xmlns:n="${ns}" uri="sip:u${target}@example.com" ` +
      `n:seen="${i}"${bad}><display-name>U ${i}</display-name><n:x${i}><n:y${i}/></n:x${i}>` +
      "</entry>";
    const url = `${doc}/~~/resource-lists/list/entry%5B@uri=%22sip:u${target}@example.com%22%5D`;
    const response = await fetch(url, {
      method: "PUT",
      headers: { "content-type": "application/xcap-el+xml" },
      body,
    });
    await response.body?.cancel();
    statuses[response.status] = (statuses[response.status] ?? 0) + 1;
  }
  const seconds = (performance.now() - started) / 1000;
  rssByTenth.push(procStatusBytes(server.pid, "VmRSS"));
  return {
    requests,
    statuses,
    warmRss: rssByTenth[0]!,
    rssByTenth,
    endRss: procStatusBytes(server.pid, "VmRSS"),
    peakRss: procStatusBytes(server.pid, "VmHWM"),
    rate: requests / seconds,
  };
}
