/**
 * `runCli`: one run of `xcap`, from the arguments to the exit code, with every effect (files,
 * streams, environment, terminal, network) behind a {@linkcode CliIo} so that it runs the same
 * in a process and in a test.
 *
 * @module
 */
import { KNOWN_APPLICATIONS } from "../client/media_types.ts";
import { XCAPClient } from "../client/client.ts";
import type { XcapResource } from "../client/response.ts";
import {
  type Action,
  type CliArgs,
  type CliOptions,
  parseCliArgs,
  UPDATE_ACTIONS,
} from "./args.ts";
import { performAction } from "./actions.ts";
import { completionScript } from "./completion.ts";
import {
  ACCOUNT_FILE_NAME,
  type ConnectionSettings,
  type IniDocument,
  parseIni,
  resolveConnection,
} from "./config.ts";
import { guessApplication } from "./guess.ts";
import { actionHelp, generalHelp, VERSION } from "./help.ts";
import {
  type CliError,
  escapeControlCharacters,
  EXIT_CODES,
  exitCodeFor,
  failureToJson,
  formatFailure,
  formatSuccess,
  jsonForTerminal,
  type JsonSuccess,
  prettyPrintXml,
  readCapabilities,
  shouldColor,
  statusText,
} from "./output.ts";
import { challengeRealm } from "./prompt.ts";
import { DEFAULT_TIMEOUT_MS } from "../client/executor.ts";

/** Everything a run of `xcap` does to the outside world. */
export interface CliIo {
  /** Read an environment variable (`undefined` when unset or not permitted). */
  readonly env: (name: string) => string | undefined;
  /**
   * Read a whole file; rejects when it cannot. With `maxBytes`, read at most `maxBytes + 1`
   * bytes (enough to tell that the file is too large) from files without end such as
   * `/dev/zero`.
   */
  readonly readFile: (
    path: string,
    options?: { readonly maxBytes?: number },
  ) => Promise<Uint8Array>;
  /**
   * The permission bits of a file (`0o600`), or `undefined` where the platform has none or the
   * file cannot be examined. Used to warn about an account file others can read.
   */
  readonly fileMode?: (path: string) => Promise<number | undefined>;
  /** Write a whole file, replacing it; rejects when it cannot. */
  readonly writeFile: (path: string, data: Uint8Array) => Promise<void>;
  /**
   * Read stdin to its end; with `maxBytes`, stop after `maxBytes + 1` bytes (enough to tell
   * that the input is too large).
   */
  readonly readStdin: (options?: { readonly maxBytes?: number }) => Promise<Uint8Array>;
  /** Write to stdout. */
  readonly writeStdout: (data: Uint8Array) => Promise<void>;
  /** Write to stderr. */
  readonly writeStderr: (data: Uint8Array) => Promise<void>;
  /** Which standard streams are terminals. */
  readonly isTerminal: {
    readonly stdin: boolean;
    readonly stdout: boolean;
    readonly stderr: boolean;
  };
  /** Ask for a password without echo; `undefined` when cancelled. Only called when stdin is a terminal. */
  readonly promptPassword?: (message: string) => Promise<string | undefined>;
  /** The `fetch` requests go through. @default {globalThis.fetch} */
  readonly fetch?: typeof globalThis.fetch;
  /** The user's home directory, for `~/.xcapclient.ini`. */
  readonly homeDir?: () => string | undefined;
}

/**
 * The largest account file `xcap` reads, in bytes (1 MiB; python-xcaplib's files are a few
 * hundred bytes). A larger one, or an endless one such as `/dev/zero`, is a usage error naming
 * the file and the limit.
 *
 * @example Usage
 * ```ts
 * import { MAX_ACCOUNT_FILE_BYTES } from "./run.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(MAX_ACCOUNT_FILE_BYTES, 1024 * 1024);
 * ```
 */
export const MAX_ACCOUNT_FILE_BYTES = 1024 * 1024;

/**
 * The largest body `xcap` reads from stdin or `-i FILE`, in bytes (16 MiB, the most the client
 * accepts in a response; servers take far less: the embedded one 1 MiB). A larger input, or an
 * endless one such as `-i /dev/zero`, is a usage error naming the input and the limit, read no
 * further than the limit.
 *
 * @example Usage
 * ```ts
 * import { MAX_INPUT_BYTES } from "./run.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(MAX_INPUT_BYTES, 16 * 1024 * 1024);
 * ```
 */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;

const encoder = new TextEncoder();

