/**
 * Run the XCAP server on the hardened HTTP/1.1 server of `http1.ts` ({@linkcode serveHttp1}:
 * connection limit, header, keep-alive and body timeouts, graceful shutdown):
 * {@linkcode startXcapServer} for tests and scripts, and the `deno task serve` command line.
 *
 * Deno-specific edge file (`Deno.listen`, `Deno.openKv`, signals).
 *
 * ```sh
 * deno task serve --port 8080 --kv ./xcap.sqlite --users-file ./users
 * ```
 *
 * The first line on stdout is the XCAP root URL (`http://127.0.0.1:8080/xcap-root`); SIGINT and
 * SIGTERM stop accepting, let requests in flight finish (up to `--shutdown-timeout-ms`) and exit 0.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result, ResultAsync } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { invalidArgument, type InvalidArgumentError } from "../client/errors.ts";
import type { AuthenticationScheme, DigestAlgorithm, ServerAuthenticationOptions } from "./auth.ts";
import { checkCorsOptions, type CorsOptions } from "./cors.ts";
import { createXcapHandler, type XcapHandlerOptions } from "./handler.ts";
import { type Http1ServerOptions, serveHttp1 } from "./http1.ts";
import { KvStore } from "./kv_store.ts";
import type { DocumentStore } from "./store.ts";
import {
  hashUserLines,
  parseUsersFile,
  type UserCredential,
  usersAuthentication,
} from "./users.ts";
import { promptSecret } from "../cli/prompt.ts";
import { enterTaskDirectory } from "../cli/deno_io.ts";

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
  /**
   * A PostgreSQL database to keep documents in, in Kamailio's `xcap` table (created when
   * missing), e.g. `postgres://xcap:secret@127.0.0.1:5432/xcap`: see `PostgresStore`
   * (`@xcap/xcap/server/postgres`). Its `doc_uri` column starts with `xcapRootPath`, as
   * Kamailio's starts with its `xcap_root`. Wins over `kvPath`. @default in memory
   */
  readonly postgresUrl?: string;
  /** A store to use instead (wins over `kvPath` and `postgresUrl`). */
  readonly store?: DocumentStore;
  /**
   * Users, SIP address to password, e.g. `{ "sip:alice@example.com": "secret" }`: turns on
   * Digest (and, with `allowBasicOverHttp`, Basic) authentication. A user signs in with the
   * address's user part (`alice`), `user@host`, or the whole address, and owns exactly that
   * address's tree. Without users, `credentials`, `usersFile` or `authentication`, there is no
   * authentication.
   */
  readonly users?: Readonly<Record<string, string>>;
  /** More users: passwords or pre-hashed HA1 values (see {@linkcode parseUsersFile}). */
  readonly credentials?: readonly UserCredential[];
  /**
   * A users file to read at start (see {@linkcode parseUsersFile}): keeps passwords out of the
   * command line, where `ps` shows them, and lets them be stored as HA1 hashes.
   */
  readonly usersFile?: string;
  /** A fixed realm for every request. @default the addressed user's domain (OpenXCAP's rule) */
  readonly realm?: string;
  /**
   * The realm of requests that address no user (global documents). @default the users' domain
   * when they all share one, `"xcap"` otherwise
   */
  readonly defaultRealm?: string;
  /** The Digest algorithms offered, in order. @default ["SHA-256", "MD5"] */
  readonly digestAlgorithms?: readonly DigestAlgorithm[];
  /** See {@linkcode ServerAuthenticationOptions.maxTrackedNonces}. @default 65_536 */
  readonly maxTrackedNonces?: number;
  /** See {@linkcode ServerAuthenticationOptions.maxTrackedNoncesPerUser}. @default 1_024 */
  readonly maxTrackedNoncesPerUser?: number;
  /** Full authentication options instead of users. */
  readonly authentication?: ServerAuthenticationOptions;
  /** Also accept Basic over plain HTTP (for users). @default false */
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
   * `shutdownTimeoutMs` (then cut them), close the KV database or PostgreSQL pool if it opened
   * one.
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

/** The most a users file may hold: it is read whole at start. */
const MAX_USERS_FILE_BYTES = 16 * 1024 * 1024;

