/**
 * Command-line parsing for `xcap`: the option table, and `argv` in, a checked
 * {@linkcode CliArgs} value or a {@linkcode UsageError} out. Pure: no I/O, nothing thrown.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { closestString } from "jsr:@std/text@^1.0.16/closest-string";
import type { NamespaceBindings } from "../client/selector.ts";
import { isNCName } from "../xml/_names.ts";

/** The actions `xcap` performs on an XCAP resource. */
export type Action = "get" | "put" | "insert" | "replace" | "delete" | "caps";

/**
 * Every action, in the order help lists them.
 *
 * @example Usage
 * ```ts
 * import { ACTIONS } from "./args.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(ACTIONS, ["get", "put", "insert", "replace", "delete", "caps"]);
 * ```
 */
export const ACTIONS: readonly Action[] = Object.freeze([
  "get",
  "put",
  "insert",
  "replace",
  "delete",
  "caps",
]);

/**
 * The actions that send a body (read from `-i FILE` or stdin).
 *
 * @example Usage
 * ```ts
 * import { UPDATE_ACTIONS } from "./args.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(UPDATE_ACTIONS, ["put", "insert", "replace"]);
 * ```
 */
export const UPDATE_ACTIONS: readonly Action[] = Object.freeze(["put", "insert", "replace"]);

/** Shells `xcap completions` writes a script for. */
export type Shell = "bash" | "zsh" | "fish";

/**
 * The shells `xcap completions` supports.
 *
 * @example Usage
 * ```ts
 * import { SHELLS } from "./args.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(SHELLS, ["bash", "zsh", "fish"]);
 * ```
 */
export const SHELLS: readonly Shell[] = Object.freeze(["bash", "zsh", "fish"]);

/** When to colour terminal output. */
export type ColorMode = "auto" | "always" | "never";

/** A command line that cannot be run as written; the process exits with code 2. */
export interface UsageError {
  /** Discriminant. */
  readonly _tag: "Usage";
  /** What was wrong, and where. */
  readonly message: string;
  /** The action whose help explains the mistake, when one was recognised. */
  readonly action?: Action;
}

/** Everything the options of a command line set, each key present only when given. */
export interface CliOptions {
  /** `--xcap-root URL`. */
  readonly xcapRoot?: string;
  /** `--sip-address SIP-URI` (the XCAP User Identifier). */
  readonly sipAddress?: string;
  /** `-p`, `--password PASSWORD`. */
  readonly password?: string;
  /** `--username NAME`: the authentication user name. */
  readonly username?: string;
  /** `-a`, `--account NAME`: read section `[Account_NAME]` of the account file. */
  readonly account?: string;
  /** `--config FILE`: the account file. */
  readonly config?: string;
  /** `--allow-basic-over-http`. */
  readonly allowBasicOverHttp?: boolean;
  /** `--timeout SECONDS`, converted to milliseconds. */
  readonly timeoutMs?: number;
  /** `--app AUID`. */
  readonly app?: string;
  /** `--filename NAME`. */
  readonly filename?: string;
  /** `--global` or `-c global` (`false` for `-c users`). */
  readonly global?: boolean;
  /** `--ns PREFIX=URI`, repeatable: namespace bindings for prefixed selector steps. */
  readonly namespaces?: NamespaceBindings;
  /** `--etag ETAG` (If-Match). */
  readonly etag?: string;
  /** `--if-none-match ETAG` (If-None-Match; `*` allowed). */
  readonly ifNoneMatch?: string;
  /** `-H`, `--header 'Name: value'`, repeatable, in order. */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  /** `--content-type TYPE`: overrides the Content-Type of a PUT. */
  readonly contentType?: string;
  /** `-i FILE`: the body of a PUT (`-` for stdin). */
  readonly input?: string;
  /** `-o FILE`: where to write the response body. */
  readonly output?: string;
  /** `--json`. */
  readonly json?: boolean;
  /** `-q`, `--quiet`. */
  readonly quiet?: boolean;
  /** `-v`, `--verbose`. */
  readonly verbose?: boolean;
  /** `--color auto|always|never`, `--no-color`. */
  readonly color?: ColorMode;
}