interface Printer {
  readonly out: (text: string) => Promise<void>;
  readonly err: (text: string) => Promise<void>;
  /** One JSON object and a newline on stdout; made terminal-safe when stdout is a terminal. */
  readonly json: (value: unknown) => Promise<void>;
  readonly color: { readonly stdout: boolean; readonly stderr: boolean };
}

function envRecord(io: CliIo, names: readonly string[]): Record<string, string | undefined> {
  const record: Record<string, string | undefined> = {};
  for (const name of names) record[name] = io.env(name);
  return record;
}

function describeThrown(e: unknown): string {
  if (e instanceof Error) return e.message.replace(/\s+$/, "");
  return String(e);
}

/**
 * Run `xcap` once: parse `argv`, read the account file and the body, send the requests, print
 * the result, and return the exit code (see {@linkcode EXIT_CODES}). Never rejects: every
 * failure, including one thrown by `io`, becomes a message on stderr (or a `--json` object on
 * stdout) and an exit code.
 *
 * @param argv The arguments after the program name.
 * @param io The outside world.
 * @returns The exit code.
 *
 * @example Usage
 * ```ts
 * import { runCli } from "@xcap/xcap/cli";
 * import { assertEquals } from "@std/assert";
 *
 * const out: string[] = [];
 * const code = await runCli(["get", "/resource-lists/list/@name", "--json"], {
 *   env: (name) => ({ XCAP_ROOT: "http://127.0.0.1:1/xcap-root", XCAP_SIP_ADDRESS: "alice@x" })[name],
 *   readFile: () => Promise.reject(new Deno.errors.NotFound("no file")),
 *   writeFile: () => Promise.resolve(),
 *   readStdin: () => Promise.resolve(new Uint8Array()),
 *   writeStdout: async (data) => void out.push(new TextDecoder().decode(data)),
 *   writeStderr: () => Promise.resolve(),
 *   isTerminal: { stdin: false, stdout: false, stderr: false },
 *   fetch: async () => new Response("friends", { headers: { etag: '"e1"' } }),
 * });
 * assertEquals(code, 0);
 * assertEquals(JSON.parse(out.join("")).body, "friends");
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const out = async (text: string) => await io.writeStdout(encoder.encode(text));
  let printer: Printer = {
    out,
    err: async (text) => await io.writeStderr(encoder.encode(text)),
    json: async (value) =>
      await out(`${io.isTerminal.stdout ? jsonForTerminal(value) : JSON.stringify(value)}\n`),
    color: { stdout: false, stderr: false },
  };
  let json = false;
  let action: Action | undefined;
  try {
    const parsed = parseCliArgs(argv);
    if (parsed.isErr()) {
      await reportUsage(printer, parsed.error, argv.includes("--json"));
      return EXIT_CODES.usage;
    }
    const args = parsed.value;
    json = args.options.json ?? false;
    const env = envRecord(io, ["NO_COLOR", "TERM"]);
    printer = {
      ...printer,
      color: {
        stdout: shouldColor(args.options.color, { isTerminal: io.isTerminal.stdout, env }),
        stderr: shouldColor(args.options.color, { isTerminal: io.isTerminal.stderr, env }),
      },
    };
    switch (args.command) {
      case "help":
        await printer.out(args.action === undefined ? generalHelp() : actionHelp(args.action));
        return EXIT_CODES.ok;
      case "version":
        await printer.out(`xcap ${VERSION}\n`);
        return EXIT_CODES.ok;
      case "completions":
        await printer.out(completionScript(args.shell));
        return EXIT_CODES.ok;
      case "run":
        action = args.action;
        return await runAction(args, io, printer);
    }
  } catch (e) {
    const error: CliError = {
      _tag: "LocalFile",
      message: `Unexpected failure: ${describeThrown(e)}`,
    };
    try {
      if (json) await printer.json(failureToJson(error, action));
      else await printer.err(formatFailure(error));
    } catch {
      // stdout and stderr are gone: only the exit code is left.
    }
    return EXIT_CODES.localFailure;
  }
}

async function reportUsage(
  printer: Printer,
  error: CliError,
  json: boolean,
  action?: Action,
): Promise<void> {
  if (json) {
    await printer.json(failureToJson(error, action));
    return;
  }
  const topic = error._tag === "Usage" && error.action !== undefined
    ? `xcap help ${error.action}`
    : action !== undefined
    ? `xcap help ${action}`
    : "xcap --help";
  await printer.err(formatFailure(error, {
    color: printer.color.stderr,
    hint: `Try "${topic}" for more information.`,
  }));
}

async function loadAccountFile(
  options: CliOptions,
  io: CliIo,
  printer: Printer,
): Promise<{ ini?: IniDocument; path: string; error?: CliError }> {
  const explicit = options.config ?? io.env("XCAP_CONFIG");
  const home = io.homeDir?.() ?? io.env("HOME") ?? io.env("USERPROFILE");
  const path = explicit ??
    (home === undefined ? undefined : `${home.replace(/[\\/]$/, "")}/${ACCOUNT_FILE_NAME}`);
  const shown = explicit ?? `~/${ACCOUNT_FILE_NAME}`;
  if (path === undefined) return { path: shown };
  let bytes: Uint8Array;
  try {
    bytes = await io.readFile(path, { maxBytes: MAX_ACCOUNT_FILE_BYTES });
  } catch (e) {
    // No account file is normal; an explicitly named one must exist.
    if (explicit === undefined && e instanceof Error && e.name === "NotFound") {
      return { path: shown };
    }
    if (explicit === undefined && options.account === undefined) return { path: shown };
    return {
      path: shown,
      error: { _tag: "Usage", message: `Cannot read account file ${shown}: ${describeThrown(e)}` },
    };
  }
  if (bytes.byteLength > MAX_ACCOUNT_FILE_BYTES) {
    return {
      path: shown,
      error: {
        _tag: "Usage",
        message: `Account file ${shown} is larger than ${MAX_ACCOUNT_FILE_BYTES} bytes, the ` +
          "most xcap reads from one: is it really an account file?",
      },
    };
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { path: shown, error: { _tag: "Usage", message: `Account file ${shown} is not UTF-8` } };
  }
  const ini = parseIni(text, { path: shown });
  if (ini.isErr()) return { path: shown, error: ini.error };
  await warnIfReadableByOthers(ini.value, path, shown, io, printer);
  return { ini: ini.value, path: shown };
}

/**
 * Like ssh with a private key, warn when an account file that holds a password can be read by
 * the file's group or by everyone: anyone on the machine can then take the password.
 */