/** Read and parse a users file, warning when others may read clear-text passwords in it. */
async function readUsersFile(path: string): Promise<Result<UserCredential[], ServerStartError>> {
  let text: string;
  try {
    const info = await Deno.stat(path);
    if (info.size > MAX_USERS_FILE_BYTES) {
      return err(startError(
        `Cannot read users file ${JSON.stringify(path)}`,
        `it is larger than ${MAX_USERS_FILE_BYTES} bytes`,
      ));
    }
    text = await Deno.readTextFile(path);
    const parsed = parseUsersFile(text, `users file ${JSON.stringify(path)}`);
    if (parsed.isErr()) return err(startError("Invalid users file", parsed.error.message));
    const mode = info.mode ?? 0;
    if ((mode & 0o077) !== 0 && parsed.value.some((c) => "password" in c)) {
      console.error(
        `xcap server: warning: ${path} holds clear-text passwords and others may read it ` +
          `(mode ${(mode & 0o777).toString(8)}); chmod 600 it, or store HA1 lines ` +
          "(deno task serve --hash-user ADDRESS)",
      );
    }
    return ok(parsed.value);
  } catch (e) {
    return err(startError(`Cannot read users file ${JSON.stringify(path)}`, e));
  }
}

/** The authentication options `startXcapServer` derives from its user options. */
function userAuthentication(
  options: StartXcapServerOptions,
  fromFile: readonly UserCredential[],
): ServerAuthenticationOptions | undefined {
  if (options.authentication !== undefined) return options.authentication;
  const credentials: UserCredential[] = [
    ...Object.entries(options.users ?? {}).map(([address, password]) => ({ address, password })),
    ...(options.credentials ?? []),
    ...fromFile,
  ];
  if (credentials.length === 0) return undefined;
  const algorithms = options.digestAlgorithms ?? ["SHA-256", "MD5"];
  return usersAuthentication(credentials, {
    ...(options.realm === undefined ? {} : { realm: options.realm }),
    ...(options.defaultRealm === undefined ? {} : { defaultRealm: options.defaultRealm }),
    schemes: [
      ...algorithms.map((a): AuthenticationScheme => a === "MD5" ? "digest-md5" : "digest-sha-256"),
      "basic",
    ],
    allowBasicOverHttp: options.allowBasicOverHttp ?? false,
    ...(options.maxTrackedNonces === undefined
      ? {}
      : { maxTrackedNonces: options.maxTrackedNonces }),
    ...(options.maxTrackedNoncesPerUser === undefined
      ? {}
      : { maxTrackedNoncesPerUser: options.maxTrackedNoncesPerUser }),
  });
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
    let postgres: { close(): Promise<void> } | undefined;
    if (store === undefined && options.postgresUrl !== undefined) {
      // Loaded only when asked for: the driver stays out of every other server's module graph.
      let openPostgresStore: typeof import("./postgres_store.ts").openPostgresStore;
      try {
        ({ openPostgresStore } = await import("./postgres_store.ts"));
      } catch (e) {
        return err(startError("Cannot load the PostgreSQL store (npm:postgres)", e));
      }
      const opened = await openPostgresStore(options.postgresUrl, {
        ...(options.xcapRootPath === undefined ? {} : { xcapRootPath: options.xcapRootPath }),
      });
      if (opened.isErr()) return err(startError("Cannot use PostgreSQL", opened.error.message));
      store = postgres = opened.value;
    }
    try {
      if (store === undefined && options.kvPath !== undefined) {
        kv = await Deno.openKv(options.kvPath);
        store = new KvStore(kv);
      }
    } catch (e) {
      return err(startError(`Cannot open Deno KV ${JSON.stringify(options.kvPath)}`, e));
    }
    let fromFile: UserCredential[] = [];
    if (options.usersFile !== undefined) {
      const read = await readUsersFile(options.usersFile);
      if (read.isErr()) {
        kv?.close();
        await postgres?.close();
        return err(read.error);
      }
      fromFile = read.value;
    }
    const authentication = userAuthentication(options, fromFile);
    let cors: CorsOptions | undefined;
    if (options.cors !== undefined) {
      const checked = checkCorsOptions(options.cors);
      if (checked.isErr()) {
        kv?.close();
        return err(startError("Invalid CORS options", checked.error.message));
      }
      cors = checked.value;
    }
    const handler = createXcapHandler({
      ...options,
      ...(store === undefined ? {} : { store }),
      ...(authentication === undefined ? {} : { authentication }),
      ...(cors === undefined ? {} : { cors }),
    });
    const hostname = options.hostname ?? "127.0.0.1";
    const listening = serveHttp1(handler, { ...options, hostname, port: options.port ?? 0 });
    if (listening.isErr()) {
      kv?.close();
      await postgres?.close();
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
            await postgres?.close();
          }
        })();
        return closed;
      },
    }));
  };
  return new ResultAsync(start());
}

