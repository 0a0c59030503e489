/**
 * Test harness: a real Kamailio `xcap_server` on 127.0.0.1, started and stopped by the scripts in
 * `tests/kamailio/` (see its README for how Kamailio deviates from RFC 4825).
 *
 * One server per test: {@linkcode kamailioTest} starts a fresh server (own port, own temp dir,
 * empty database) before the test body and stops it afterwards, inside the same test. Start-up
 * takes about 40 ms and shutdown about 60 ms here, so sharing a server between tests would save
 * little and cost isolation; starting and stopping inside one test also keeps Deno's op and
 * resource sanitizers satisfied (the start and stop scripts are awaited child processes; Kamailio
 * itself runs detached in the background and is not a Deno resource). Tests that want one server
 * for several cases use `t.step` inside one `kamailioTest`.
 *
 * Without Kamailio installed, `kamailioTest` registers its tests as ignored and prints one note,
 * unless the environment variable `CI` is `"true"`: then each such test fails.
 *
 * ```ts ignore
 * import { assertEquals } from "@std/assert";
 * import { kamailioTest } from "./_kamailio.ts";
 *
 * kamailioTest("GET xcap-caps answers 200", { auth: true }, async (server) => {
 *   const response = await fetch(`${server.xcapRoot}/xcap-caps/global/index`);
 *   await response.body?.cancel();
 *   assertEquals(response.status, 200);
 * });
 * ```
 *
 * Needs `--allow-run --allow-read --allow-write --allow-env --allow-net=127.0.0.1`.
 *
 * @module
 */

/** Options for {@linkcode startKamailio}. */
export interface StartKamailioOptions {
  /**
   * HTTP Digest authentication (MD5, qop=auth, realm "xcap"); every user's password is
   * {@linkcode KamailioServer.password} and a user may touch only its own documents.
   * @default {false}
   */
  auth?: boolean;
  /**
   * Number of TCP worker processes. With sqlite, concurrent writes from several workers fail
   * ("database is locked"); use `dbtext: true` for parallel load.
   * @default {1}
   */
  workers?: number;
  /**
   * Store documents with db_text (in memory) instead of sqlite.
   * @default {false}
   */
  dbtext?: boolean;
  /**
   * Store documents in PostgreSQL through db_postgres instead of sqlite: a connection URL such as
   * `postgres://xcap@127.0.0.1:41234/xcap` (see `tests/_postgres.ts`). The database must already
   * hold Kamailio's `version` and `xcap` tables. Needs `kamailio-postgres-modules`.
   */
  postgres?: string;
}

/** A running Kamailio XCAP server on 127.0.0.1. */
export interface KamailioServer {
  /** The XCAP root URI without a trailing slash, e.g. `http://127.0.0.1:41234/xcap-root`. */
  readonly xcapRoot: string;
  /** Every user's password when started with `auth: true` (ignored otherwise): `"secret"`. */
  readonly password: string;
  /** The TCP port on 127.0.0.1. */
  readonly port: number;
  /** The server's scratch directory (database, `kamailio.log`); removed by `stop()`. */
  readonly dir: string;
  /** Stops Kamailio and removes its directory; calling it again returns the same promise. */
  stop(): Promise<void>;
}

/** Options for {@linkcode kamailioTest}: the server's options. */
export type KamailioTestOptions = StartKamailioOptions;

/** A test body that receives its own freshly started server. */
export type KamailioTestFn = (
  server: KamailioServer,
  t: Deno.TestContext,
) => void | Promise<void>;

const PASSWORD = "secret";
const START_SCRIPT = scriptPath("start.sh");
const STOP_SCRIPT = scriptPath("stop.sh");
/** start.sh exits with this code when the port was taken: pick another port and retry. */
const EXIT_PORT_IN_USE = 3;
const PORT_ATTEMPTS = 5;

/** Servers started and not stopped yet; stopped synchronously at unload as a last resort. */
const running = new Map<string, KamailioServer>();
let unloadHookInstalled = false;
const availability = new Map<boolean, { available: boolean; detail: string }>();
let notePrinted = false;

function scriptPath(name: string): string {
  return decodeURIComponent(new URL(`./kamailio/${name}`, import.meta.url).pathname);
}