async function warnIfReadableByOthers(
  ini: IniDocument,
  path: string,
  shown: string,
  io: CliIo,
  printer: Printer,
): Promise<void> {
  const holdsPassword = [...ini.values()].some((section) => (section.get("password") ?? "") !== "");
  if (!holdsPassword || io.fileMode === undefined) return;
  let mode: number | undefined;
  try {
    mode = await io.fileMode(path);
  } catch {
    return;
  }
  if (mode === undefined || (mode & 0o044) === 0) return;
  const octal = (mode & 0o777).toString(8).padStart(3, "0");
  const who = (mode & 0o004) !== 0 ? "everyone" : "its group";
  await printer.err(
    `xcap: warning: ${escapeControlCharacters(shown)} holds a password and can be read by ${who} ` +
      `(mode ${octal}); run: chmod 600 ${escapeControlCharacters(shown)}\n`,
  );
}

async function readBody(
  options: CliOptions,
  io: CliIo,
  printer: Printer,
): Promise<{ body?: string; error?: CliError }> {
  const fromStdin = options.input === undefined || options.input === "-";
  let bytes: Uint8Array;
  try {
    if (fromStdin) {
      if (io.isTerminal.stdin && !(options.quiet ?? false)) {
        await printer.err("Reading the body from stdin; end it with Ctrl-D.\n");
      }
      bytes = await io.readStdin({ maxBytes: MAX_INPUT_BYTES });
    } else {
      bytes = await io.readFile(options.input!, { maxBytes: MAX_INPUT_BYTES });
    }
  } catch (e) {
    return {
      error: {
        _tag: "LocalFile",
        message: `Cannot read ${fromStdin ? "stdin" : `input file ${options.input}`}: ${
          describeThrown(e)
        }`,
      },
    };
  }
  if (bytes.byteLength > MAX_INPUT_BYTES) {
    return {
      error: {
        _tag: "Usage",
        message: `The body (${fromStdin ? "stdin" : options.input}) is larger than ` +
          `${MAX_INPUT_BYTES} bytes (16 MiB), the most xcap sends in one request`,
      },
    };
  }
  try {
    // ignoreBOM keeps a byte order mark: the body goes out exactly as read.
    return { body: new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes) };
  } catch {
    return {
      error: {
        _tag: "Usage",
        message: `The body (${fromStdin ? "stdin" : options.input}) is not UTF-8, which XCAP ` +
          `requires (RFC 4825 §8.2.1)`,
      },
    };
  }
}

