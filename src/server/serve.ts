/**
 * Run the XCAP server on the hardened HTTP/1.1 server of `http1.ts` ({@linkcode serveHttp1}:
 * connection limit, header, keep-alive and body timeouts, graceful shutdown):
 * {@linkcode startXcapServer} for tests and scripts, and the `deno task serve` command line.
 *
 * Deno-specific edge file (`Deno.listen`, `Deno.openKv`, signals).
 *
 * ```sh
 * deno task serve --port 8080 --kv ./xcap.sqlite --user sip:alice@example.com:secret
 * ```
 *
 * The first line on stdout is the XCAP root URL (`http://127.0.0.1:8080/xcap-root`); SIGINT and
 * SIGTERM stop accepting, let requests in flight finish (up to `--shutdown-timeout-ms`) and exit 0.
 *
 * @module
 */
import { err, ok, type Result, ResultAsync } from "npm:neverthrow@^8.2.0";
import { invalidArgument, type InvalidArgumentError } from "../errors.ts";
import { ownsXui, type ServerAuthenticationOptions } from "./auth.ts";
import { createXcapHandler, type XcapHandlerOptions } from "./handler.ts";
import { type Http1ServerOptions, serveHttp1 } from "./http1.ts";
import { KvStore } from "./kv_store.ts";
import type { DocumentStore } from "./store.ts";

/** Options of {@linkcode startXcapServer}. */
export interface StartXcapServerOptions
  extends
    Omit<XcapHandlerOptions, "store" | "authentication">,
    Omit<Http1ServerOptions, "hostname" | "port" | "onError"> {
  /** The address to listen on. @default "127.0.0.1" */
  readonly hostname?: string;
  /** The port; `0` picks a free one. @default 0 */
  readonly port?: number;
  /** A Deno KV database file to keep documents in (`":memory:"` works too). @default in memory */
  readonly kvPath?: string;
  /** A store to use instead (wins over `kvPath`). */
  readonly store?: DocumentStore;
  /**
   * Users, SIP address to password, e.g. `{ "sip:alice@example.com": "secret" }`: turns on
   * Digest (and, with `allowBasicOverHttp`, Basic) authentication. A user signs in with the
   * address's user part (`alice`, Kamailio's convention; ambiguous when two addresses share it),
   * `user@host`, or the whole address, and owns exactly that address's tree.
   * Without users (and without `authentication`), there is no authentication.
   */
  readonly users?: Readonly<Record<string, string>>;
  /** The realm for `users`. @default "xcap" */
  readonly realm?: string;
  /** Full authentication options instead of `users`. */
  readonly authentication?: ServerAuthenticationOptions;
  /** Also accept Basic over plain HTTP (for `users`). @default false */
  readonly allowBasicOverHttp?: boolean;
  /**
   * How long `close()` lets requests in flight finish before it cuts their connections.
   * @default 10000
   */
  readonly shutdownTimeoutMs?: number;
}

/** A running server. */
export interface XcapServer {
  /** The XCAP root URL, e.g. `http://127.0.0.1:45123/xcap-root`. */
  readonly xcapRoot: string;
  /** The address listened on. */
  readonly hostname: string;
  /** The port listened on (the one picked, when `0` was asked for). */
  readonly port: number;
  /**
   * Stop listening, close idle connections, let requests in flight finish for up to
   * `shutdownTimeoutMs` (then cut them), close the KV database if it opened one.
   */
  close(): Promise<void>;
}

/** The server could not start (address in use, no permission, KV unavailable). */
export interface ServerStartError {
  /** Discriminant. */
  readonly _tag: "ServerStart";
  /** What failed. */
  readonly message: string;
  /** The underlying error. */
  readonly cause: unknown;
}

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

function startError(message: string, cause: unknown): ServerStartError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return Object.freeze({ _tag: "ServerStart", message: `${message}: ${reason}`, cause });
}

/** `user@host` of a SIP address, without scheme and parameters. */
function userAtHost(address: string): string {
  return address.replace(/^(sips?|tel):/i, "").split(/[;?]/)[0]!;
}

/** Authentication for a fixed set of users (see {@linkcode StartXcapServerOptions.users}). */
function usersAuthentication(
  users: Readonly<Record<string, string>>,
  realm: string,
  allowBasicOverHttp: boolean,
): ServerAuthenticationOptions {
  const byName = new Map<string, { address: string; password: string } | null>();
  const add = (name: string, entry: { address: string; password: string }) => {
    const existing = byName.get(name);
    // A bare user part shared by two addresses signs in nobody: it would be ambiguous.
    byName.set(name, existing === undefined || existing?.address === entry.address ? entry : null);
  };
  for (const [address, password] of Object.entries(users)) {
    const entry = { address, password };
    const full = userAtHost(address);
    add(address, entry);
    add(full, entry);
    const at = full.indexOf("@");
    if (at > 0) add(full.slice(0, at), entry);
  }
  return {
    realm,
    allowBasicOverHttp,
    lookup: (username) => byName.get(username)?.password,
    owns: (username, xui) => {
      const entry = byName.get(username);
      return entry !== undefined && entry !== null && ownsXui(userAtHost(entry.address), xui);
    },
  };
}