function checkKamailio(postgres = false): { available: boolean; detail: string } {
  const known = availability.get(postgres);
  if (known) return known;
  let found: { available: boolean; detail: string };
  try {
    const result = new Deno.Command("sh", {
      args: [START_SCRIPT, "--check", ...(postgres ? ["--postgres", "postgres://"] : [])],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    const text = new TextDecoder().decode(result.success ? result.stdout : result.stderr).trim();
    found = { available: result.success, detail: text };
  } catch (error) {
    // e.g. no --allow-run: report it instead of pretending Kamailio is missing for another reason
    found = {
      available: false,
      detail: `cannot run ${START_SCRIPT} --check: ${
        error instanceof Error ? error.message : String(error)
      }`,
    };
  }
  availability.set(postgres, found);
  return found;
}

/**
 * Whether the kamailio binary, its xhttp/xcap_server/db modules and the tools `start.sh` needs
 * (sqlite3, curl) are installed. Checked once per process with `tests/kamailio/start.sh --check`.
 *
 * @returns `true` when {@linkcode startKamailio} can start a server
 */
export function kamailioAvailable(): boolean {
  return checkKamailio().available;
}

/**
 * Whether Kamailio can also store in PostgreSQL (`kamailio-postgres-modules`), and if not, what
 * is missing.
 *
 * @returns `available`, and `detail`: the check's report
 */
export function kamailioPostgresAvailable(): { available: boolean; detail: string } {
  return checkKamailio(true);
}

function isCi(): boolean {
  try {
    return Deno.env.get("CI") === "true";
  } catch {
    return false; // no --allow-env
  }
}

/**
 * A TCP port of 127.0.0.1 that was free a moment ago (the caller retries when it was taken since).
 *
 * @returns the port
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function installUnloadHook(): void {
  if (unloadHookInstalled) return;
  unloadHookInstalled = true;
  // A test that forgot stop(), or a runner that bailed out early: do not leave Kamailio behind.
  // Unload handlers cannot await, hence the synchronous calls.
  globalThis.addEventListener("unload", () => {
    for (const dir of running.keys()) {
      try {
        new Deno.Command("sh", { args: [STOP_SCRIPT, "-d", dir], stdin: "null" }).outputSync();
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // best effort at exit
      }
    }
    running.clear();
  });
}

function decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes).trim();
}

async function stopServer(dir: string): Promise<void> {
  running.delete(dir);
  const result = await new Deno.Command("sh", {
    args: [STOP_SCRIPT, "-d", dir],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(dir, { recursive: true });
  if (!result.success) {
    throw new Error(`Cannot stop Kamailio in ${dir}: ${decode(result.stderr)}`);
  }
}

/**
 * Starts a Kamailio XCAP server on a free port of 127.0.0.1, in a fresh temporary directory, and
 * resolves once it answers HTTP. Retries with another port when the chosen one was taken in the
 * meantime. Call `stop()` when done.
 *
 * @param options what to turn on; see {@linkcode StartKamailioOptions}
 * @returns the running server
 * @throws {Error} when Kamailio is not installed or does not come up (with its log tail)
 */
export async function startKamailio(options: StartKamailioOptions = {}): Promise<KamailioServer> {
  const check = checkKamailio(options.postgres !== undefined);
  if (!check.available) {
    throw new Error(`Cannot start Kamailio: ${check.detail}`);
  }
  const args = [START_SCRIPT];
  if (options.auth) args.push("--auth");
  if (options.dbtext) args.push("--dbtext");
  if (options.postgres !== undefined) args.push("--postgres", options.postgres);
  if (options.workers !== undefined) args.push("-w", String(options.workers));

  const dir = await Deno.makeTempDir({ prefix: "xcap-kamailio-" });
  let failure = "";
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = freePort();
    const result = await new Deno.Command("sh", {
      args: [...args, "-p", String(port), "-d", dir],
      env: { XCAP_PASSWORD: PASSWORD },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (result.success) {
      let stopping: Promise<void> | undefined;
      const server: KamailioServer = {
        xcapRoot: `http://127.0.0.1:${port}/xcap-root`,
        password: PASSWORD,
        port,
        dir,
        stop: () => stopping ??= stopServer(dir),
      };
      installUnloadHook();
      running.set(dir, server);
      return server;
    }
    failure = decode(result.stderr) || decode(result.stdout);
    if (result.code !== EXIT_PORT_IN_USE) break;
  }
  await Deno.remove(dir, { recursive: true });
  throw new Error(`Cannot start Kamailio: ${failure}`);
}

/**
 * Registers a Deno test that gets its own Kamailio server (started before `fn`, stopped after it,
 * also when it fails). When Kamailio is missing the test is ignored with a note, or fails when
 * `CI` is `"true"`.
 *
 * @param name the test name
 * @param fn the test body
 */
export function kamailioTest(name: string, fn: KamailioTestFn): void;
/**
 * Registers a Deno test that gets its own Kamailio server started with `options`.
 *
 * @param name the test name
 * @param options the server's options
 * @param fn the test body
 */
export function kamailioTest(name: string, options: KamailioTestOptions, fn: KamailioTestFn): void;
export function kamailioTest(
  name: string,
  optionsOrFn: KamailioTestOptions | KamailioTestFn,
  maybeFn?: KamailioTestFn,
): void {
  const options = typeof optionsOrFn === "function" ? {} : optionsOrFn;
  const fn = typeof optionsOrFn === "function" ? optionsOrFn : maybeFn;
  if (fn === undefined) throw new TypeError(`kamailioTest("${name}") needs a test function`);
  const check = checkKamailio();
  if (!check.available) {
    if (isCi()) {
      Deno.test(name, () => {
        throw new Error(
          `Kamailio is required when CI=true but is not usable: ${check.detail}`,
        );
      });
      return;
    }
    if (!notePrinted) {
      notePrinted = true;
      console.warn(
        `Kamailio tests are ignored (with CI=true they fail instead): ${check.detail}`,
      );
    }
    Deno.test({ name, ignore: true, fn: () => {} });
    return;
  }
  Deno.test(name, async (t) => {
    const server = await startKamailio(options);
    try {
      await fn(server, t);
    } finally {
      await server.stop();
    }
  });
}