/** A parsed command line. */
export type CliArgs =
  | {
    /** Perform an action on the server. */
    readonly command: "run";
    /** The action. */
    readonly action: Action;
    /** The node selector, when the action is on part of a document. */
    readonly selector?: string;
    /** The options. */
    readonly options: CliOptions;
  }
  | {
    /** Print help: general help, or one action's. */
    readonly command: "help";
    /** The action whose help to print. */
    readonly action?: Action;
    /** The options. */
    readonly options: CliOptions;
  }
  | {
    /** Print the version. */
    readonly command: "version";
    /** The options. */
    readonly options: CliOptions;
  }
  | {
    /** Print a shell completion script. */
    readonly command: "completions";
    /** The shell. */
    readonly shell: Shell;
    /** The options. */
    readonly options: CliOptions;
  };

/** What an option's value means, for parsing and for shell completion. */
export type OptionValueKind = "text" | "file" | "auid" | "choice" | "number";

/** One option of the command line. */
export interface OptionSpec {
  /** The long name without dashes, e.g. `xcap-root`. */
  readonly name: string;
  /** The one-letter name, e.g. `i` for `-i`. */
  readonly short?: string;
  /** Other long names accepted (python xcapclient's spellings among them). */
  readonly aliases?: readonly string[];
  /** Placeholder of the value in help (`URL`, `FILE`); absent for flags. */
  readonly value?: string;
  /** What the value is. */
  readonly kind?: OptionValueKind;
  /** The values a `choice` option accepts. */
  readonly choices?: readonly string[];
  /** The option may be given more than once. */
  readonly repeatable?: boolean;
  /** Which part of the help lists it. */
  readonly group: "account" | "request" | "output";
  /** The actions it applies to, when not all of them (for per-action help). */
  readonly actions?: readonly Action[];
  /** One line of help. */
  readonly help: string;
}

/**
 * The options `xcap` understands. Names follow python-xcaplib's `xcapclient` where it has one
 * (`--xcap-root`, `--sip-address`, `-p`/`--password`, `--app`, `--filename`, `-c`/`--context`,
 * `--etag`, `-i`, `-o`, `-a`/`--account-name`, `--add-header`).
 *
 * @example Usage
 * ```ts
 * import { OPTIONS } from "./args.ts";
 * import { assert, assertEquals } from "@std/assert";
 *
 * const root = OPTIONS.find((o) => o.name === "xcap-root");
 * assert(root !== undefined);
 * assertEquals(root.group, "account");
 * ```
 */
