/**
 * A fixed set of users for the XCAP server: the users file format (clear passwords or
 * pre-hashed HA1 values per realm, so no clear text needs to be stored), the lines
 * `deno task serve --hash-user` prints, and the {@linkcode ServerAuthenticationOptions} that
 * authenticate against them.
 *
 * ```text
 * # ADDRESS               password  PASSWORD (the rest of the line, blanks around it removed)
 * sip:alice@example.com   password  wonder land
 * # ADDRESS               ALGORITHM USERNAME  REALM        HA1 = ALGORITHM("USERNAME:REALM:PASSWORD") in hex
 * sip:bob@example.com     MD5       bob       example.com  0b8f4b6c2e8b1e8a6f1d0d4f9b5a2c31
 * ```
 *
 * Pure: Web APIs only.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { hashHex } from "../client/_digest_answer.ts";
import { invalidArgument, type InvalidArgumentError } from "../client/errors.ts";
import type {
  AuthenticationScheme,
  DigestAlgorithm,
  ServerAuthenticationOptions,
  StoredCredentials,
} from "./auth.ts";

/** One credential of a user: a password, or an HA1 for one algorithm, user name and realm. */
export type UserCredential =
  | {
    /** The user's SIP address, e.g. `sip:alice@example.com`: the tree it owns. */
    readonly address: string;
    /** The password in clear text. */
    readonly password: string;
  }
  | {
    /** The user's SIP address, e.g. `sip:alice@example.com`: the tree it owns. */
    readonly address: string;
    /** The Digest algorithm the HA1 was computed with. */
    readonly algorithm: DigestAlgorithm;
    /** The user name the HA1 was computed for (`alice` or `alice@example.com`). */
    readonly username: string;
    /** The realm the HA1 was computed for. */
    readonly realm: string;
    /** `ALGORITHM("USERNAME:REALM:PASSWORD")` in lower-case hex. */
    readonly ha1: string;
  };

/** Options of {@linkcode usersAuthentication}. */
export interface UsersAuthenticationOptions {
  /** A fixed realm (see {@linkcode ServerAuthenticationOptions.realm}). @default the addressed user's domain */
  readonly realm?: string;
  /**
   * The realm of requests that address no user. @default the users' domain when they all share
   * one, `"xcap"` otherwise
   */
  readonly defaultRealm?: string;
  /** The schemes offered, in order. @default ["digest-sha-256", "digest-md5", "basic"] */
  readonly schemes?: readonly AuthenticationScheme[];
  /** Accept Basic over plain HTTP. @default false */
  readonly allowBasicOverHttp?: boolean;
  /** See {@linkcode ServerAuthenticationOptions.maxTrackedNonces}. @default 65_536 */
  readonly maxTrackedNonces?: number;
  /** See {@linkcode ServerAuthenticationOptions.maxTrackedNoncesPerUser}. @default 1_024 */
  readonly maxTrackedNoncesPerUser?: number;
}

const HA1_LENGTH: Readonly<Record<DigestAlgorithm, number>> = { "MD5": 32, "SHA-256": 64 };