/**
 * Start the XCAP server in this process ({@linkcode createXcapHandler} on {@linkcode serveHttp1}):
 * for tests, scripts, the demo and `deno task serve`.
 *
 * @param options Address, store, users and everything {@linkcode createXcapHandler} takes.
 * @returns The running server (its `xcapRoot` and `close`), or `ServerStart` when it cannot
 * listen or open its database.
 *
 * @example Usage
 * ```ts
 * import { startXcapServer } from "@xcap/xcap/server";
 * import { assertEquals, assertMatch } from "@std/assert";
 *
 * const server = (await startXcapServer({ users: { "sip:alice@example.com": "secret" } }))
 *   ._unsafeUnwrap();
 * assertMatch(server.xcapRoot, /^http:\/\/127\.0\.0\.1:\d+\/xcap-root$/);
 * const anonymous = await fetch(`${server.xcapRoot}/resource-lists/users/sip:alice@example.com/index`);
 * assertEquals(anonymous.status, 401);
 * await anonymous.body?.cancel();
 * await server.close();
 * ```
 */
export function startXcapServer(
  options: StartXcapServerOptions = {},
): ResultAsync<XcapServer, ServerStartError> {
  const start = async (): Promise<Result<XcapServer, ServerStartError>> => {
    let kv: Deno.Kv | undefined;
    let store = options.store;
    try {
      if (store === undefined && options.kvPath !== undefined) {
        kv = await Deno.openKv(options.kvPath);
        store = new KvStore(kv);
      }
    } catch (e) {
      return err(startError(`Cannot open Deno KV ${JSON.stringify(options.kvPath)}`, e));
    }
    const authentication = options.authentication ??
      (options.users !== undefined && Object.keys(options.users).length > 0
        ? usersAuthentication(
          options.users,
          options.realm ?? "xcap",
          options.allowBasicOverHttp ?? false,
        )
        : undefined);
    const handler = createXcapHandler({
      ...options,
      ...(store === undefined ? {} : { store }),
      ...(authentication === undefined ? {} : { authentication }),
    });
    const hostname = options.hostname ?? "127.0.0.1";
    const listening = serveHttp1(handler, { ...options, hostname, port: options.port ?? 0 });
    if (listening.isErr()) {
      kv?.close();
      const where = `Cannot listen on ${hostname}:${options.port ?? 0}`;
      return err(startError(where, listening.error.cause));
    }
    const server = listening.value;
    const port = server.addr.port;
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    const rootPath = `/${(options.xcapRootPath ?? "/xcap-root").replace(/^\/+|\/+$/g, "")}`
      .replace(/^\/$/, "");
    let closed: Promise<void> | undefined;
    return ok(Object.freeze({
      xcapRoot: `http://${host}:${port}${rootPath}`,
      hostname,
      port,
      close(): Promise<void> {
        closed ??= (async () => {
          try {
            await server.shutdown(options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS);
          } finally {
            try {
              kv?.close();
            } catch {
              // Already closed.
            }
          }
        })();
        return closed;
      },
    }));
  };
  return new ResultAsync(start());
}

/** What the command line asks for: server options, or help. */
export type ServeCommand =
  | { readonly kind: "serve"; readonly options: StartXcapServerOptions }
  | { readonly kind: "help"; readonly text: string };

const USAGE = `Usage: deno task serve [options]

  --hostname HOST        address to listen on (default 127.0.0.1)
  --port PORT            port; 0 picks a free one (default 8080)
  --kv PATH              keep documents in this Deno KV file (default: in memory)
  --user ADDRESS:PASS    a user, e.g. sip:alice@example.com:secret (repeatable;
                         without users there is no authentication)
  --realm REALM          authentication realm (default xcap)
  --root PATH            XCAP root path (default /xcap-root)
  --global-writable      allow PUT and DELETE of global documents
  --allow-basic-over-http  accept Basic credentials over plain HTTP
  --max-connections N    connections served at once; more are shed with 503
                         (default: open-file limit less a tenth, at most 32768)
  --header-timeout-ms MS a request head must arrive within MS (default 30000)
  --keep-alive-timeout-ms MS  close connections idle between requests (default 5000)
  --body-timeout-ms MS   close when a request body or response stalls MS (default 30000)
  --shutdown-timeout-ms MS  on SIGINT/SIGTERM, requests in flight get MS to finish
                         before their connections are cut (default 10000)
  --help                 this text

Prints the XCAP root URL as its first line; SIGINT or SIGTERM stops accepting, lets requests
in flight finish (up to --shutdown-timeout-ms) and exits 0.`;

/** Numeric options: flag, option name, smallest value allowed. */
const NUMERIC_FLAGS: Readonly<Record<string, readonly [NumericOption, number]>> = {
  "--max-connections": ["maxConnections", 1],
  "--header-timeout-ms": ["headerTimeoutMs", 1],
  "--keep-alive-timeout-ms": ["keepAliveTimeoutMs", 1],
  "--body-timeout-ms": ["bodyTimeoutMs", 1],
  "--shutdown-timeout-ms": ["shutdownTimeoutMs", 0],
};

