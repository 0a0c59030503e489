/**
 * Running the real `xcap` command in a subprocess for the CLI tests: `deno run` with the test
 * task's import map and lock, network limited to 127.0.0.1, files limited to one temp dir, and
 * only the environment variables `xcap` documents (plus Deno's own cache location).
 *
 * Helpers only, no tests: imported by `cli_subprocess_test.ts` and `cli_kamailio_test.ts`.
 */
const REPO = decodeURIComponent(new URL("..", import.meta.url).pathname);

/** The CLI's entry point. */
export const MAIN = `${REPO}src/cli/main.ts`;

/** The environment variables `xcap` reads. */
export const CLI_ENV_NAMES: readonly string[] = [
  "XCAP_ROOT",
  "XCAP_SIP_ADDRESS",
  "XCAP_PASSWORD",
  "XCAP_CONFIG",
  "HOME",
  "USERPROFILE",
  "NO_COLOR",
  "TERM",
];

let denoDir: string | undefined;

/** Deno's cache directory, so the subprocess finds the npm packages offline with HOME moved. */
export async function findDenoDir(): Promise<string> {
  if (denoDir !== undefined) return denoDir;
  const fromEnv = Deno.env.get("DENO_DIR");
  if (fromEnv) return denoDir = fromEnv;
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  denoDir = JSON.parse(new TextDecoder().decode(info.stdout)).denoDir as string;
  return denoDir;
}

/** The arguments of `deno run` for `xcap` with permissions limited to `dir` and 127.0.0.1. */
export function denoRunArgs(dir: string): string[] {
  return [
    "run",
    "--quiet",
    `--import-map=${REPO}.ci/import_map.json`,
    `--lock=${REPO}.ci/deno.lock`,
    "--allow-net=127.0.0.1",
    `--allow-read=${dir}`,
    `--allow-write=${dir}`,
    `--allow-env=${CLI_ENV_NAMES.join(",")}`,
    "--no-prompt",
    MAIN,
  ];
}

/**
 * A clean environment for `xcap`: HOME is `dir` (so `~/.xcapclient.ini` is `dir`'s), Deno's
 * cache is found, nothing else leaks in from the test's environment.
 */
export function cliEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { HOME: dir, DENO_NO_UPDATE_CHECK: "1", ...extra };
}

/**
 * A body that, printed raw on a terminal, would set the window title, clear the screen, write the
 * clipboard (OSC 52) and start a C1 CSI sequence.
 */
export const ESCAPES_BODY: string =
  '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">' +
  "\x1b]0;pwned-title\x07\x1b[2J\x1b[H\x1b]52;c;cm0gLXJmIH4=\x07\u009b31m" +
  "</resource-lists>\n";

/** What a run of `xcap` did. */
export interface CliRun {
  /** The exit code. */
  readonly code: number;
  /** stdout, as bytes. */
  readonly stdout: Uint8Array;
  /** stderr, as text. */
  readonly stderr: string;
}

/**
 * Run `xcap ARGS` in `dir` with `env` and, optionally, `stdin`. `allowRead` adds paths `xcap`
 * may read besides `dir`; `killAfterMs` kills a run that has not ended by then (a regression
 * that reads forever fails instead of hanging the suite).
 */
export async function runXcap(
  args: readonly string[],
  options: {
    readonly env: Record<string, string>;
    readonly dir: string;
    readonly stdin?: string;
    readonly allowRead?: readonly string[];
    readonly killAfterMs?: number;
  },
): Promise<CliRun> {
  const runArgs = denoRunArgs(options.dir).map((arg) =>
    arg === `--allow-read=${options.dir}` && options.allowRead !== undefined
      ? [arg, ...options.allowRead].join(",")
      : arg
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: [...runArgs, ...args],
    cwd: options.dir,
    clearEnv: true,
    env: { DENO_DIR: await findDenoDir(), ...options.env },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = options.killAfterMs === undefined
    ? undefined
    : setTimeout(() => child.kill("SIGKILL"), options.killAfterMs);
  try {
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(options.stdin));
      await writer.close();
    }
    const output = await child.output();
    return {
      code: output.code,
      stdout: output.stdout,
      stderr: new TextDecoder().decode(output.stderr),
    };
  } finally {
    clearTimeout(killer);
  }
}

/** Run `fn` with a fresh temp dir, removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "xcap-cli-" }));
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** What a measured run of `xcap` did, and its peak resident set size. */
export interface MeasuredCliRun extends CliRun {
  /** Peak RSS of the `xcap` process (`VmHWM`), in bytes. */
  readonly peakRssBytes: number;
}

/**
 * Run `xcap ARGS` like {@linkcode runXcap}, through `tests/_xcap_peak_rss.ts`, which reports the
 * process's own peak RSS from `/proc/PID/status` as it ends (Linux only). The report line is
 * removed from `stderr`.
 */
export async function runXcapMeasured(
  args: readonly string[],
  options: { readonly env: Record<string, string>; readonly dir: string },
): Promise<MeasuredCliRun> {
  const runArgs = denoRunArgs(options.dir)
    .flatMap((arg) =>
      arg === MAIN ? ["--allow-run=/bin/cat", `${REPO}tests/_xcap_peak_rss.ts`] : [arg]
    );
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...runArgs, ...args],
    cwd: options.dir,
    clearEnv: true,
    env: { DENO_DIR: await findDenoDir(), ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  const match = /peak-rss-bytes (\d+)\n$/.exec(stderr);
  if (match === null) throw new Error(`no peak RSS reported: ${stderr}`);
  return {
    code: output.code,
    stdout: output.stdout,
    stderr: stderr.slice(0, match.index),
    peakRssBytes: Number(match[1]),
  };
}