/** `user@host` of a SIP address (no scheme, parameters or port), or `undefined`. */
function splitAddress(address: string): { user: string; host: string } | undefined {
  const bare = address.replace(/^sips?:/i, "").split(/[;?]/)[0]!;
  const at = bare.lastIndexOf("@");
  if (at <= 0 || at === bare.length - 1 || /[\s"\\]/.test(bare)) return undefined;
  return { user: bare.slice(0, at), host: bare.slice(at + 1) };
}

function algorithmNamed(name: string): DigestAlgorithm | undefined {
  const upper = name.toUpperCase();
  return upper === "MD5" || upper === "SHA-256" ? upper : undefined;
}

/**
 * Parse a users file: one credential per line, fields separated by blanks; empty lines and lines
 * starting with `#` are skipped.
 *
 * - `ADDRESS password PASSWORD`: the password in clear text (the rest of the line, blanks around
 *   it removed).
 * - `ADDRESS ALGORITHM USERNAME REALM HA1`: a pre-hashed password, `HA1 = ALGORITHM(USERNAME ":"
 *   REALM ":" PASSWORD)` in hex (RFC 7616 §3.4.2), ALGORITHM `MD5` or `SHA-256`. Digest checks
 *   it for requests in REALM from a client that signs in as USERNAME with that algorithm; Basic
 *   checks a password against it. `deno task serve --hash-user ADDRESS` prints these lines.
 *
 * ADDRESS is the user's SIP address (`sip:alice@example.com`, or without `sip:`): the `users/`
 * tree it owns.
 *
 * @param text The file's content.
 * @param source What to call it in messages. @default "users file"
 * @returns The credentials in file order, or `InvalidArgument` naming the line and what is wrong
 * (never repeating a password or hash).
 *
 * @example Usage
 * ```ts
 * import { parseUsersFile } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const users = parseUsersFile(
 *   "# users\nsip:alice@example.com password wonder land\n" +
 *     "sip:bob@example.com MD5 bob example.com 0b8f4b6c2e8b1e8a6f1d0d4f9b5a2c31\n",
 * );
 * assertEquals(users.isOk() && users.value, [
 *   { address: "sip:alice@example.com", password: "wonder land" },
 *   {
 *     address: "sip:bob@example.com",
 *     algorithm: "MD5",
 *     username: "bob",
 *     realm: "example.com",
 *     ha1: "0b8f4b6c2e8b1e8a6f1d0d4f9b5a2c31",
 *   },
 * ]);
 * assertEquals(parseUsersFile("sip:carol@example.com MD5 carol").isErr(), true);
 * ```
 */
export function parseUsersFile(
  text: string,
  source = "users file",
): Result<UserCredential[], InvalidArgumentError> {
  const credentials: UserCredential[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const where = `${source} line ${i + 1}`;
    const fail = (why: string) => err(invalidArgument("users", `${where}: ${why}`));
    const match = /^(\S+)\s+(\S+)(?:\s+([\s\S]*))?$/.exec(line);
    if (match === null) {
      return fail("expected ADDRESS password PASSWORD or ADDRESS ALGORITHM USERNAME REALM HA1");
    }
    const [, address, kind, rest] = match as unknown as [string, string, string, string?];
    if (splitAddress(address) === undefined) {
      return fail(`${JSON.stringify(address)} is not a SIP address like sip:alice@example.com`);
    }
    if (kind.toLowerCase() === "password") {
      const password = rest?.trim() ?? "";
      if (password === "") return fail("the password is empty");
      credentials.push(Object.freeze({ address, password }));
      continue;
    }
    const algorithm = algorithmNamed(kind);
    if (algorithm === undefined) {
      return fail(
        `expected "password", "MD5" or "SHA-256" after the address, not ${JSON.stringify(kind)}`,
      );
    }
    const fields = (rest ?? "").split(/\s+/).filter((f) => f !== "");
    if (fields.length !== 3) return fail(`expected ADDRESS ${algorithm} USERNAME REALM HA1`);
    const [username, realm, ha1] = fields as [string, string, string];
    if (!new RegExp(`^[0-9a-fA-F]{${HA1_LENGTH[algorithm]}}$`).test(ha1)) {
      return fail(`the HA1 must be ${HA1_LENGTH[algorithm]} hex digits for ${algorithm}`);
    }
    credentials.push(
      Object.freeze({ address, algorithm, username, realm, ha1: ha1.toLowerCase() }),
    );
  }
  return ok(credentials);
}

/**
 * The users file lines for a user with pre-hashed passwords instead of the password: one per
 * algorithm and user name form (the address's user part, as python-xcaplib and this module's
 * client sign in, and `user@host`), after a comment naming them. What `deno task serve
 * --hash-user ADDRESS` prints.
 *
 * @param address The SIP address, e.g. `sip:alice@example.com`.
 * @param password The password.
 * @param options `realm`: the realm the server uses for this user (default: the address's
 * domain, the server's default); `algorithms`: the Digest algorithms the server offers (default
 * both).
 * @returns The lines, each ending in a newline, or `InvalidArgument` for an address that is not
 * a SIP address or an empty password.
 *
 * @example Usage
 * ```ts
 * import { parseUsersFile } from "@xcap/xcap/server";
 * import { hashUserLines } from "./users.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const lines = hashUserLines("sip:alice@example.com", "wonder land", { algorithms: ["MD5"] })
 *   ._unsafeUnwrap();
 * const parsed = parseUsersFile(lines)._unsafeUnwrap();
 * assertEquals(parsed.map((c) => "username" in c && c.username), ["alice", "alice@example.com"]);
 * assertEquals(parsed.every((c) => "realm" in c && c.realm === "example.com"), true);
 * ```
 */
export function hashUserLines(
  address: string,
  password: string,
  options: { readonly realm?: string; readonly algorithms?: readonly DigestAlgorithm[] } = {},
): Result<string, InvalidArgumentError> {
  const parts = splitAddress(address);
  if (parts === undefined) {
    return err(invalidArgument(
      "address",
      `${JSON.stringify(address)} is not a SIP address like sip:alice@example.com`,
    ));
  }
  if (password === "") return err(invalidArgument("password", "The password is empty"));
  const realm = options.realm ?? parts.host;
  const algorithms = options.algorithms ?? ["SHA-256", "MD5"];
  let text = `# ${address} in realm ${realm}: HA1 = ALGORITHM("USERNAME:${realm}:PASSWORD")\n`;
  for (const algorithm of algorithms) {
    for (const username of [parts.user, `${parts.user}@${parts.host}`]) {
      const ha1 = hashHex(algorithm, `${username}:${realm}:${password}`);
      text += `${address} ${algorithm} ${username} ${realm} ${ha1}\n`;
    }
  }
  return ok(text);
}

interface Account {
  /** `user@host`, host in lower case: what it signs in as and owns. */
  readonly key: string;
  password?: string;
  /** HA1 by `ALGORITHM\0USERNAME\0REALM`. */
  readonly ha1: Map<string, string>;
}

/**
 * Authentication options for a fixed set of users (from a users file, `--user`, or code): each
 * user signs in with the address's user part (`alice`), `user@host`, or the whole address, and
 * owns exactly that address's `users/` tree.
 *
 * A bare user part names the user of the realm's domain when the realm is one of the users'
 * domains (by default the realm is the addressed user's domain), otherwise the only user with
 * that user part (shared by two domains, it signs in nobody: use `user@host`).
 *
 * @param credentials The users' passwords and HA1 values; a later password for the same address
 * replaces an earlier one.
 * @param options Realm, default realm, schemes and replay bounds.
 * @returns Options for {@linkcode createXcapHandler}'s `authentication`.
 *
 * @example Usage
 * ```ts
 * import { createXcapHandler, usersAuthentication } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const handler = createXcapHandler({
 *   authentication: usersAuthentication(
 *     [{ address: "sip:alice@example.com", password: "wonder land" }],
 *     { allowBasicOverHttp: true },
 *   ),
 * });
 * const url = "http://127.0.0.1/xcap-root/resource-lists/users/sip:alice@example.com/index";
 * const challenge = await handler(new Request(url));
 * assertEquals(challenge.status, 401);
 * assertEquals(challenge.headers.get("www-authenticate")?.includes('realm="example.com"'), true);
 * const read = await handler(new Request(url, {
 *   headers: { authorization: `Basic ${btoa("alice:wonder land")}` },
 * }));
 * assertEquals(read.status, 404); // signed in; no document yet
 * await read.body?.cancel();
 * ```
 */
export function usersAuthentication(
  credentials: readonly UserCredential[],
  options: UsersAuthenticationOptions = {},
): ServerAuthenticationOptions {
  const accounts = new Map<string, Account>();
  const byUserPart = new Map<string, Account[]>();
  const domains = new Map<string, string>();
  for (const credential of credentials) {
    const parts = splitAddress(credential.address);
    if (parts === undefined) continue;
    const key = `${parts.user}@${parts.host.toLowerCase()}`;
    let account = accounts.get(key);
    if (account === undefined) {
      account = { key, ha1: new Map() };
      accounts.set(key, account);
      byUserPart.set(parts.user, [...(byUserPart.get(parts.user) ?? []), account]);
      domains.set(parts.host.toLowerCase(), parts.host);
    }
    if ("password" in credential) account.password = credential.password;
    else {
      account.ha1.set(
        `${credential.algorithm}\u0000${credential.username}\u0000${credential.realm}`,
        credential.ha1,
      );
    }
  }
  const commonDomain = domains.size === 1 ? [...domains.values()][0] : undefined;

  function find(username: string, realm: string): Account | undefined {
    const name = username.replace(/^sips?:/i, "");
    const parts = name.includes("@") ? splitAddress(name) : undefined;
    if (parts !== undefined) return accounts.get(`${parts.user}@${parts.host.toLowerCase()}`);
    // In a realm that is one of the users' domains, a user part names a user of that domain.
    if (domains.has(realm.toLowerCase())) return accounts.get(`${name}@${realm.toLowerCase()}`);
    const candidates = byUserPart.get(name);
    return candidates?.length === 1 ? candidates[0] : undefined;
  }

  return {
    ...(options.realm === undefined ? {} : { realm: options.realm }),
    defaultRealm: options.defaultRealm ?? commonDomain ?? "xcap",
    ...(options.schemes === undefined ? {} : { schemes: options.schemes }),
    allowBasicOverHttp: options.allowBasicOverHttp ?? false,
    ...(options.maxTrackedNonces === undefined
      ? {}
      : { maxTrackedNonces: options.maxTrackedNonces }),
    ...(options.maxTrackedNoncesPerUser === undefined
      ? {}
      : { maxTrackedNoncesPerUser: options.maxTrackedNoncesPerUser }),
    lookup: (username, realm): StoredCredentials | undefined => {
      const account = find(username, realm);
      if (account === undefined) return undefined;
      if (account.password !== undefined) {
        return { account: account.key, password: account.password };
      }
      const ha1 = (algorithm: DigestAlgorithm) =>
        account.ha1.get(`${algorithm}\u0000${username}\u0000${realm}`);
      const md5 = ha1("MD5");
      const sha256 = ha1("SHA-256");
      return {
        account: account.key,
        ha1: {
          ...(md5 === undefined ? {} : { MD5: md5 }),
          ...(sha256 === undefined ? {} : { "SHA-256": sha256 }),
        },
      };
    },
  };
}