function verboseFetch(
  base: typeof globalThis.fetch,
  log: (text: string) => Promise<void>,
): typeof globalThis.fetch {
  const shown = ["if-match", "if-none-match", "content-type"];
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const method = init?.method ?? (input instanceof Request ? input.method : "GET");
    const headers = new Headers(init?.headers);
    const lines = [`> ${method} ${input instanceof Request ? input.url : String(input)}`];
    for (const name of shown) {
      const value = headers.get(name);
      if (value !== null) lines.push(`>   ${name}: ${value}`);
    }
    // The Authorization header is a secret: say that it was sent, never what it was.
    if (headers.has("authorization")) {
      lines.push(`>   authorization: ${headers.get("authorization")!.split(" ", 1)[0]} (hidden)`);
    }
    await log(`${escapeControlCharacters(lines.join("\n"))}\n`);
    const response = await base(input, init);
    await log(`< ${statusText(response.status)}\n`);
    return response;
  }) as typeof globalThis.fetch;
}

async function runAction(
  args: Extract<CliArgs, { command: "run" }>,
  io: CliIo,
  printer: Printer,
): Promise<number> {
  const { action, selector, options } = args;
  const json = options.json ?? false;
  const fail = async (error: CliError, hint?: string): Promise<number> => {
    if (error._tag === "Usage") {
      await reportUsage(printer, error, json, action);
    } else if (json) {
      await printer.json(failureToJson(error, action));
    } else {
      await printer.err(formatFailure(error, {
        color: printer.color.stderr,
        ...(hint === undefined ? {} : { hint }),
      }));
    }
    return exitCodeFor(error);
  };

  const account = await loadAccountFile(options, io, printer);
  if (account.error !== undefined) return await fail(account.error);

  // The application: --app, else guessed from the selector or the body.
  const isUpdate = (UPDATE_ACTIONS as readonly Action[]).includes(action);
  let body: string | undefined;
  if (isUpdate) {
    const read = await readBody(options, io, printer);
    if (read.error !== undefined) return await fail(read.error);
    body = read.body;
  }
  let app: string;
  if (action === "caps") {
    app = "xcap-caps";
  } else if (options.app !== undefined) {
    app = options.app;
  } else {
    const guess = guessApplication({
      ...(selector === undefined ? {} : { selector }),
      ...(body === undefined ? {} : { body }),
    });
    if (typeof guess === "string") return await fail({ _tag: "Usage", message: guess, action });
    app = guess.auid;
  }
  // The document name: --filename, else the application usage's own default (OMA usages name
  // theirs: pres-rules, directory.xml), else the client's "index".
  const filename = options.filename ?? KNOWN_APPLICATIONS.get(app)?.defaultDocumentName;
  // python-xcaplib: the global tree is the default for xcap-caps only.
  const global = action === "caps" || (options.global ?? app === "xcap-caps");

  const settings = resolveConnection({
    options,
    env: envRecord(io, ["XCAP_ROOT", "XCAP_SIP_ADDRESS", "XCAP_PASSWORD"]),
    ...(account.ini === undefined ? {} : { ini: account.ini }),
    iniPath: account.path,
  }, { requireXui: !global });
  if (settings.isErr()) return await fail(settings.error);

  const baseFetch = io.fetch ?? globalThis.fetch;
  const fetch = options.verbose ? verboseFetch(baseFetch, (text) => printer.err(text)) : baseFetch;
  const makeClient = (connection: ConnectionSettings) =>
    new XCAPClient(connection.xcapRoot, connection.xui ?? "sip:anonymous@invalid", {
      fetch,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ...(connection.password === undefined ? {} : { password: connection.password }),
      ...(connection.username === undefined ? {} : { username: connection.username }),
      ...(options.allowBasicOverHttp ? { allowBasicOverHttp: true } : {}),
    });

  const request = {
    action,
    app,
    ...(selector === undefined ? {} : { selector }),
    ...(body === undefined ? {} : { body }),
    ...(options.etag === undefined ? {} : { etag: options.etag }),
    ...(options.ifNoneMatch === undefined ? {} : { ifNoneMatch: options.ifNoneMatch }),
    call: {
      global,
      ...(filename === undefined ? {} : { filename }),
      ...(options.namespaces === undefined ? {} : { namespaces: options.namespaces }),
      ...(options.headers === undefined
        ? {}
        : { headers: options.headers.map(([n, v]) => [n, v]) as [string, string][] }),
      ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
    },
  };

  let connection = settings.value;
  let result = await performAction(makeClient(connection), request);

  // A 401 without a password: ask on the terminal, as python-xcaplib's xcapclient does.
  if (
    result.isErr() && result.error._tag === "Unauthorized" && connection.password === undefined &&
    !connection.noAuth && io.isTerminal.stdin && io.promptPassword !== undefined
  ) {
    const realm = challengeRealm(result.error.headers.get("www-authenticate"));
    const user = connection.username ??
      (connection.xui ?? "").replace(/^sips?:/i, "").split("@")[0];
    const password = await io.promptPassword(
      escapeControlCharacters(
        `Password for ${user}${realm === undefined ? "" : ` (realm ${JSON.stringify(realm)})`}: `,
      ),
    );
    if (password !== undefined) {
      connection = { ...connection, password, passwordSource: "prompt" };
      result = await performAction(makeClient(connection), request);
    }
  }

  if (result.isErr()) {
    const error = result.error;
    let hint: string | undefined;
    if (error._tag === "Unauthorized") {
      // The client tells no credentials, refused ones and unsent ones apart (error.credentials).
      const source = connection.password === undefined
        ? ""
        : describePasswordSource(connection, account.path);
      hint = connection.password === undefined
        ? "Give a password with --password, XCAP_PASSWORD or the account file (or run on a terminal to be asked)."
        : error.credentials === "unanswered"
        ? `The password (${source}) was not sent; for Basic over plain http add --allow-basic-over-http.`
        : `The password (${source}) was refused.`;
    } else if (error._tag === "Timeout") {
      hint = "Use --timeout SECONDS to wait longer.";
    } else if (error._tag === "InvalidArgument") {
      return await fail({ _tag: "Usage", message: error.message, action });
    }
    return await fail(error, hint);
  }
  return await report(result.value, action, options, io, printer);
}

