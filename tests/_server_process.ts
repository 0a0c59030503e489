/**
 * The embedded server as a real process, for tests and soak scripts that measure what client
 * behaviour costs it: `deno run src/server/serve.ts` in a subprocess (optionally under
 * `ulimit -n`), with its resident memory, open file descriptors and liveness read from `/proc`.
 *
 * Helpers only, no tests.
 */
const REPO = decodeURIComponent(new URL("..", import.meta.url).pathname);

/** Options of {@linkcode spawnServer}. */
export interface SpawnServerOptions {
  /** Arguments of `serve.ts` after `--port 0` (e.g. `["--kv", path]`). */
  readonly args?: readonly string[];
  /** Run under `ulimit -n` with this soft and hard limit of open files. */
  readonly maxOpenFiles?: number;
  /** Extra environment variables of the server process. */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra `deno run` flags (e.g. `["--v8-flags=--max-old-space-size=256"]`, `["--allow-all"]`). */
  readonly denoFlags?: readonly string[];
}

/** A running server process. */
export interface ServerProcess {
  /** The XCAP root URL the server printed as its first line. */
  readonly xcapRoot: string;
  /** The server's port on 127.0.0.1. */
  readonly port: number;
  /** The process id of the Deno process serving (not of a wrapping shell). */
  readonly pid: number;
  /** Resident set size now, in bytes (`VmRSS` of `/proc/PID/status`). */
  rssBytes(): number;
  /** Peak resident set size so far, in bytes (`VmHWM`). */
  peakRssBytes(): number;
  /** Open file descriptors now (entries of `/proc/PID/fd`). */
  openFds(): number;
  /**
   * Minor page faults so far (`minflt`, field 10 of `/proc/PID/stat`): memory the process
   * touched for the first time, e.g. heap that malloc gave back to the system and grew again.
   */
  minorFaults(): number;
  /** Whether the process is still running. */
  alive(): boolean;
  /** Send a signal. */
  kill(signal?: Deno.Signal): void;
  /** Wait for the process to exit, at most `ms` milliseconds; `undefined` when it did not. */
  exited(ms: number): Promise<Deno.CommandStatus | undefined>;
  /** What the process wrote to stderr so far. */
  stderr(): string;
  /** SIGKILL if still running, wait for it, release the pipes. */
  stop(): Promise<void>;
}

/**
 * Another process's `/proc` entries, read through a subprocess: Deno asks for `--allow-all` to
 * read them directly, and the test task grants narrower permissions (`--allow-run` among them).
 */
function procRead(...args: string[]): string {
  const output = new Deno.Command(args[0]!, { args: args.slice(1), stderr: "null" }).outputSync();
  if (!output.success) throw new Error(`Cannot read ${args.at(-1)}`);
  return new TextDecoder().decode(output.stdout);
}

function statusField(pid: number, field: string): number {
  const status = procRead("cat", `/proc/${pid}/status`);
  const match = status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
  if (match === null) throw new Error(`No ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/**
 * Start `serve.ts --port 0 ...args` and wait for its XCAP root URL.
 *
 * @param options Server arguments, open-file limit, environment.
 * @returns The running process.
 */
export async function spawnServer(options: SpawnServerOptions = {}): Promise<ServerProcess> {
  const all = (options.denoFlags ?? []).some((flag) => flag === "--allow-all" || flag === "-A");
  const deno = [
    Deno.execPath(),
    "run",
    // `deno task serve`'s permissions, unless the test asks for all (which conflicts with them).
    ...(all ? [] : ["--allow-net", "--allow-read", "--allow-write", "--allow-env"]),
    `--import-map=${REPO}.ci/import_map.json`,
    `--lock=${REPO}.ci/deno.lock`,
    ...(options.denoFlags ?? []),
    `${REPO}src/server/serve.ts`,
    "--port",
    "0",
    ...(options.args ?? []),
  ];
  // `exec` keeps the pid: the shell becomes the Deno process after setting the limit.
  const child = new Deno.Command(
    options.maxOpenFiles === undefined ? deno[0]! : "sh",
    {
      args: options.maxOpenFiles === undefined
        ? deno.slice(1)
        : ["-c", `ulimit -n ${options.maxOpenFiles} && exec "$@"`, "sh", ...deno],
      cwd: REPO,
      env: { NO_COLOR: "1", ...options.env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    },
  ).spawn();
  let stderrText = "";
  const stderrDone = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({
      write(chunk) {
        stderrText += chunk;
      },
    }),
  ).catch(() => {});
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  while (!output.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) break;
    output += value;
  }
  // Keep draining stdout so the server never blocks on a full pipe.
  const stdoutDone = (async () => {
    try {
      while (!(await reader.read()).done) { /* discard */ }
    } catch {
      // The process is gone.
    }
  })();
  const xcapRoot = output.split("\n")[0]!;
  if (!/^http:\/\//.test(xcapRoot)) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
    await stderrDone;
    throw new Error(`serve.ts did not start: ${JSON.stringify(output)} ${stderrText}`);
  }
  let status: Deno.CommandStatus | undefined;
  const statusPromise = child.status.then((s) => status = s);
  const pid = child.pid;
  return {
    xcapRoot,
    port: Number(new URL(xcapRoot).port),
    pid,
    rssBytes: () => statusField(pid, "VmRSS"),
    peakRssBytes: () => statusField(pid, "VmHWM"),
    openFds: () => procRead("ls", "-1", `/proc/${pid}/fd`).split("\n").filter(Boolean).length,
    // After the command name (which may hold spaces) in parentheses, fields start at 3.
    minorFaults: () => Number(procRead("cat", `/proc/${pid}/stat`).split(") ")[1]!.split(" ")[7]),
    alive: () => status === undefined,
    kill(signal: Deno.Signal = "SIGTERM") {
      if (status === undefined) child.kill(signal);
    },
    async exited(ms: number) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), ms);
      });
      try {
        return await Promise.race([statusPromise, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    stderr: () => stderrText,
    async stop() {
      if (status === undefined) {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already gone.
        }
      }
      await statusPromise;
      await stdoutDone;
      await stderrDone;
    },
  };
}
