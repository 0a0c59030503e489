/**
 * Accounts for `xcap`: python-xcaplib's `~/.xcapclient.ini`, read as it is, and the merge of
 * command-line options, environment variables and the account file into the settings of one
 * run. Pure: the caller reads the file and the environment.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import type { CliOptions, UsageError } from "./args.ts";

/**
 * A parsed INI file: section name to its keys (lower-cased) and values. Keys of `[DEFAULT]`
 * are merged into every other section, as Python's `configparser` does.
 */
export type IniDocument = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** The settings python-xcaplib's `xcapclient` keeps per account. */
export interface Account {
  /** The section the settings came from, e.g. `Account` or `Account_work`. */
  readonly section: string;
  /** `sip_address` (or `username@domain` from older sample files). */
  readonly sipAddress?: string;
  /** `password`. */
  readonly password?: string;
  /** `xcap_root`. */
  readonly xcapRoot?: string;
  /** `auth`: `none` turns authentication off; `basic` or `digest` otherwise. */
  readonly auth?: string;
}

/**
 * The default location of the account file, below the home directory.
 *
 * @example Usage
 * ```ts
 * import { ACCOUNT_FILE_NAME } from "./config.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(ACCOUNT_FILE_NAME, ".xcapclient.ini");
 * ```
 */
export const ACCOUNT_FILE_NAME = ".xcapclient.ini";

/**
 * Parse an INI file the way Python's `configparser` (which python-xcaplib uses) reads it:
 * `[section]` headers, `key = value` or `key: value` lines with keys lower-cased and values
 * trimmed, whole-line comments starting with `#` or `;`, indented continuation lines, and
 * `[DEFAULT]` keys inherited by every section. Values are kept as written (quotes included), and
 * a `;` or `#` after a value is part of it: passwords may contain both.
 *
 * @param text The file's content.
 * @param options `path`: the name used in error messages. @default {"~/.xcapclient.ini"}
 * @returns The sections, or a `Usage` error naming the line that is not INI.
 *
 * @example Usage
 * ```ts
 * import { parseIni } from "./config.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const ini = parseIni("[Account]\nsip_address = alice@example.com\nPassword: s3cr;t\n");
 * assertEquals(ini._unsafeUnwrap().get("Account")?.get("password"), "s3cr;t");
 * assertEquals(parseIni("oops")._unsafeUnwrapErr().message.includes("line 1"), true);
 * ```
 */
export function parseIni(
  text: string,
  options: { readonly path?: string } = {},
): Result<IniDocument, UsageError> {
  const path = options.path ?? `~/${ACCOUNT_FILE_NAME}`;
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  let lastKey: string | undefined;
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    const trimmed = line.trim();
    const fail = (why: string) =>
      err<never, UsageError>(Object.freeze({
        _tag: "Usage" as const,
        message: `Cannot read ${path} line ${n + 1}: ${why}`,
      }));
    if (trimmed === "" || trimmed.startsWith("#") || trimmed.startsWith(";")) {
      // configparser: an empty line ends a multi-line value; comment lines are skipped.
      if (trimmed === "") lastKey = undefined;
      continue;
    }
    if (/^\s/.test(line) && current !== undefined && lastKey !== undefined) {
      current.set(lastKey, `${current.get(lastKey) ?? ""}\n${trimmed}`);
      continue;
    }
    const header = /^\[(.+)\]$/.exec(trimmed);
    if (header) {
      const name = header[1]!;
      current = sections.get(name) ?? new Map();
      sections.set(name, current);
      lastKey = undefined;
      continue;
    }
    if (current === undefined) {
      return fail(`expected a [section] header before ${JSON.stringify(truncate(trimmed))}`);
    }
    const separator = trimmed.search(/[=:]/);
    if (separator <= 0) {
      return fail(`expected "key = value", not ${JSON.stringify(truncate(trimmed))}`);
    }
    lastKey = trimmed.slice(0, separator).trim().toLowerCase();
    current.set(lastKey, trimmed.slice(separator + 1).trim());
  }
  const defaults = sections.get("DEFAULT");
  const result = new Map<string, ReadonlyMap<string, string>>();
  for (const [name, values] of sections) {
    if (name === "DEFAULT") continue;
    result.set(name, defaults === undefined ? values : new Map([...defaults, ...values]));
  }
  return ok(result);
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/**
 * The section of an account, as python-xcaplib names it: `[Account]` by default, and
 * `[Account_NAME]` for `--account NAME`.
 *
 * @param name The account name, or `undefined` for the default account.
 * @returns The section name.
 *
 * @example Usage
 * ```ts
 * import { accountSection } from "./config.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(accountSection(undefined), "Account");
 * assertEquals(accountSection("work"), "Account_work");
 * ```
 */
