/**
 * Test harness: a throwaway PostgreSQL cluster on 127.0.0.1, in a temporary directory, on a free
 * port, run by an unprivileged user (PostgreSQL refuses to run as root: as root the harness uses
 * the `postgres` system user Debian's package creates, or creates a system user `xcap-postgres`).
 * The cluster's superuser is `xcap`, with `trust` authentication on 127.0.0.1 and the socket in
 * the cluster's own directory, so nothing outside the directory is touched.
 *
 * One cluster per test file: {@linkcode postgresSuite} starts it before the file's first test that
 * needs it, and stops it (and removes its directory) after the file's last registered test, also
 * when a test failed; a process that exits early still stops it from an `unload` hook. Each test
 * takes a fresh database of its own with {@linkcode PostgresCluster.createDatabase}.
 *
 * Without PostgreSQL (Debian: `apt-get install postgresql`), the suite's tests are ignored with
 * one note, unless `CI` is `"true"`: then each of them fails.
 *
 * ```ts ignore
 * import { postgresSuite } from "./_postgres.ts";
 *
 * const suite = postgresSuite();
 * suite.test("PostgresStore.get() of a missing document", async (pg) => {
 *   const url = await pg.createDatabase();
 *   // ... PostgresStore on url ...
 * });
 * ```
 *
 * Needs `--allow-run --allow-read --allow-write --allow-env --allow-net=127.0.0.1`.
 *
 * @module
 */
import { freePort } from "./_kamailio.ts";

/** A running (or stopped, for restarts) PostgreSQL cluster on 127.0.0.1. */
export interface PostgresCluster {
  /** The TCP port on 127.0.0.1 (kept across {@linkcode PostgresCluster.restart}). */
  readonly port: number;
  /** The cluster's directory: `data/` (the cluster), `postgres.log`, the socket. */
  readonly dir: string;
  /** The connection URL of a database, e.g. `postgres://xcap@127.0.0.1:41234/xcap`. */
  url(database?: string): string;
  /** Create a fresh, empty database and return its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Run SQL through `psql` and return its unaligned, tuples-only output (`|` between columns). */
  psql(sql: string, database?: string): Promise<string>;
  /**
   * Stop the server, keeping the data: `fast` rolls back open transactions and disconnects
   * clients; `immediate` exits without a shutdown checkpoint, as a crash would (recovery replays
   * the WAL at the next start).
   */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  /** Start a stopped server again, on the same port. */
  start(): Promise<void>;
  /** Whether the server is running. */
  running(): boolean;
  /**
   * Send a signal to the server and all its processes: `SIGSTOP` freezes it (connections open,
   * nothing answers, as a hung database), `SIGCONT` wakes it.
   */
  signal(signal: "SIGSTOP" | "SIGCONT"): Promise<void>;
  /** The tail of the server log (for failure messages). */
  logTail(lines?: number): string;
  /** Stop the server and remove its directory; calling it again returns the same promise. */
  destroy(): Promise<void>;
}

/** A test body that receives the file's cluster. */
export type PostgresTestFn = (pg: PostgresCluster, t: Deno.TestContext) => void | Promise<void>;

/** The tests of one file that share one cluster. */
export interface PostgresSuite {
  /**
   * Register a Deno test that gets the file's cluster (started on first use).
   *
   * @param name The test name.
   * @param fn The test body.
   */
  test(name: string, fn: PostgresTestFn): void;
}

/** The role every cluster has as its superuser. */
export const POSTGRES_ROLE = "xcap";
/** The database every cluster has besides the templates. */
export const POSTGRES_DATABASE = "xcap";
const SYSTEM_USER_FALLBACK = "xcap-postgres";
const PORT_ATTEMPTS = 5;

/** An unprivileged user to run PostgreSQL as. */
interface RunAs {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

interface Tools {
  readonly bin: string;
  /** The user to run as (when root); `undefined` when not root. */
  readonly runAs: RunAs | undefined;
}

let availability: { tools?: Tools; detail: string } | undefined;
const notedReasons = new Set<string>();
const clusters = new Map<string, Tools>();
let unloadHookInstalled = false;

function decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes).trim();
}

