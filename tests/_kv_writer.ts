/**
 * A writer for tests/server_kv_limits_test.ts and tests/soak/memory_soak.ts: writes ever new
 * versions of one large document (3 MB, 50 chunks, announced by a marker and written in 5
 * commits before the head) to a Deno KV file, forever, printing `wrote N` after each, until it
 * is killed. Its `abandonedWriteMs` is short, so the chunk set it leaves when killed mid-write
 * can be reclaimed at once.
 *
 * ```sh
 * deno run --allow-read --allow-write --import-map=.ci/import_map.json --lock=.ci/deno.lock \
 *   tests/_kv_writer.ts PATH ABANDONED_WRITE_MS
 * ```
 *
 * Also the helpers that drive it: {@linkcode killWriterMidWrite} and {@linkcode orphans}.
 * Helper only, no tests.
 */
import { KvStore } from "../src/server/kv_store.ts";

const REPO = decodeURIComponent(new URL("..", import.meta.url).pathname);

/** The document the writer writes: version `n`, 3,000,000 UTF-8 bytes. */
export function writerDocument(n: number): string {
  const open = `<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><!-- v${n} -->`;
  const close = "</resource-lists>";
  return open + " ".repeat(3_000_000 - open.length - close.length) + close;
}

/** Where the writer writes. */
export const WRITER_KEY = {
  auid: "resource-lists",
  tree: "users",
  xui: "sip:writer@example.com",
  documentPath: "index",
} as const;

/** Chunk sets no head names, and markers, in a KV file. */
export async function orphans(
  kv: Deno.Kv,
): Promise<{ sets: number; chunks: number; markers: number }> {
  const heads = new Map<string, string>();
  for await (const entry of kv.list<{ etag: string }>({ prefix: ["xcap", "doc"] })) {
    heads.set(JSON.stringify(entry.key.slice(2)), entry.value.etag);
  }
  const sets = new Set<string>();
  let chunks = 0;
  for await (const entry of kv.list({ prefix: ["xcap", "chunk"] })) {
    const doc = JSON.stringify(entry.key.slice(2, 6));
    if (heads.get(doc) === entry.key[6]) continue;
    sets.add(JSON.stringify(entry.key.slice(2, 7)));
    chunks++;
  }
  let markers = 0;
  for await (const _ of kv.list({ prefix: ["xcap", "orphan"] })) markers++;
  return { sets: sets.size, chunks, markers };
}

/**
 * Start tests/_kv_writer.ts on the KV file, wait until it is between announcing a chunk set and
 * committing its head (a marker with a deadline is there), and kill it with SIGKILL.
 */
export async function killWriterMidWrite(path: string, kv: Deno.Kv): Promise<void> {
  const markers = ["xcap", "orphan", ...Object.values(WRITER_KEY)];
  const seen = new Set<string>();
  for await (const entry of kv.list({ prefix: markers })) seen.add(String(entry.key.at(-1)));
  const writer = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      `--import-map=${REPO}.ci/import_map.json`,
      `--lock=${REPO}.ci/deno.lock`,
      `${REPO}tests/_kv_writer.ts`,
      path,
      "200",
    ],
    cwd: REPO,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    // Mid-write: a marker this writer announced, with a deadline, and some of its chunks.
    for (let polls = 0; polls < 10_000; polls++) {
      let midWrite = false;
      for await (const entry of kv.list<{ after: number }>({ prefix: markers })) {
        const etag = String(entry.key.at(-1));
        if (seen.has(etag) || entry.value.after === 0) continue;
        const chunks = kv.list({ prefix: ["xcap", "chunk", ...Object.values(WRITER_KEY), etag] }, {
          limit: 1,
        });
        for await (const _ of chunks) midWrite = true;
      }
      if (midWrite) break;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  } finally {
    writer.kill("SIGKILL");
    await writer.status;
  }
}

if (import.meta.main) {
  const [path, abandonedWriteMs] = Deno.args;
  const kv = await Deno.openKv(path);
  const store = new KvStore(kv, { abandonedWriteMs: Number(abandonedWriteMs ?? 600_000) });
  for (let n = 0;; n++) {
    const written = await store.put(WRITER_KEY, writerDocument(n));
    console.log(written.isOk() ? `wrote ${n}` : `failed ${n}: ${written.error.message}`);
  }
}