export const OPTIONS: readonly OptionSpec[] = Object.freeze(
  [
    {
      name: "xcap-root",
      value: "URL",
      kind: "text",
      group: "account",
      help: "XCAP root, e.g. https://xcap.example.com/xcap-root (env XCAP_ROOT)",
    },
    {
      name: "sip-address",
      aliases: ["xui"],
      value: "SIP-URI",
      kind: "text",
      group: "account",
      help: "the user whose documents to use, e.g. alice@example.com (env XCAP_SIP_ADDRESS)",
    },
    {
      name: "password",
      short: "p",
      value: "PASSWORD",
      kind: "text",
      group: "account",
      help: "password for Digest or Basic authentication (better: env XCAP_PASSWORD)",
    },
    {
      name: "username",
      value: "NAME",
      kind: "text",
      group: "account",
      help: "authentication user name (default: the user part of the SIP address)",
    },
    {
      name: "account",
      short: "a",
      aliases: ["account-name"],
      value: "NAME",
      kind: "text",
      group: "account",
      help: "use section [Account_NAME] of the account file instead of [Account]",
    },
    {
      name: "config",
      value: "FILE",
      kind: "file",
      group: "account",
      help: "account file (default ~/.xcapclient.ini; env XCAP_CONFIG)",
    },
    {
      name: "allow-basic-over-http",
      group: "account",
      help: "answer a Basic challenge over plain http: (sends the password in clear)",
    },
    {
      name: "timeout",
      value: "SECONDS",
      kind: "number",
      group: "account",
      help: "give up on a request after this many seconds (default 30)",
    },
    {
      name: "app",
      actions: ["get", "put", "insert", "replace", "delete"],
      value: "AUID",
      kind: "auid",
      group: "request",
      help: "application usage, e.g. resource-lists (guessed from the selector or document)",
    },
    {
      name: "filename",
      actions: ["get", "put", "insert", "replace", "delete"],
      value: "NAME",
      kind: "text",
      group: "request",
      help: "document name below the user's or global tree (default index)",
    },
    {
      name: "global",
      actions: ["get", "put", "insert", "replace", "delete"],
      group: "request",
      help: "use the global tree instead of the user's (default for xcap-caps)",
    },
    {
      name: "context",
      actions: ["get", "put", "insert", "replace", "delete"],
      short: "c",
      value: "users|global",
      kind: "choice",
      choices: ["users", "global"],
      group: "request",
      help: "document tree, as python xcapclient spells it",
    },
    {
      name: "ns",
      aliases: ["xmlns"],
      value: "PREFIX=URI",
      kind: "text",
      repeatable: true,
      group: "request",
      help: "bind a prefix used in the node selector to a namespace (repeatable)",
    },
    {
      name: "etag",
      value: "ETAG",
      kind: "text",
      group: "request",
      help: "only if the document still has this entity tag (If-Match)",
    },
    {
      name: "if-none-match",
      actions: ["get", "put", "delete", "caps"],
      value: "ETAG",
      kind: "text",
      group: "request",
      help: "only if the entity tag differs (If-None-Match; * = only if absent)",
    },
    {
      name: "header",
      short: "H",
      aliases: ["add-header"],
      value: "'NAME: VALUE'",
      kind: "text",
      repeatable: true,
      group: "request",
      help: "send an extra request header (repeatable)",
    },
    {
      name: "content-type",
      actions: ["put", "insert", "replace"],
      value: "TYPE",
      kind: "text",
      group: "request",
      help: "Content-Type of the body sent (default: from the application and selector)",
    },
    {
      name: "input",
      actions: ["put", "insert", "replace"],
      short: "i",
      value: "FILE",
      kind: "file",
      group: "request",
      help: "read the body to send from FILE (default: stdin; - is stdin)",
    },
    {
      name: "output",
      short: "o",
      value: "FILE",
      kind: "file",
      group: "output",
      help: "write the response body to FILE (exact bytes; - is stdout)",
    },
    {
      name: "json",
      group: "output",
      help: "print one JSON object with status, etag, content type and body (or the error)",
    },
    {
      name: "quiet",
      short: "q",
      group: "output",
      help: "print nothing on stderr but errors",
    },
    {
      name: "verbose",
      short: "v",
      aliases: ["dump"],
      group: "output",
      help: "print each HTTP request and response status on stderr",
    },
    {
      name: "color",
      aliases: ["colour"],
      value: "auto|always|never",
      kind: "choice",
      choices: ["auto", "always", "never"],
      group: "output",
      help: "colour terminal output (default auto: only on a terminal, never with NO_COLOR)",
    },
    { name: "no-color", aliases: ["no-colour"], group: "output", help: "same as --color never" },
    { name: "help", short: "h", group: "output", help: "show help (also: xcap help ACTION)" },
    { name: "version", group: "output", help: "show the version" },
  ] satisfies OptionSpec[],
);

const BY_LONG_NAME: ReadonlyMap<string, OptionSpec> = new Map(
  OPTIONS.flatMap((o) => [o.name, ...(o.aliases ?? [])].map((n) => [n, o] as const)),
);
const BY_SHORT_NAME: ReadonlyMap<string, OptionSpec> = new Map(
  OPTIONS.filter((o) => o.short !== undefined).map((o) => [o.short!, o] as const),
);

// RFC 9110 §5.1: field-name = token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function usage(message: string, action?: Action): Result<never, UsageError> {
  return err(Object.freeze({ _tag: "Usage", message, ...(action ? { action } : {}) }));
}