export function accountSection(name: string | undefined): string {
  return name === undefined ? "Account" : `Account_${name}`;
}

/**
 * Read one account from a parsed account file: `sip_address`, `password`, `xcap_root` and
 * `auth`, as python-xcaplib's `xcapclient` does. A file written after python-xcaplib's older
 * sample (`username` and `domain` instead of `sip_address`) works too. Empty values count as
 * absent.
 *
 * @param ini The parsed file.
 * @param name The account name (`[Account_NAME]`), or `undefined` for `[Account]`.
 * @returns The account, or `undefined` when the file has no such section.
 *
 * @example Usage
 * ```ts
 * import { parseIni, readAccount } from "./config.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const ini = parseIni(
 *   "[Account_test]\nsip_address = alice@example.com\npassword = 123\n" +
 *     "xcap_root = http://xcap.example.com/xcap-root\n",
 * )._unsafeUnwrap();
 * assertEquals(readAccount(ini, "test"), {
 *   section: "Account_test",
 *   sipAddress: "alice@example.com",
 *   password: "123",
 *   xcapRoot: "http://xcap.example.com/xcap-root",
 * });
 * assertEquals(readAccount(ini, undefined), undefined);
 * ```
 */
export function readAccount(ini: IniDocument, name: string | undefined): Account | undefined {
  const section = accountSection(name);
  const values = ini.get(section);
  if (values === undefined) return undefined;
  const get = (key: string) => {
    const value = values.get(key);
    return value === undefined || value === "" ? undefined : value;
  };
  const username = get("username");
  const domain = get("domain");
  const sipAddress = get("sip_address") ??
    (username !== undefined && domain !== undefined ? `${username}@${domain}` : undefined);
  const password = get("password");
  const xcapRoot = get("xcap_root");
  const auth = get("auth");
  return Object.freeze({
    section,
    ...(sipAddress === undefined ? {} : { sipAddress }),
    ...(password === undefined ? {} : { password }),
    ...(xcapRoot === undefined ? {} : { xcapRoot }),
    ...(auth === undefined ? {} : { auth: auth.toLowerCase() }),
  });
}

/** Where a setting came from, for messages. */
export type SettingSource = "option" | "environment" | "account file" | "prompt";

/** The connection settings of one run, merged from options, environment and account file. */
export interface ConnectionSettings {
  /** The XCAP root URL. */
  readonly xcapRoot: string;
  /** The XCAP User Identifier, `sip:` added when the address had no scheme; absent if none given. */
  readonly xui?: string;
  /** The password, if one is known before any request. */
  readonly password?: string;
  /** Where the password came from. */
  readonly passwordSource?: SettingSource;
  /** The authentication user name, when it differs from the XUI's user part. */
  readonly username?: string;
  /** The account file said `auth = none`: never authenticate, never prompt. */
  readonly noAuth?: boolean;
}

/** Inputs of {@linkcode resolveConnection}. */
export interface ResolveConnectionInput {
  /** The parsed command-line options. */
  readonly options: CliOptions;
  /** Environment variables: `XCAP_ROOT`, `XCAP_SIP_ADDRESS`, `XCAP_PASSWORD`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The parsed account file, if there is one. */
  readonly ini?: IniDocument;
  /** How to name the account file in messages. @default {"~/.xcapclient.ini"} */
  readonly iniPath?: string;
}

/**
 * Add the `sip:` scheme to a SIP address written without one (`alice@example.com`), as
 * python-xcaplib's `xcapclient` does; keep `sip:`/`sips:`/`tel:` and other schemes as given.
 *
 * @param address The address as the user wrote it.
 * @returns The XCAP User Identifier.
 *
 * @example Usage
 * ```ts
 * import { normalizeSipAddress } from "./config.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(normalizeSipAddress("alice@example.com"), "sip:alice@example.com");
 * assertEquals(normalizeSipAddress("sips:alice@example.com"), "sips:alice@example.com");
 * ```
 */
export function normalizeSipAddress(address: string): string {
  const trimmed = address.trim();
  const userPart = trimmed.split("@", 1)[0] ?? "";
  return userPart.includes(":") ? trimmed : `sip:${trimmed}`;
}