function describePasswordSource(connection: ConnectionSettings, iniPath: string): string {
  switch (connection.passwordSource) {
    case "option":
      return "from --password";
    case "environment":
      return "from XCAP_PASSWORD";
    case "account file":
      return `from ${iniPath}`;
    default:
      return "typed at the prompt";
  }
}

async function report(
  resource: XcapResource,
  action: Action,
  options: CliOptions,
  io: CliIo,
  printer: Printer,
): Promise<number> {
  const json = options.json ?? false;
  let saved: { path: string; bytes: number } | undefined;
  const bytes = encoder.encode(resource.body);
  if (options.output !== undefined && options.output !== "-") {
    try {
      await io.writeFile(options.output, bytes);
    } catch (e) {
      const error: CliError = {
        _tag: "LocalFile",
        message: `The request succeeded (${statusText(resource.status)}), but the body cannot be ` +
          `written to ${options.output}: ${describeThrown(e)}`,
      };
      if (json) await printer.json(failureToJson(error, action));
      else await printer.err(formatFailure(error, { color: printer.color.stderr }));
      return EXIT_CODES.localFailure;
    }
    saved = { path: options.output, bytes: bytes.byteLength };
  }

  if (json) {
    const object: JsonSuccess = {
      ok: true,
      action,
      url: resource.url,
      status: resource.status,
      ...(resource.etag === undefined ? {} : { etag: resource.etag }),
      ...(resource.contentType === undefined ? {} : { contentType: resource.contentType }),
      ...(saved === undefined ? { body: resource.body } : { output: saved.path }),
      ...(action === "caps" ? { capabilities: readCapabilities(resource.body) } : {}),
    };
    await printer.json(object);
    return EXIT_CODES.ok;
  }

  if (saved === undefined && resource.body !== "") {
    if (io.isTerminal.stdout) {
      // A terminal acts on escape sequences (title, clear screen, OSC 52 clipboard writes): a
      // body shows them as text there; on a pipe or in -o FILE it keeps its exact bytes.
      await printer.out(
        prettyPrintXml(escapeControlCharacters(resource.body), { color: printer.color.stdout }),
      );
    } else {
      await io.writeStdout(bytes);
    }
  }
  if (!(options.quiet ?? false)) {
    await printer.err(formatSuccess({
      status: resource.status,
      ...(resource.etag === undefined ? {} : { etag: resource.etag }),
      ...(resource.contentType === undefined ? {} : { contentType: resource.contentType }),
      ...(saved === undefined ? {} : { saved }),
    }, { color: printer.color.stderr }));
  }
  return EXIT_CODES.ok;
}