function isCi(): boolean {
  try {
    return Deno.env.get("CI") === "true";
  } catch {
    return false;
  }
}

function runSync(command: string, args: string[]): { ok: boolean; out: string; err: string } {
  try {
    const r = new Deno.Command(command, { args, stdin: "null", stdout: "piped", stderr: "piped" })
      .outputSync();
    return { ok: r.success, out: decode(r.stdout), err: decode(r.stderr) };
  } catch (e) {
    return { ok: false, out: "", err: e instanceof Error ? e.message : String(e) };
  }
}

/** The newest `/usr/lib/postgresql/N/bin` that has initdb, pg_ctl, postgres and psql. */
function findBin(): string | undefined {
  const base = "/usr/lib/postgresql";
  let versions: string[];
  try {
    versions = [...Deno.readDirSync(base)].filter((e) => /^\d+$/.test(e.name)).map((e) => e.name);
  } catch {
    return undefined;
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = `${base}/${version}/bin`;
    const complete = ["initdb", "pg_ctl", "postgres", "psql"].every((tool) => {
      try {
        return Deno.statSync(`${bin}/${tool}`).isFile;
      } catch {
        return false;
      }
    });
    if (complete) return bin;
  }
  return undefined;
}

/** As root: the `postgres` user, or a system user created for the purpose. */
function systemUser(): RunAs | string {
  for (const name of ["postgres", SYSTEM_USER_FALLBACK]) {
    const uid = runSync("id", ["-u", name]);
    const gid = runSync("id", ["-g", name]);
    if (uid.ok && gid.ok) return { name, uid: Number(uid.out), gid: Number(gid.out) };
  }
  const created = runSync("useradd", [
    "--system",
    "--no-create-home",
    "--shell",
    "/usr/sbin/nologin",
    SYSTEM_USER_FALLBACK,
  ]);
  if (!created.ok) return `cannot create system user ${SYSTEM_USER_FALLBACK}: ${created.err}`;
  const uid = runSync("id", ["-u", SYSTEM_USER_FALLBACK]);
  const gid = runSync("id", ["-g", SYSTEM_USER_FALLBACK]);
  if (!uid.ok || !gid.ok) return `cannot find system user ${SYSTEM_USER_FALLBACK}`;
  return { name: SYSTEM_USER_FALLBACK, uid: Number(uid.out), gid: Number(gid.out) };
}

