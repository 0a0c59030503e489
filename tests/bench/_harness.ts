/**
 * Benchmark plumbing shared by `load.ts` and `edge.ts`: child Deno processes (servers, cold-start
 * probes) and timing loops for requests, sequential or several in flight.
 *
 * @module
 */

/** This checkout's root directory (no trailing slash). */
export const REPO = decodeURIComponent(new URL("../../", import.meta.url).pathname)
  .replace(/\/$/, "");

/** The offline resolution flags every child process of a benchmark runs with. */
export function importFlags(tree: string = REPO): string[] {
  return [`--import-map=${tree}/.ci/import_map.json`, `--lock=${tree}/.ci/deno.lock`, "--frozen"];
}

/** The permissions and flags the servers under test run with. */
export const SERVER_FLAGS: readonly string[] = [
  "--allow-net=127.0.0.1",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--unstable-kv",
  ...importFlags(),
];

/** A `file:` URL for an absolute path. */
export function toFileUrl(path: string): string {
  return new URL(`file://${path.split("/").map(encodeURIComponent).join("/")}`).href;
}

/** A child process that printed its first line (a URL, for the servers). */
export interface Spawned {
  /** The first line the child printed (a URL for the servers). */
  readonly firstLine: string;
  /** Stop it (SIGTERM, then SIGKILL after 3 s) and wait for it. */
  stop(): Promise<void>;
  /** What it wrote to stderr so far. */
  stderr(): string;
}

/**
 * The environment `deno task serve` of the checkout at `root` sets: older trees (before the
 * response bodies were built without Deno's native copy) set GLIBC_TUNABLES.
 */
export function serveEnv(root: string): Record<string, string> {
  const tunables = /GLIBC_TUNABLES=(\S+)/.exec(Deno.readTextFileSync(`${root}/deno.json`))?.[1];
  return tunables === undefined ? {} : { GLIBC_TUNABLES: tunables };
}

/** Run `deno run FLAGS script ARGS` (with `env`) and wait for its first line of output. */
export async function spawnDeno(
  script: string,
  args: readonly string[],
  flags: readonly string[] = SERVER_FLAGS,
  env: Record<string, string> = {},
): Promise<Spawned> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, script, ...args],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let errors = "";
  const drainErrors = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      if (errors.length < 20_000) errors += chunk;
    }
  })();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  while (!buffer.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) {
      await child.status;
      await drainErrors;
      throw new Error(`${script} exited before printing its URL:\n${errors}`);
    }
    buffer += value;
  }
  const drainOut = (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })();
  let stopping: Promise<void> | undefined;
  return {
    firstLine: buffer.split("\n")[0]!.trim(),
    stderr: () => errors,
    stop: () =>
      stopping ??= (async () => {
        try {
          child.kill("SIGTERM");
        } catch {
          // already gone
        }
        const timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch {
            // already gone
          }
        }, 3000);
        await child.status;
        clearTimeout(timer);
        await drainOut;
        await drainErrors;
      })(),
  };
}

/** Latencies (ms) of `n` calls of `fn`, one after the other. */
export async function timeSequential(fn: () => Promise<void>, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/** Latencies (ms) of `total` calls of `fn` with `inFlight` running at once, and the time taken. */
export async function timeConcurrent(
  fn: () => Promise<void>,
  inFlight: number,
  total: number,
): Promise<{ latencies: number[]; elapsed: number }> {
  const latencies: number[] = [];
  let issued = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (issued < total) {
      issued++;
      const s = performance.now();
      await fn();
      latencies.push(performance.now() - s);
    }
  }));
  return { latencies, elapsed: performance.now() - t0 };
}

/**
 * Start `deno run --allow-net=127.0.0.1 FLAGS script root` and time it: to the first output
 * containing `done` (the probe's request completed) and to its exit, in ms.
 */
export async function coldRun(
  script: string,
  root: string,
  flags: readonly string[] = importFlags(),
): Promise<{ first: number; exit: number }> {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", ...flags, script, root],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let first = NaN;
  let buffer = "";
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    if (Number.isNaN(first) && buffer.includes("done")) first = performance.now() - t0;
  }
  const status = await child.status;
  const exit = performance.now() - t0;
  if (!status.success || Number.isNaN(first)) throw new Error(`${script} failed`);
  return { first, exit };
}