/** What the command line asks for: server options, help, or the users file lines of a user. */
export type ServeCommand =
  | { readonly kind: "serve"; readonly options: StartXcapServerOptions }
  | { readonly kind: "help"; readonly text: string }
  | {
    readonly kind: "hash-user";
    /** The SIP address to print HA1 lines for (the password is read from stdin). */
    readonly address: string;
    /** The realm, when `--realm` fixed one. */
    readonly realm?: string;
    /** The Digest algorithms to hash for. */
    readonly algorithms: readonly DigestAlgorithm[];
  };

/**
 * The environment variable `deno task serve` reads users from at start: users file lines (see
 * {@linkcode parseUsersFile}). Unlike `--user`, it does not show in `ps`.
 *
 * @example Usage
 * ```ts
 * import { USERS_ENV } from "./serve.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(USERS_ENV, "XCAP_SERVER_USERS");
 * ```
 */
export const USERS_ENV = "XCAP_SERVER_USERS";

const USAGE = `Usage: deno task serve [options]

  --hostname HOST        address to listen on (default 127.0.0.1)
  --port PORT            port; 0 picks a free one (default 8080)
  --kv PATH              keep documents in this Deno KV file (default: in memory)
  --postgres URL         keep documents in PostgreSQL, in Kamailio's xcap table (created
                         when missing), e.g. postgres://xcap@127.0.0.1:5432/xcap (ps shows
                         the URL: give the password in $PGPASSWORD)
  --users-file PATH      users and their passwords or HA1 hashes, one per line:
                           ADDRESS password PASSWORD
                           ADDRESS MD5|SHA-256 USERNAME REALM HA1
                         (without users there is no authentication)
  --user ADDRESS:PASS    a user, e.g. sip:alice@example.com:secret (repeatable; ps shows
                         it: prefer --users-file or $${USERS_ENV}, which holds users file lines)
  --hash-user ADDRESS    print users file lines with the HA1 hashes of ADDRESS's password
                         (read from stdin) for --realm and --digest-algorithms, and exit
  --realm REALM          one realm for every request (default: the domain of the addressed
                         user, e.g. example.com for sip:alice@example.com)
  --default-realm REALM  realm of requests that address no user (default: the users'
                         domain when they share one, else xcap)
  --digest-algorithms LIST  Digest algorithms offered, in order (default SHA-256,MD5;
                         python-xcaplib needs MD5)
  --max-tracked-nonces N  nonces whose counts are remembered (default 65536)
  --max-tracked-nonces-per-user N  ... per user (default 1024)
  --strict-content-type  refuse (415) document PUTs whose Content-Type is not the usage's
                         MIME type (RFC 4825 section 8.2.2); by default no type, form-encoded,
                         application/xml and text/xml are taken for a document
  --root PATH            XCAP root path (default /xcap-root)
  --cors ORIGIN          let pages of ORIGIN (e.g. https://sip.example.com) use the server
                         from a browser (repeatable), or * for any origin
  --cors-credentials     with --cors ORIGIN: also answer requests a page makes with
                         credentials (cookies, the browser's own HTTP authentication)
  --cors-max-age SECONDS how long a browser keeps a preflight answer (default 600)
  --global-writable      allow PUT and DELETE of global documents
  --allow-basic-over-http  accept Basic credentials over plain HTTP
  --cache-bytes N        memory the parsed-document cache may hold, estimated
                         (default 67108864, 64 MiB; 0 turns it off)
  --max-user-documents N documents per user tree (default 100)
  --max-user-bytes N     bytes per user tree, all documents (default 16777216)
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
 * import { parseServeArgs } from "./serve.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const command = parseServeArgs(["--port", "0", "--user", "sip:alice@example.com:se:cret"]);
 * assertEquals(command.isOk() && command.value, {
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
  let postgresUrl: string | undefined;
  let realm: string | undefined;
  let root: string | undefined;
  let globalWritable = false;
  let allowBasicOverHttp = false;
  let strictContentType = false;
  let usersFile: string | undefined;
  let defaultRealm: string | undefined;
  let digestAlgorithms: DigestAlgorithm[] | undefined;
  let hashUser: string | undefined;
  const corsOrigins: string[] = [];
  let corsCredentials = false;
  let corsMaxAge: number | undefined;
  const nonceBounds: { maxTrackedNonces?: number; maxTrackedNoncesPerUser?: number } = {};
  const users: Record<string, string> = {};
  const counts: Record<string, number> = {};
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
      case "--strict-content-type":
        strictContentType = true;
        break;
      case "--cors-credentials":
        corsCredentials = true;
        break;
      case "--cors":
      case "--cors-max-age": {
        const v = value();
        if (v === undefined || v === "") {
          return err(invalidArgument(name, `Option ${name} needs a value`));
        }
        if (name === "--cors") {
          corsOrigins.push(v);
        } else if (/^\d{1,5}$/.test(v)) {
          corsMaxAge = Number(v);
        } else {
          return err(invalidArgument(name, `Option ${name} needs a whole number of seconds`));
        }
        break;
      }
      case "--users-file":
      case "--default-realm":
      case "--hash-user":
      case "--digest-algorithms":
      case "--max-tracked-nonces":
      case "--max-tracked-nonces-per-user": {
        const v = value();
        if (v === undefined || v === "") {
          return err(invalidArgument(name, `Option ${name} needs a value`));
        }
        if (name === "--users-file") usersFile = v;
        else if (name === "--default-realm") defaultRealm = v;
        else if (name === "--hash-user") hashUser = v;
        else if (name === "--digest-algorithms") {
          const names = v.split(",").map((a) => a.trim().toUpperCase());
          if (!names.every((a) => a === "MD5" || a === "SHA-256")) {
            return err(invalidArgument(
              name,
              `Option ${name} takes MD5 and SHA-256, comma-separated, not ${JSON.stringify(v)}`,
            ));
          }
          digestAlgorithms = [...new Set(names as DigestAlgorithm[])];
        } else {
          if (!/^\d{1,9}$/.test(v) || Number(v) < 1) {
            return err(invalidArgument(name, `Option ${name} needs a positive whole number`));
          }
          if (name === "--max-tracked-nonces") nonceBounds.maxTrackedNonces = Number(v);
          else nonceBounds.maxTrackedNoncesPerUser = Number(v);
        }
        break;
      }
      case "--hostname":
      case "--port":
      case "--kv":
      case "--postgres":
      case "--user":
      case "--realm":
      case "--root": {
        const v = value();
        if (v === undefined || v === "") {
          return err(invalidArgument(name, `Option ${name} needs a value`));
        }
        if (name === "--hostname") hostname = v;
        else if (name === "--kv") kvPath = v;
        else if (name === "--postgres") postgresUrl = v;
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
      case "--cache-bytes":
      case "--max-user-documents":
      case "--max-user-bytes": {
        const v = value();
        if (v === undefined || !/^\d{1,15}$/.test(v)) {
          return err(invalidArgument(
            name,
            `Option ${name} needs a whole number${
              v === undefined ? "" : `, not ${JSON.stringify(v)}`
            }`,
          ));
        }
        counts[name] = Number(v);
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
  if (hashUser !== undefined) {
    return ok({
      kind: "hash-user",
      address: hashUser,
      ...(realm === undefined ? {} : { realm }),
      algorithms: digestAlgorithms ?? ["SHA-256", "MD5"],
    });
  }
  const cors = corsOptions(corsOrigins, corsCredentials, corsMaxAge);
  if (cors.isErr()) return err(cors.error);
  const options: StartXcapServerOptions = {
    hostname,
    port,
    ...(kvPath === undefined ? {} : { kvPath }),
    ...(postgresUrl === undefined ? {} : { postgresUrl }),
    ...(Object.keys(users).length === 0 ? {} : { users }),
    ...(usersFile === undefined ? {} : { usersFile }),
    ...(realm === undefined ? {} : { realm }),
    ...(defaultRealm === undefined ? {} : { defaultRealm }),
    ...(digestAlgorithms === undefined ? {} : { digestAlgorithms }),
    ...nonceBounds,
    ...(root === undefined ? {} : { xcapRootPath: root }),
    ...(globalWritable ? { globalWritable } : {}),
    ...(allowBasicOverHttp ? { allowBasicOverHttp } : {}),
    ...(strictContentType ? { strictContentType } : {}),
    ...quotaOptions(counts),
    ...(cors.value === undefined ? {} : { cors: cors.value }),
    ...numbers,
  };
  return ok({ kind: "serve", options });
}

/** The CORS options of `--cors`, `--cors-credentials` and `--cors-max-age`. */
function corsOptions(
  origins: readonly string[],
  credentials: boolean,
  maxAgeSeconds: number | undefined,
): Result<CorsOptions | undefined, InvalidArgumentError> {
  if (origins.length === 0) {
    if (!credentials && maxAgeSeconds === undefined) return ok(undefined);
    const option = credentials ? "--cors-credentials" : "--cors-max-age";
    return err(invalidArgument(option, `Option ${option} needs --cors ORIGIN`));
  }
  if (origins.includes("*") && origins.length > 1) {
    return err(invalidArgument("--cors", "Option --cors * allows every origin: list no other"));
  }
  const checked = checkCorsOptions({
    origins: origins.includes("*") ? "*" : origins,
    ...(credentials ? { credentials } : {}),
    ...(maxAgeSeconds === undefined ? {} : { maxAgeSeconds }),
  });
  if (checked.isErr()) {
    const option = checked.error.argument === "cors.credentials"
      ? "--cors-credentials"
      : checked.error.argument === "cors.maxAgeSeconds"
      ? "--cors-max-age"
      : "--cors";
    return err(invalidArgument(option, `Option ${option}: ${checked.error.message}`));
  }
  return ok(checked.value);
}

/** The cache and quota options of `--cache-bytes`, `--max-user-documents`, `--max-user-bytes`. */
function quotaOptions(
  counts: Readonly<Record<string, number>>,
): Pick<StartXcapServerOptions, "limits" | "documentCache"> {
  const documents = counts["--max-user-documents"];
  const bytes = counts["--max-user-bytes"];
  const cache = counts["--cache-bytes"];
  return {
    ...(documents === undefined && bytes === undefined ? {} : {
      limits: {
        ...(documents === undefined ? {} : { maxUserDocuments: documents }),
        ...(bytes === undefined ? {} : { maxUserBytes: bytes }),
      },
    }),
    ...(cache === undefined ? {} : { documentCache: { maxBytes: cache } }),
  };
}

/** The first line of stdin (or a prompt without echo on a terminal), at most 64 KiB read. */
async function readPassword(address: string): Promise<string | undefined> {
  if (Deno.stdin.isTerminal()) return await promptSecret(`Password for ${address}: `);
  const reader = Deno.stdin.readable.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (!text.includes("\n") && text.length < 65_536) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const line = text.split(/\r?\n/)[0]!;
  return line === "" ? undefined : line;
}

async function printHashedUser(
  command: Extract<ServeCommand, { kind: "hash-user" }>,
): Promise<number> {
  const password = await readPassword(command.address);
  if (password === undefined) {
    console.error("No password: give it on stdin (the first line)");
    return 2;
  }
  const lines = hashUserLines(command.address, password, {
    ...(command.realm === undefined ? {} : { realm: command.realm }),
    algorithms: command.algorithms,
  });
  if (lines.isErr()) {
    console.error(lines.error.message);
    return 2;
  }
  console.log(lines.value.trimEnd());
  return 0;
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
  if (command.value.kind === "hash-user") return await printHashedUser(command.value);
  let credentials: UserCredential[] = [];
  const fromEnv = Deno.env.get(USERS_ENV);
  if (fromEnv !== undefined && fromEnv.trim() !== "") {
    const parsed = parseUsersFile(fromEnv, `$${USERS_ENV}`);
    if (parsed.isErr()) {
      console.error(parsed.error.message);
      return 2;
    }
    credentials = parsed.value;
  }
  const options = command.value.options;
  const started = await startXcapServer({
    ...options,
    ...(credentials.length === 0
      ? {}
      : { credentials: [...(options.credentials ?? []), ...credentials] }),
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
  const problem = enterTaskDirectory();
  if (problem !== undefined) console.error(`warning: ${problem}`);
  Deno.exit(await main());
}
