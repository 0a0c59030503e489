/**
 * The help texts of `xcap`: general help with every option and the exit codes, and one page
 * per action with examples. Pure.
 *
 * @module
 */
import { type Action, OPTIONS, type OptionSpec } from "./args.ts";
import { EXIT_CODES } from "./output.ts";

/**
 * The version `xcap --version` prints.
 *
 * @example Usage
 * ```ts
 * import { VERSION } from "@xcap/xcap/cli";
 * import { assertMatch } from "@std/assert";
 *
 * assertMatch(VERSION, /^\d+\.\d+\.\d+$/);
 * ```
 */
export const VERSION = "0.1.0";

const SUMMARY: Readonly<Record<Action, string>> = {
  get: "read a document, element, attribute or namespace bindings",
  put: "create or replace a document, element or attribute",
  insert: "create a document, element or attribute only if it is absent",
  replace: "replace a document, element or attribute only if it is present",
  delete: "delete a document, element or attribute",
  caps: "show the server's capabilities (the global xcap-caps document)",
};

const DETAILS: Readonly<Record<Action, readonly string[]>> = {
  get: [
    `Reads the whole document, or the part the node selector names: an element ` +
    `(/resource-lists/list[@name="friends"]), an attribute (.../entry[1]/@uri) or the ` +
    `namespace bindings in scope of an element (.../list/namespace::*). The body goes to ` +
    `stdout (indented when stdout is a terminal, the exact bytes otherwise) or to -o FILE.`,
    `--if-none-match ETAG turns a GET into a check: exit code ${EXIT_CODES.notModified} when ` +
    `nothing changed since that version.`,
  ],
  put: [
    `Sends the body from -i FILE or stdin. Without a node selector it creates or replaces ` +
    `the whole document; with one it creates or replaces that element or attribute (the body ` +
    `is then the element, or the attribute's value).`,
    `The Content-Type follows RFC 4825: the application's MIME type for a document, ` +
    `application/xcap-el+xml for an element, application/xcap-att+xml for an attribute.`,
    `--etag ETAG makes it conditional (If-Match): exit code ${EXIT_CODES.preconditionFailed} ` +
    `if the document changed since that version.`,
  ],
  insert: [
    `Like put, but never overwrites: exit code ${EXIT_CODES.preconditionFailed} when the ` +
    `target exists already.`,
    `For a document: GET it, and only after a 404 PUT it with If-None-Match: * (Kamailio: ` +
    `its quoted "*"). For an element or attribute: GET the document for its ETag, check that ` +
    `the node is absent in that version, then PUT with If-None-Match: * (Kamailio: If-Match: ` +
    `that ETag), so anything written by someone else in between makes the PUT fail with 412 ` +
    `(xcap then starts over, up to 3 times). This is the library's create-only PUT ` +
    `(ifNoneMatch: "*").`,
    `The GET comes first because some servers (Kamailio) ignore an unquoted If-None-Match: *.`,
  ],
  replace: [
    `Like put, but never creates: exit code ${EXIT_CODES.preconditionFailed} when the target ` +
    `does not exist.`,
    `GETs the target for its ETag, then PUTs with If-Match: that ETag, so a change by someone ` +
    `else in between gives 412 instead of being overwritten (xcap then starts over, up to 3 ` +
    `times; with --etag it does not).`,
    `RFC 7232's If-Match: * would say "only if present" in one request, but Kamailio reads an ` +
    `unquoted * as an entity tag that never matches.`,
  ],
  delete: [
    `Deletes the document, or the element or attribute the node selector names. --etag ETAG ` +
    `deletes only if the document still has that entity tag.`,
  ],
  caps: [
    `GETs xcap-caps/global/index (RFC 4825 §12): the application usages, extensions and ` +
    `namespaces the server supports. With --json they are listed in "capabilities". Needs no ` +
    `SIP address.`,
  ],
};