/** Edit distance counting a swap of two neighbours as one edit, for "did you mean" hints. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from(
    { length: a.length + 1 },
    (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

function suggest(word: string, candidates: Iterable<string>): string {
  const words = [...candidates];
  if (words.length === 0) return "";
  const best = closestString(word, words, { caseSensitive: true, compareFn: distance });
  return distance(word, best) <= Math.max(1, Math.floor(word.length / 3)) ? best : "";
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function setOption(
  options: Mutable<CliOptions>,
  spec: OptionSpec,
  flag: string,
  value: string | undefined,
): Result<void, UsageError> {
  switch (spec.name) {
    case "xcap-root":
      options.xcapRoot = value!;
      break;
    case "sip-address":
      options.sipAddress = value!;
      break;
    case "password":
      options.password = value!;
      break;
    case "username":
      options.username = value!;
      break;
    case "account":
      options.account = value!;
      break;
    case "config":
      options.config = value!;
      break;
    case "allow-basic-over-http":
      options.allowBasicOverHttp = true;
      break;
    case "timeout": {
      const seconds = Number(value);
      if (value!.trim() === "" || !Number.isFinite(seconds) || seconds <= 0) {
        return usage(`${flag} needs a positive number of seconds, not ${JSON.stringify(value)}`);
      }
      options.timeoutMs = Math.round(seconds * 1000);
      break;
    }
    case "app":
      if (value!.trim() === "" || value!.includes("/")) {
        return usage(`${flag} needs an AUID such as resource-lists, not ${JSON.stringify(value)}`);
      }
      options.app = value!;
      break;
    case "filename":
      options.filename = value!;
      break;
    case "global":
      if (options.global === false) return usage("--global contradicts -c users");
      options.global = true;
      break;
    case "context":
      if (value !== "users" && value !== "global") {
        return usage(`${flag} must be "users" or "global", not ${JSON.stringify(value)}`);
      }
      if (options.global !== undefined && options.global !== (value === "global")) {
        return usage(`${flag} ${value} contradicts an earlier --global or -c`);
      }
      options.global = value === "global";
      break;
    case "ns": {
      const eq = value!.indexOf("=");
      const prefix = eq === -1 ? "" : value!.slice(0, eq).trim();
      const uri = eq === -1 ? "" : value!.slice(eq + 1).trim();
      if (eq === -1 || !isNCName(prefix) || uri === "") {
        return usage(
          `${flag} needs PREFIX=URI, e.g. ${flag} rl=urn:ietf:params:xml:ns:resource-lists, not ` +
            JSON.stringify(value),
        );
      }
      options.namespaces = { ...options.namespaces, [prefix]: uri };
      break;
    }
    case "etag":
      options.etag = value!;
      break;
    case "if-none-match":
      options.ifNoneMatch = value!;
      break;
    case "header": {
      const colon = value!.indexOf(":");
      const name = colon === -1 ? "" : value!.slice(0, colon).trim();
      if (colon === -1 || !TOKEN.test(name)) {
        return usage(
          `${flag} needs 'NAME: VALUE', e.g. ${flag} 'X-Trace: 1', not ${JSON.stringify(value)}`,
        );
      }
      const headerValue = value!.slice(colon + 1).trim();
      if (/[\r\n\0]/.test(headerValue)) {
        return usage(`${flag} ${name}: the value has a CR, LF or NUL in it`);
      }
      options.headers = [...(options.headers ?? []), [name, headerValue]];
      break;
    }
    case "content-type":
      if (value!.trim() === "" || /[\r\n\0]/.test(value!)) {
        return usage(`${flag} needs a media type such as application/xml`);
      }
      options.contentType = value!.trim();
      break;
    case "input":
      options.input = value!;
      break;
    case "output":
      options.output = value!;
      break;
    case "json":
      options.json = true;
      break;
    case "quiet":
      options.quiet = true;
      break;
    case "verbose":
      options.verbose = true;
      break;
    case "color":
      if (value !== "auto" && value !== "always" && value !== "never") {
        return usage(`${flag} must be auto, always or never, not ${JSON.stringify(value)}`);
      }
      options.color = value;
      break;
    case "no-color":
      options.color = "never";
      break;
  }
  return ok(undefined);
}

function parseAction(word: string): Result<Action, UsageError> {
  const lower = word.toLowerCase();
  if ((ACTIONS as readonly string[]).includes(lower)) return ok(lower as Action);
  const guess = suggest(lower, [...ACTIONS, "help", "completions"]);
  return usage(
    `Unknown action ${JSON.stringify(word)}` +
      (guess ? `: did you mean ${guess}?` : `: expected one of ${ACTIONS.join(", ")}`),
  );
}

/**
 * Parse `xcap`'s command line: `[OPTIONS] ACTION [NODE-SELECTOR] [OPTIONS]`, `help [ACTION]`,
 * `completions SHELL`, `--help`, `--version`.
 *
 * Options may come before or after the action. Long options take their value as `--name value`
 * or `--name=value`, short ones as `-i FILE` or `-iFILE`; flags may be grouped (`-qv`); `--`
 * ends the options. Every value is checked here (a positive `--timeout`, `--ns PREFIX=URI`,
 * `--header 'Name: value'`, a node selector starting with `/`), and so are combinations that
 * cannot work (`-i` with `get`, `--if-none-match` with `insert`).
 *
 * @param argv The arguments after the program name.
 * @returns The parsed command line, or a `Usage` error saying what was wrong.
 *
 * @example Usage
 * ```ts
 * import { parseCliArgs } from "./args.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const parsed = parseCliArgs([
 *   "--xcap-root", "http://127.0.0.1:5080/xcap-root", "get", "/resource-lists/list", "--json",
 * ]);
 * assertEquals(parsed._unsafeUnwrap(), {
 *   command: "run",
 *   action: "get",
 *   selector: "/resource-lists/list",
 *   options: { xcapRoot: "http://127.0.0.1:5080/xcap-root", json: true },
 * });
 * assertEquals(parsed.isOk() && parsed.value.command, "run");
 * assertEquals(parseCliArgs(["gte"])._unsafeUnwrapErr().message, 'Unknown action "gte": did you mean get?');
 * ```
 */