function check(): { tools?: Tools; detail: string } {
  if (availability !== undefined) return availability;
  try {
    const bin = findBin();
    if (bin === undefined) {
      availability = {
        detail: "PostgreSQL is not installed (no /usr/lib/postgresql/N/bin with initdb, pg_ctl, " +
          "postgres and psql; apt-get install postgresql)",
      };
    } else if (runSync("id", ["-u"]).out === "0") {
      if (!runSync("runuser", ["--help"]).ok) {
        availability = { detail: "running as root without runuser (util-linux)" };
      } else {
        const user: RunAs | string = systemUser();
        availability = typeof user === "string"
          ? { detail: user }
          : { tools: { bin, runAs: user }, detail: `${bin} as ${user.name}` };
      }
    } else {
      availability = { tools: { bin, runAs: undefined }, detail: bin };
    }
  } catch (e) {
    availability = {
      detail: `cannot look for PostgreSQL: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
  return availability!;
}

/**
 * Whether {@linkcode startPostgres} can start a cluster (binaries found; as root, an unprivileged
 * user and `runuser`).
 *
 * @returns `true` when it can
 */
export function postgresAvailable(): boolean {
  return check().tools !== undefined;
}

/** `command args` as the cluster's user. */
function asUser(tools: Pick<Tools, "runAs">, command: string, args: string[]): [string, string[]] {
  return tools.runAs === undefined
    ? [command, args]
    : ["runuser", ["-u", tools.runAs.name, "--", command, ...args]];
}

async function run(
  tools: Pick<Tools, "runAs">,
  command: string,
  args: string[],
): Promise<{ ok: boolean; out: string; err: string }> {
  const [cmd, cmdArgs] = asUser(tools, command, args);
  const r = await new Deno.Command(cmd, {
    args: cmdArgs,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { LC_ALL: "C.UTF-8" },
  }).output();
  return { ok: r.success, out: decode(r.stdout), err: decode(r.stderr) };
}

function installUnloadHook(): void {
  if (unloadHookInstalled) return;
  unloadHookInstalled = true;
  // A runner that bailed out early: never leave a postgres behind. Unload cannot await.
  globalThis.addEventListener("unload", () => {
    for (const [dir, tools] of clusters) {
      try {
        const [cmd, args] = asUser(tools, `${tools.bin}/pg_ctl`, [
          "stop",
          "-D",
          `${dir}/data`,
          "-m",
          "immediate",
          "-w",
        ]);
        new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "null" })
          .outputSync();
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // Best effort at exit.
      }
    }
    clusters.clear();
  });
}

/**
 * Create a cluster in a fresh temporary directory and start it on a free port of 127.0.0.1.
 *
 * @returns the running cluster; `destroy()` it when done
 * @throws {Error} when PostgreSQL is missing or does not start (with the log tail)
 */
export async function startPostgres(): Promise<PostgresCluster> {
  const { tools, detail } = check();
  if (tools === undefined) throw new Error(`Cannot start PostgreSQL: ${detail}`);
  const dir = await Deno.makeTempDir({ prefix: "xcap-postgres-" });
  clusters.set(dir, tools);
  installUnloadHook();
  const data = `${dir}/data`;
  const log = `${dir}/postgres.log`;
  try {
    if (tools.runAs !== undefined) await Deno.chown(dir, tools.runAs.uid, tools.runAs.gid);
    const init = await run(tools, `${tools.bin}/initdb`, [
      "-D",
      data,
      "-U",
      POSTGRES_ROLE,
      "--auth=trust",
      "-E",
      "UTF8",
      "--locale=C.UTF-8",
      "--no-sync",
    ]);
    if (!init.ok) throw new Error(`initdb failed: ${init.err || init.out}`);
  } catch (e) {
    clusters.delete(dir);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }

  let port = 0;
  let isRunning = false;
  const logTail = (lines = 30): string => {
    try {
      return Deno.readTextFileSync(log).split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  };
  const pgCtl = (args: string[]) => run(tools, `${tools.bin}/pg_ctl`, ["-D", data, ...args]);
  const startOn = async (p: number) => {
    const options = [
      "-c listen_addresses=127.0.0.1",
      `-p ${p}`,
      `-k ${dir}`,
      // Room for several server processes' pools and a Kamailio.
      "-c max_connections=200",
    ].join(" ");
    return await pgCtl(["-l", log, "-o", options, "-w", "-t", "60", "start"]);
  };

  let failure = "";
  for (let attempt = 0; attempt < PORT_ATTEMPTS && !isRunning; attempt++) {
    const candidate = freePort();
    const started = await startOn(candidate);
    if (started.ok) {
      port = candidate;
      isRunning = true;
    } else {
      failure = `${started.err || started.out}\n${logTail()}`;
      if (!/already in use|could not bind|could not create any TCP/i.test(failure)) break;
    }
  }
  if (!isRunning) {
    clusters.delete(dir);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw new Error(`Cannot start PostgreSQL: ${failure}`);
  }

  const psql = async (sqlText: string, database = POSTGRES_DATABASE): Promise<string> => {
    const r = await run(tools, `${tools.bin}/psql`, [
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
      "-U",
      POSTGRES_ROLE,
      "-d",
      database,
      "-v",
      "ON_ERROR_STOP=1",
      "-X",
      "-A",
      "-t",
      "-q",
      "-c",
      sqlText,
    ]);
    if (!r.ok) throw new Error(`psql failed: ${r.err}`);
    return r.out;
  };
  await psql(`CREATE DATABASE ${POSTGRES_DATABASE}`, "postgres");

  let databases = 0;
  let destroyed: Promise<void> | undefined;
  const cluster: PostgresCluster = {
    port,
    dir,
    url: (database = POSTGRES_DATABASE) =>
      `postgres://${POSTGRES_ROLE}@127.0.0.1:${port}/${database}`,
    async createDatabase(name?: string) {
      const database = name ?? `test_${++databases}`;
      if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`Bad database name ${database}`);
      await psql(`CREATE DATABASE ${database}`, "postgres");
      return cluster.url(database);
    },
    psql,
    async stop(mode: "fast" | "immediate" = "fast") {
      if (!isRunning) return;
      const stopped = await pgCtl(["stop", "-m", mode, "-w", "-t", "60"]);
      if (!stopped.ok) throw new Error(`pg_ctl stop failed: ${stopped.err}\n${logTail()}`);
      isRunning = false;
    },
    async start() {
      if (isRunning) return;
      const started = await startOn(port);
      if (!started.ok) throw new Error(`pg_ctl start failed: ${started.err}\n${logTail()}`);
      isRunning = true;
    },
    running: () => isRunning,
    async signal(signal: "SIGSTOP" | "SIGCONT") {
      // The postmaster's pid is the first line of postmaster.pid; its children are the backends
      // and background workers. Only these processes are signalled.
      const postmaster = Number((await Deno.readTextFile(`${data}/postmaster.pid`)).split("\n")[0]);
      const children = await run({ runAs: undefined }, "cat", [
        `/proc/${postmaster}/task/${postmaster}/children`,
      ]);
      const pids = [postmaster, ...children.out.split(/\s+/).filter(Boolean).map(Number)];
      for (const pid of signal === "SIGSTOP" ? pids : pids.reverse()) {
        try {
          Deno.kill(pid, signal);
        } catch {
          // A backend that exited meanwhile.
        }
      }
    },
    logTail,
    destroy() {
      destroyed ??= (async () => {
        clusters.delete(dir);
        if (isRunning) {
          await pgCtl(["stop", "-m", "immediate", "-w", "-t", "60"]);
          isRunning = false;
        }
        await Deno.remove(dir, { recursive: true });
      })();
      return destroyed;
    },
  };
  return cluster;
}