type NumericOption =
  | "maxConnections"
  | "headerTimeoutMs"
  | "keepAliveTimeoutMs"
  | "bodyTimeoutMs"
  | "shutdownTimeoutMs";

/**
 * Parse the `deno task serve` command line.
 *
 * `--user` takes a SIP address and a password joined by `:`; the password starts at the first
 * `:` after the address's `@` (so it may itself contain `:`, while the address cannot carry a
 * port).
 *
 * @param args The arguments, e.g. `Deno.args`.
 * @returns The options (`port` defaults to 8080 here), the help text for `--help`, or
 * `InvalidArgument` naming the bad option.
 *
 * @example Usage
 * ```ts
 * import { parseServeArgs } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const command = parseServeArgs(["--port", "0", "--user", "sip:alice@example.com:se:cret"]);
 * assertEquals(command._unsafeUnwrap(), {
 *   kind: "serve",
 *   options: { hostname: "127.0.0.1", port: 0, users: { "sip:alice@example.com": "se:cret" } },
 * });
 * assertEquals(parseServeArgs(["--port", "http"]).isErr(), true);
 * ```
 */
export function parseServeArgs(
  args: readonly string[],
): Result<ServeCommand, InvalidArgumentError> {
  let hostname = "127.0.0.1";
  let port = 8080;
  let kvPath: string | undefined;
  let realm: string | undefined;
  let root: string | undefined;
  let globalWritable = false;
  let allowBasicOverHttp = false;
  const users: Record<string, string> = {};
  const numbers: Partial<Record<NumericOption, number>> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const value = (): string | undefined => eq >= 0 ? arg.slice(eq + 1) : args[++i];
    switch (name) {
      case "--help":
      case "-h":
        return ok({ kind: "help", text: USAGE });
      case "--global-writable":
        globalWritable = true;
        break;
      case "--allow-basic-over-http":
        allowBasicOverHttp = true;
        break;
      case "--hostname":
      case "--port":
      case "--kv":
      case "--user":
      case "--realm":
      case "--root": {
        const v = value();
        if (v === undefined || v === "") {
          return err(invalidArgument(name, `Option ${name} needs a value`));
        }
        if (name === "--hostname") hostname = v;
        else if (name === "--kv") kvPath = v;
        else if (name === "--realm") realm = v;
        else if (name === "--root") root = v;
        else if (name === "--port") {
          if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) {
            return err(
              invalidArgument(
                "--port",
                `Option --port needs a number 0-65535, not ${JSON.stringify(v)}`,
              ),
            );
          }
          port = Number(v);
        } else {
          const at = v.indexOf("@");
          const colon = at < 0 ? -1 : v.indexOf(":", at);
          if (at < 0 || colon < 0 || colon === v.length - 1) {
            return err(invalidArgument(
              "--user",
              "Option --user needs SIP-ADDRESS:PASSWORD, e.g. sip:alice@example.com:PASSWORD",
            ));
          }
          users[v.slice(0, colon)] = v.slice(colon + 1);
        }
        break;
      }
      default: {
        const numeric = NUMERIC_FLAGS[name];
        if (numeric === undefined) {
          return err(invalidArgument(name, `Unknown option ${JSON.stringify(name)}; see --help`));
        }
        const v = value();
        if (v === undefined || !/^\d{1,9}$/.test(v) || Number(v) < numeric[1]) {
          return err(invalidArgument(
            name,
            `Option ${name} needs a whole number of at least ${numeric[1]}, not ${
              JSON.stringify(v ?? "")
            }`,
          ));
        }
        numbers[numeric[0]] = Number(v);
      }
    }
  }
  const options: StartXcapServerOptions = {
    hostname,
    port,
    ...(kvPath === undefined ? {} : { kvPath }),
    ...(Object.keys(users).length === 0 ? {} : { users }),
    ...(realm === undefined ? {} : { realm }),
    ...(root === undefined ? {} : { xcapRootPath: root }),
    ...(globalWritable ? { globalWritable } : {}),
    ...(allowBasicOverHttp ? { allowBasicOverHttp } : {}),
    ...numbers,
  };
  return ok({ kind: "serve", options });
}

async function main(): Promise<number> {
  const command = parseServeArgs(Deno.args);
  if (command.isErr()) {
    console.error(`${command.error.message}\n\n${USAGE}`);
    return 2;
  }
  if (command.value.kind === "help") {
    console.log(command.value.text);
    return 0;
  }
  const started = await startXcapServer({
    ...command.value.options,
    onError: (error) => console.error("xcap server: internal error:", error),
  });
  if (started.isErr()) {
    console.error(started.error.message);
    return 1;
  }
  const server = started.value;
  const { promise, resolve } = Promise.withResolvers<void>();
  const stop = () => resolve();
  Deno.addSignalListener("SIGINT", stop);
  try {
    Deno.addSignalListener("SIGTERM", stop);
  } catch {
    // SIGTERM cannot be listened to on Windows.
  }
  // Listening for signals before the URL is out: whoever starts us may signal at once.
  console.log(server.xcapRoot);
  await promise;
  await server.close();
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main());
}