export function parseCliArgs(argv: readonly string[]): Result<CliArgs, UsageError> {
  const options: Mutable<CliOptions> = {};
  const positionals: string[] = [];
  let help = false;
  let version = false;
  let onlyPositionals = false;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (onlyPositionals || arg === "-" || !arg.startsWith("-")) {
      positionals.push(arg);
      continue;
    }
    if (arg === "--") {
      onlyPositionals = true;
      continue;
    }
    const pending: Array<{ spec: OptionSpec; flag: string; inline?: string }> = [];
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = arg.slice(2, eq === -1 ? undefined : eq);
      const spec = BY_LONG_NAME.get(name);
      if (spec === undefined) {
        const guess = suggest(name, BY_LONG_NAME.keys());
        return usage(`Unknown option --${name}` + (guess ? `: did you mean --${guess}?` : ""));
      }
      pending.push({
        spec,
        flag: `--${name}`,
        ...(eq === -1 ? {} : { inline: arg.slice(eq + 1) }),
      });
    } else {
      // -i FILE, -iFILE, -qv
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j]!;
        const spec = BY_SHORT_NAME.get(letter);
        if (spec === undefined) {
          return usage(`Unknown option -${letter}` + (arg.length > 2 ? ` in ${arg}` : ""));
        }
        if (spec.value !== undefined) {
          const rest = arg.slice(j + 1);
          pending.push({ spec, flag: `-${letter}`, ...(rest === "" ? {} : { inline: rest }) });
          break;
        }
        pending.push({ spec, flag: `-${letter}` });
      }
    }
    for (const { spec, flag, inline } of pending) {
      let value: string | undefined;
      if (spec.value !== undefined) {
        if (inline !== undefined) {
          value = inline;
        } else if (i + 1 < argv.length) {
          value = argv[++i]!;
        } else {
          return usage(`${flag} needs a value (${spec.value})`);
        }
      } else if (inline !== undefined) {
        return usage(`${flag} takes no value`);
      }
      if (spec.name === "help") {
        help = true;
        continue;
      }
      if (spec.name === "version") {
        version = true;
        continue;
      }
      const set = setOption(options, spec, flag, value);
      if (set.isErr()) return err(set.error);
    }
  }

  const frozen = Object.freeze(options) as CliOptions;
  const [first, ...rest] = positionals;

  if (first === "help") {
    if (rest.length > 1) return usage(`help takes at most one action, not ${rest.length}`);
    if (rest[0] === undefined) return ok({ command: "help", options: frozen });
    if (rest[0] === "completions") return ok({ command: "help", options: frozen });
    const action = parseAction(rest[0]);
    if (action.isErr()) return err(action.error);
    return ok({ command: "help", action: action.value, options: frozen });
  }
  if (first === "completions") {
    if (help) return ok({ command: "help", options: frozen });
    const shell = rest[0];
    if (shell === undefined) return usage(`completions needs a shell: ${SHELLS.join(", ")}`);
    if (!(SHELLS as readonly string[]).includes(shell)) {
      return usage(`completions supports ${SHELLS.join(", ")}, not ${JSON.stringify(shell)}`);
    }
    if (rest.length > 1) return usage(`completions takes one shell, not ${rest.length} arguments`);
    return ok({ command: "completions", shell: shell as Shell, options: frozen });
  }
  if (version && first === undefined) return ok({ command: "version", options: frozen });
  if (first === undefined) {
    if (help) return ok({ command: "help", options: frozen });
    return usage("No action given: expected one of " + ACTIONS.join(", "));
  }
  const parsedAction = parseAction(first);
  if (parsedAction.isErr()) {
    return help ? ok({ command: "help", options: frozen }) : err(parsedAction.error);
  }
  const action = parsedAction.value;
  if (help) return ok({ command: "help", action, options: frozen });
  if (version) return ok({ command: "version", options: frozen });

  const [selector, ...extra] = rest;
  if (extra.length > 0) {
    return usage(
      `Too many arguments after ${action}: ${extra.map((e) => JSON.stringify(e)).join(" ")} ` +
        `(quote a node selector that contains spaces)`,
      action,
    );
  }
  const checked = checkCombination(action, selector, frozen);
  if (checked.isErr()) return err(checked.error);
  return ok({
    command: "run",
    action,
    ...(selector === undefined ? {} : { selector }),
    options: frozen,
  });
}