/** Options of {@linkcode postgresSuite}. */
export interface PostgresSuiteOptions {
  /**
   * Something else the tests need (e.g. `kamailioPostgresAvailable`): without it they are
   * ignored, or fail under `CI=true`, as without PostgreSQL.
   */
  readonly requires?: () => { readonly available: boolean; readonly detail: string };
}

/**
 * The tests of one file, sharing one cluster: started before the first test that runs, destroyed
 * after the last registered test finished (or at process exit, when a filter skipped some).
 * Without PostgreSQL the tests are ignored with a note, or fail when `CI` is `"true"`.
 *
 * @param options What else the tests need.
 * @returns the suite; register tests with its `test`
 */
export function postgresSuite(options: PostgresSuiteOptions = {}): PostgresSuite {
  let registered = 0;
  let finished = 0;
  let cluster: Promise<PostgresCluster> | undefined;
  return {
    test(name: string, fn: PostgresTestFn): void {
      const found = check();
      const also = found.tools === undefined ? undefined : options.requires?.();
      const tools = also === undefined || also.available ? found.tools : undefined;
      const detail = also !== undefined && !also.available ? also.detail : found.detail;
      if (tools === undefined) {
        if (isCi()) {
          Deno.test(name, () => {
            throw new Error(`These tests are required when CI=true but cannot run: ${detail}`);
          });
          return;
        }
        if (!notedReasons.has(detail)) {
          notedReasons.add(detail);
          console.warn(`PostgreSQL tests are ignored (with CI=true they fail instead): ${detail}`);
        }
        Deno.test({ name, ignore: true, fn: () => {} });
        return;
      }
      registered++;
      Deno.test(name, async (t) => {
        try {
          cluster ??= startPostgres();
          const pg = await cluster;
          // A test that stopped the server must not leave it down for the next one.
          await pg.start();
          await fn(pg, t);
        } finally {
          if (++finished === registered && cluster !== undefined) {
            const done = cluster;
            cluster = undefined;
            await (await done.catch(() => undefined))?.destroy();
          }
        }
      });
    },
  };
}