/** Wrap a paragraph to `width` columns, every line starting with `indent`. */
function wrap(text: string, width: number, indent = ""): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(indent + line);
  return lines.join("\n");
}

const WIDTH = 80;
const COLUMN = 30;

const EXAMPLES: Readonly<Record<Action, readonly string[]>> = {
  get: [
    "xcap get --app resource-lists",
    "xcap get '/resource-lists/list[@name=\"friends\"]'",
    "xcap get '/resource-lists/list/entry[2]/@uri'",
    "xcap get '/resource-lists/list/namespace::*' --json",
    "xcap get --app pres-rules -o rules.xml",
    "xcap get --app resource-lists --if-none-match '\"e1\"'  # exit 6 if unchanged",
  ],
  put: [
    "xcap put -i buddies.xml          # the app is guessed from <resource-lists>",
    "xcap put --app resource-lists < buddies.xml",
    "echo '<entry uri=\"sip:bob@example.com\"/>' | \\\n      xcap put '/resource-lists/list/entry[@uri=\"sip:bob@example.com\"]'",
    "xcap put --etag '\"e1\"' -i buddies.xml         # only if still at version e1",
  ],
  insert: [
    "xcap insert -i buddies.xml                    # fails with exit 5 if it exists",
    "echo '<entry uri=\"sip:carol@example.com\"/>' | \\\n      xcap insert '/resource-lists/list/entry[@uri=\"sip:carol@example.com\"]'",
  ],
  replace: [
    "xcap replace -i buddies.xml                   # fails with exit 5 if absent",
    "echo 'The Bob' | xcap replace '/resource-lists/list/entry[1]/display-name' \\\n      --content-type application/xcap-el+xml",
  ],
  delete: [
    "xcap delete --app resource-lists",
    "xcap delete '/resource-lists/list/entry[@uri=\"sip:bob@example.com\"]'",
    "xcap delete --etag '\"e2\"' '/resource-lists/list[@name=\"old\"]'",
  ],
  caps: [
    "xcap caps --xcap-root https://xcap.example.com/xcap-root",
    "xcap caps --json",
  ],
};

function optionLine(option: OptionSpec): string {
  const names = [
    ...(option.short ? [`-${option.short}`] : []),
    `--${option.name}`,
  ].join(", ");
  const left = `  ${option.value === undefined ? names : `${names} ${option.value}`}`;
  const help = wrap(option.help, WIDTH, " ".repeat(COLUMN));
  return left.length < COLUMN - 1 ? left.padEnd(COLUMN) + help.slice(COLUMN) : `${left}\n${help}`;
}

function optionGroup(group: OptionSpec["group"], action?: Action): string {
  return OPTIONS
    .filter((o) => o.group === group)
    .filter((o) => action === undefined || o.actions === undefined || o.actions.includes(action))
    .map(optionLine)
    .join("\n");
}

const EXIT_STATUS = `Exit status:
  ${EXIT_CODES.ok}  success
  ${EXIT_CODES.localFailure}  a local file (-i, -o) could not be read or written
  ${EXIT_CODES.usage}  usage error: bad option or argument, missing setting, bad account file
  ${EXIT_CODES.httpError}  HTTP error: any other non-2xx answer (401, 403, 404, 405, 415, 5xx, ...)
  ${EXIT_CODES.conflict}  conflict (409): the server refused the change; the reason is printed
  ${EXIT_CODES.preconditionFailed}  precondition failed (412), insert found it present, replace found it absent
  ${EXIT_CODES.notModified}  not modified (304): --if-none-match matched the current ETag
  ${EXIT_CODES.network}  no usable answer: network error, timeout, or an unreadable response`;