/**
 * Merge the connection settings of one run. Precedence, highest first: command-line options;
 * the account named with `--account`; the environment (`XCAP_ROOT`, `XCAP_SIP_ADDRESS`,
 * `XCAP_PASSWORD`); the default `[Account]` section. An account named explicitly beats the
 * environment so that switching accounts never sends another account's password.
 *
 * @param input Options, environment and the parsed account file.
 * @param options `requireXui`: fail when no SIP address is known (any action on a user's
 * tree). @default {true}
 * @returns The settings, or a `Usage` error saying what is missing and where to set it.
 *
 * @example Usage
 * ```ts
 * import { parseIni, resolveConnection } from "./config.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const ini = parseIni(
 *   "[Account]\nsip_address = alice@example.com\nxcap_root = http://127.0.0.1:5080/xcap-root\n",
 * )._unsafeUnwrap();
 * const settings = resolveConnection({ options: {}, env: { XCAP_PASSWORD: "secret" }, ini });
 * assertEquals(settings._unsafeUnwrap(), {
 *   xcapRoot: "http://127.0.0.1:5080/xcap-root",
 *   xui: "sip:alice@example.com",
 *   password: "secret",
 *   passwordSource: "environment",
 * });
 * ```
 */
export function resolveConnection(
  input: ResolveConnectionInput,
  options: { readonly requireXui?: boolean } = {},
): Result<ConnectionSettings, UsageError> {
  const { options: cli, env, ini } = input;
  const iniPath = input.iniPath ?? `~/${ACCOUNT_FILE_NAME}`;
  const usage = (message: string) =>
    err<never, UsageError>(Object.freeze({ _tag: "Usage" as const, message }));
  const fromEnv = (name: string) => {
    const value = env[name];
    return value === undefined || value === "" ? undefined : value;
  };

  let named: Account | undefined;
  if (cli.account !== undefined) {
    named = ini === undefined ? undefined : readAccount(ini, cli.account);
    if (named === undefined) {
      return usage(
        `Account ${JSON.stringify(cli.account)} not found: ${iniPath} has no section ` +
          `[${accountSection(cli.account)}]`,
      );
    }
  }
  const fallback = ini === undefined || named !== undefined
    ? undefined
    : readAccount(ini, undefined);

  const pick = <T>(
    ...candidates: Array<readonly [T | undefined, SettingSource]>
  ): readonly [T, SettingSource] | undefined => {
    for (const candidate of candidates) {
      if (candidate[0] !== undefined) return candidate as [T, SettingSource];
    }
    return undefined;
  };

  const xcapRoot = pick<string>(
    [cli.xcapRoot, "option"],
    [named?.xcapRoot, "account file"],
    [fromEnv("XCAP_ROOT"), "environment"],
    [fallback?.xcapRoot, "account file"],
  );
  if (xcapRoot === undefined || xcapRoot[0].trim() === "") {
    return usage(
      `No XCAP root: give --xcap-root URL, set XCAP_ROOT, or put xcap_root in ` +
        `[${accountSection(cli.account)}] of ${iniPath}`,
    );
  }
  const root = xcapRoot[0].trim();
  let url: URL | undefined;
  try {
    url = new URL(root);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    return usage(
      `XCAP root ${JSON.stringify(root)} (from ${
        describeSource(xcapRoot[1], iniPath)
      }) is not an http: or https: URL`,
    );
  }

  const sipAddress = pick<string>(
    [cli.sipAddress, "option"],
    [named?.sipAddress, "account file"],
    [fromEnv("XCAP_SIP_ADDRESS"), "environment"],
    [fallback?.sipAddress, "account file"],
  );
  if (sipAddress === undefined && (options.requireXui ?? true)) {
    return usage(
      `No SIP address: give --sip-address alice@example.com, set XCAP_SIP_ADDRESS, or put ` +
        `sip_address in [${accountSection(cli.account)}] of ${iniPath}`,
    );
  }

  const auth = named?.auth ?? fallback?.auth;
  const noAuth = auth === "none" && cli.password === undefined;
  const password = noAuth ? undefined : pick<string>(
    [cli.password, "option"],
    [named?.password, "account file"],
    [fromEnv("XCAP_PASSWORD"), "environment"],
    [fallback?.password, "account file"],
  );

  return ok(Object.freeze({
    xcapRoot: root,
    ...(sipAddress === undefined ? {} : { xui: normalizeSipAddress(sipAddress[0]) }),
    ...(password === undefined ? {} : { password: password[0], passwordSource: password[1] }),
    ...(cli.username === undefined ? {} : { username: cli.username }),
    ...(noAuth ? { noAuth: true } : {}),
  }));
}

function describeSource(source: SettingSource, iniPath: string): string {
  switch (source) {
    case "option":
      return "the command line";
    case "environment":
      return "the environment";
    case "account file":
      return iniPath;
    case "prompt":
      return "the prompt";
  }
}