function checkCombination(
  action: Action,
  selector: string | undefined,
  options: CliOptions,
): Result<void, UsageError> {
  if (selector !== undefined) {
    if (selector === "") return usage("The node selector is empty", action);
    // RFC 4825 §6.3: a node selector is an absolute path from the document element.
    if (!selector.startsWith("/")) {
      return usage(
        `A node selector starts at the document element with "/": try "/${selector}"`,
        action,
      );
    }
  }
  const isUpdate = (UPDATE_ACTIONS as readonly Action[]).includes(action);
  if (!isUpdate && options.input !== undefined) {
    return usage(`-i gives the body to send; ${action} sends none`, action);
  }
  if (!isUpdate && options.contentType !== undefined) {
    return usage(`--content-type is the type of the body sent; ${action} sends none`, action);
  }
  if ((action === "insert" || action === "replace") && options.ifNoneMatch !== undefined) {
    return usage(
      `${action} sets its own preconditions; use put with --if-none-match instead`,
      action,
    );
  }
  if (action === "insert" && selector === undefined && options.etag !== undefined) {
    return usage(
      "insert creates a document only if there is none, so it cannot also require an ETag; " +
        "use put --etag ETAG to replace a known version",
      action,
    );
  }
  if (options.input !== undefined && options.input !== "-" && options.input === options.output) {
    return usage(`-i and -o name the same file ${JSON.stringify(options.input)}`, action);
  }
  return ok(undefined);
}