const ACCOUNTS = `Accounts:
  Settings come from the options, then the account named with --account, then
  the environment (XCAP_ROOT, XCAP_SIP_ADDRESS, XCAP_PASSWORD), then section
  [Account] of ~/.xcapclient.ini (or --config FILE, or XCAP_CONFIG), the layout
  of python-xcaplib's xcapclient:

    [Account]
    sip_address = alice@example.com
    password = secret
    xcap_root = https://xcap.example.com/xcap-root

    [Account_work]          # xcap --account work ...
    sip_address = alice@work.example.com
    xcap_root = https://xcap.work.example.com/xcap-root

  Without a password, xcap asks for one (without echo) when the server answers
  401 and stdin is a terminal. A file that holds a password should be readable
  by you alone (chmod 600): xcap warns otherwise.`;

/**
 * The general help: usage, actions, options by group, accounts and exit codes.
 *
 * @returns The text, ending with a newline.
 *
 * @example Usage
 * ```ts
 * import { generalHelp } from "./help.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * assertStringIncludes(generalHelp(), "--xcap-root URL");
 * assertStringIncludes(generalHelp(), "Exit status:");
 * ```
 */
export function generalHelp(): string {
  const actions = (Object.keys(SUMMARY) as Action[])
    .map((a) => `  ${a.padEnd(10)}${SUMMARY[a]}`)
    .join("\n");
  return `xcap ${VERSION} -- read and edit XML documents on an XCAP server (RFC 4825)

Usage:
  xcap [OPTIONS] ACTION [NODE-SELECTOR]
  xcap help ACTION            help and examples for one action
  xcap completions bash|zsh|fish

Actions:
${actions}

A NODE-SELECTOR (RFC 4825 §6.3) names part of the document, e.g.
  '/resource-lists/list[@name="friends"]/entry[@uri="sip:bob@example.com"]'
(quote it for the shell). Without one, the action is on the whole document.

Server and account:
${optionGroup("account")}

Request:
${optionGroup("request")}

Output:
${optionGroup("output")}

The body received goes to stdout (indented and coloured on a terminal, the
exact bytes otherwise); status, etag and content type go to stderr. Colours are
used only on a terminal and never when NO_COLOR is set.

${ACCOUNTS}

${EXIT_STATUS}

Examples:
  export XCAP_ROOT=https://xcap.example.com/xcap-root
  export XCAP_SIP_ADDRESS=alice@example.com
  xcap get --app resource-lists
  xcap insert -i bob.xml \\
      '/resource-lists/list[@name="friends"]/entry[@uri="sip:bob@example.com"]'
  xcap caps --json
`;
}

/**
 * The help page of one action: what it does, the options that matter, examples, exit codes.
 *
 * @param action The action.
 * @returns The text, ending with a newline.
 *
 * @example Usage
 * ```ts
 * import { actionHelp } from "./help.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * assertStringIncludes(actionHelp("insert"), "If-None-Match: *");
 * assertStringIncludes(actionHelp("get"), "Examples:");
 * ```
 */
export function actionHelp(action: Action): string {
  const usageLine = action === "caps"
    ? "xcap caps [OPTIONS] [NODE-SELECTOR]"
    : action === "get" || action === "delete"
    ? `xcap ${action} [OPTIONS] [NODE-SELECTOR]`
    : `xcap ${action} [OPTIONS] [NODE-SELECTOR] [-i FILE | < FILE]`;
  const paragraphs = DETAILS[action].map((p) => wrap(p, WIDTH));
  if (action !== "caps") {
    paragraphs.push(
      "Without --app the application is guessed from the node selector's first step\n" +
        "or the document's root element (resource-lists, rls-services, ruleset ->\n" +
        "pres-rules, presence -> pidf-manipulation, ...).",
    );
  }
  const examples = EXAMPLES[action].map((e) => `  ${e}`).join("\n");
  return `xcap ${action} -- ${SUMMARY[action]}

Usage:
  ${usageLine}

${paragraphs.join("\n\n")}

Examples:
${examples}

Server and account:
${optionGroup("account", action)}

Request:
${optionGroup("request", action)}

Output:
${optionGroup("output", action)}

${EXIT_STATUS}
`;
}
