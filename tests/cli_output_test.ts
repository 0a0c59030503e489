// deno-lint-ignore-file no-control-regex -- these tests look for ANSI escape sequences (ESC [)
/**
 * Unit tests of the pure parts of `xcap` that write output: exit codes, pretty-printing,
 * colours, status lines, JSON, help, completion scripts, and the password prompt's key handling.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertNotMatch,
  assertStringIncludes,
} from "@std/assert";
import type { XcapError } from "../mod.ts";
import { EXIT_CODES } from "../src/cli/mod.ts";
import { ACTIONS, OPTIONS } from "../src/cli/args.ts";
import { completionScript } from "../src/cli/completion.ts";
import { actionHelp, generalHelp } from "../src/cli/help.ts";
import {
  type CliError,
  exitCodeFor,
  failureToJson,
  formatFailure,
  formatSuccess,
  prettyPrintXml,
  readCapabilities,
  shouldColor,
  statusText,
} from "../src/cli/output.ts";
import { applySecretInput, challengeRealm, EMPTY_SECRET_INPUT } from "../src/cli/prompt.ts";

const ANSI = /\x1b\[/;
const http = { status: 0, body: "", headers: new Headers() };

Deno.test("exitCodeFor() gives each kind of failure its own documented code", () => {
  const cases: Array<[CliError, number]> = [
    [{ _tag: "Usage", message: "x" }, 2],
    [{ _tag: "InvalidArgument", message: "x", argument: "node" }, 2],
    [{ _tag: "LocalFile", message: "x" }, 1],
    [{ _tag: "Conflict", message: "x", ...http, status: 409 }, 4],
    [{ _tag: "PreconditionFailed", message: "x", ...http, status: 412 }, 5],
    [{ _tag: "PreconditionNotMet", message: "x", reason: "exists" }, 5],
    [{ _tag: "NotModified", message: "x", ...http, status: 304 }, 6],
    [{ _tag: "NotFound", message: "x", ...http, status: 404 }, 3],
    [{ _tag: "Unauthorized", message: "x", ...http, status: 401 }, 3],
    [{ _tag: "Forbidden", message: "x", ...http, status: 403 }, 3],
    [{ _tag: "MethodNotAllowed", message: "x", ...http, status: 405, allow: [] }, 3],
    [{ _tag: "UnsupportedMediaType", message: "x", ...http, status: 415 }, 3],
    [{ _tag: "HttpError", message: "x", ...http, status: 500 }, 3],
    [{ _tag: "NetworkError", message: "x", cause: undefined }, 7],
    [{ _tag: "Timeout", message: "x", timeoutMs: 1 }, 7],
    [{ _tag: "Aborted", message: "x", cause: undefined }, 7],
    [{ _tag: "MalformedResponse", message: "x" }, 7],
  ];
  for (const [error, code] of cases) assertEquals(exitCodeFor(error), code, error._tag);
  assertEquals(new Set(Object.values(EXIT_CODES)).size, Object.keys(EXIT_CODES).length);
});

Deno.test("prettyPrintXml() indents element content and keeps text content on one line", () => {
  const input =
    '<?xml version="1.0" encoding="UTF-8"?>\n<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">' +
    '<!-- mine --><list name="friends"><entry uri="sip:bob@example.com"><display-name>Bob &amp; Co</display-name>' +
    '</entry><entry uri="sip:carol@example.com"/></list></resource-lists>';
  assertEquals(
    prettyPrintXml(input),
    [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">',
      "  <!-- mine -->",
      '  <list name="friends">',
      '    <entry uri="sip:bob@example.com">',
      "      <display-name>Bob &amp; Co</display-name>",
      "    </entry>",
      '    <entry uri="sip:carol@example.com"/>',
      "  </list>",
      "</resource-lists>",
      "",
    ].join("\n"),
  );
});

Deno.test("prettyPrintXml() re-indents an already indented document the same way", () => {
  const indented = '<a>\n      <b x="1">\n   <c>t</c>\n</b>\n\n<d/></a>';
  assertEquals(prettyPrintXml(indented), '<a>\n  <b x="1">\n    <c>t</c>\n  </b>\n  <d/>\n</a>\n');
  assertEquals(prettyPrintXml(prettyPrintXml(indented)), prettyPrintXml(indented));
});

Deno.test("prettyPrintXml() keeps mixed content, CDATA and attribute quotes exactly", () => {
  assertEquals(
    prettyPrintXml("<note>\n<p>Hello <b>you</b> there</p><q a='1' b=\"&quot;2\"/></note>"),
    "<note>\n  <p>Hello <b>you</b> there</p>\n  <q a='1' b=\"&quot;2\"/>\n</note>\n",
  );
  assertEquals(prettyPrintXml("<a><![CDATA[<x>]]></a>"), "<a><![CDATA[<x>]]></a>\n");
  assertEquals(prettyPrintXml('<a\n   x="1"\n   y = "2  \n 3"/>'), '<a x="1" y="2  \n 3"/>\n');
});

Deno.test("prettyPrintXml() leaves what it cannot reformat safely unchanged", () => {
  assertEquals(prettyPrintXml("sip:bob@example.com"), "sip:bob@example.com\n");
  assertEquals(prettyPrintXml("<a><b></a>"), "<a><b></a>\n");
  assertEquals(prettyPrintXml("<a>"), "<a>\n");
  assertEquals(prettyPrintXml("text <a/>"), "text <a/>\n");
  assertEquals(prettyPrintXml('<a x="1>'), '<a x="1>\n');
  assertEquals(prettyPrintXml("done\n"), "done\n");
});

Deno.test("prettyPrintXml() colours names, attributes and values only when asked", () => {
  const coloured = prettyPrintXml('<entry uri="sip:b@x"><!-- c --></entry>', { color: true });
  assertMatch(coloured, ANSI);
  assertStringIncludes(coloured, "\x1b[33muri\x1b[0m");
  assertStringIncludes(coloured, '\x1b[32m"sip:b@x"\x1b[0m');
  assertEquals(
    coloured.replace(/\x1b\[[0-9;]*m/g, ""),
    '<entry uri="sip:b@x"><!-- c --></entry>\n',
  );
  assertNotMatch(prettyPrintXml('<entry uri="sip:b@x"/>'), ANSI);
});

Deno.test("shouldColor() colours a terminal unless NO_COLOR is set or TERM is dumb", () => {
  assertEquals(shouldColor(undefined, { isTerminal: true, env: {} }), true);
  assertEquals(shouldColor("auto", { isTerminal: true, env: { NO_COLOR: "" } }), true);
  assertEquals(shouldColor("auto", { isTerminal: true, env: { NO_COLOR: "0" } }), false);
  assertEquals(shouldColor("auto", { isTerminal: true, env: { TERM: "dumb" } }), false);
  assertEquals(shouldColor("auto", { isTerminal: false, env: {} }), false);
  assertEquals(shouldColor("always", { isTerminal: false, env: { NO_COLOR: "1" } }), true);
  assertEquals(shouldColor("never", { isTerminal: true, env: {} }), false);
});

Deno.test("formatSuccess() writes status, etag, content type and the saved file", () => {
  assertEquals(statusText(201), "201 Created");
  assertEquals(statusText(299), "299");
  assertEquals(
    formatSuccess({ status: 201, etag: '"e2"', saved: { path: "out.xml", bytes: 12 } }),
    '201 Created\netag: "e2"\n12 bytes saved to out.xml\n',
  );
  assertMatch(formatSuccess({ status: 200 }, { color: true }), ANSI);
});

Deno.test("formatFailure() adds the xcap-error condition, the current ETag and a hint", () => {
  const conflict: XcapError = {
    _tag: "Conflict",
    message: "HTTP 409 Conflict from http://h/x: the document would break a uniqueness constraint",
    status: 409,
    body: "",
    headers: new Headers(),
    condition: { tag: "uniqueness-failure", exists: [{ field: "list/@name", altValues: ["f2"] }] },
  };
  assertEquals(
    formatFailure(conflict),
    "xcap: HTTP 409 Conflict from http://h/x: the document would break a uniqueness constraint\n" +
      "condition: <uniqueness-failure>\n",
  );
  const bare: XcapError = {
    _tag: "Conflict",
    message: "HTTP 409 Conflict",
    status: 409,
    body: "Document already exists",
    headers: new Headers(),
  };
  assertStringIncludes(formatFailure(bare), "response body: Document already exists");
  const stale: XcapError = {
    _tag: "PreconditionFailed",
    message: "HTTP 412",
    status: 412,
    body: "",
    headers: new Headers(),
    etag: '"e9"',
  };
  assertEquals(
    formatFailure(stale, { hint: "Read it again." }),
    'xcap: HTTP 412\netag: "e9"\nRead it again.\n',
  );
  assertNotMatch(formatFailure(stale), ANSI);
  assertMatch(formatFailure(stale, { color: true }), ANSI);
});

Deno.test("failureToJson() carries tag, status, condition in words and body", () => {
  const json = failureToJson({
    _tag: "Conflict",
    message: "HTTP 409",
    status: 409,
    body: "<xcap-error/>",
    headers: new Headers(),
    condition: { tag: "not-xml-frag" },
  }, "put");
  assertEquals(json, {
    ok: false,
    action: "put",
    exitCode: 4,
    error: {
      tag: "Conflict",
      message: "HTTP 409",
      status: 409,
      condition: { tag: "not-xml-frag" },
      conditionText: "the request body is not a well-formed XML fragment",
      body: "<xcap-error/>",
    },
  });
  assertEquals(JSON.parse(JSON.stringify(json)), json);
  assertEquals(failureToJson({ _tag: "Timeout", message: "slow", timeoutMs: 5 }).exitCode, 7);
});

Deno.test("readCapabilities() lists auids, extensions and namespaces with any prefix", () => {
  const caps = readCapabilities(
    '<?xml version="1.0"?><xc:xcap-caps xmlns:xc="urn:ietf:params:xml:ns:xcap-caps">' +
      "<xc:auids><xc:auid>resource-lists</xc:auid><xc:auid> pres-rules </xc:auid></xc:auids>" +
      "<xc:extensions><xc:extension>ext</xc:extension></xc:extensions>" +
      "<xc:namespaces><xc:namespace>urn:a</xc:namespace></xc:namespaces></xc:xcap-caps>",
  );
  assertEquals(caps, {
    auids: ["resource-lists", "pres-rules"],
    extensions: ["ext"],
    namespaces: ["urn:a"],
  });
  assertEquals(readCapabilities("not xml"), { auids: [], extensions: [], namespaces: [] });
});

Deno.test("generalHelp() documents every option, action and exit code in 80 columns", () => {
  const help = generalHelp();
  for (const option of OPTIONS) assertStringIncludes(help, `--${option.name}`);
  for (const action of ACTIONS) assertStringIncludes(help, `  ${action} `);
  for (const code of Object.values(EXIT_CODES)) assertMatch(help, new RegExp(`\\n  ${code}  \\w`));
  for (const line of help.split("\n")) assert(line.length <= 80, `too long: ${line}`);
});

Deno.test("actionHelp() explains each action with examples and only its options", () => {
  for (const action of ACTIONS) {
    const help = actionHelp(action);
    assertStringIncludes(help, `xcap ${action} -- `);
    assertStringIncludes(help, "Examples:\n  xcap ");
    assertStringIncludes(help, "Exit status:");
    for (const line of help.split("\n")) assert(line.length <= 80, `${action}: too long: ${line}`);
  }
  assertStringIncludes(actionHelp("put"), "-i, --input FILE");
  assertEquals(actionHelp("get").includes("--input"), false);
  assertEquals(actionHelp("insert").includes("--if-none-match ETAG"), false);
  assertStringIncludes(actionHelp("get"), "--if-none-match ETAG");
  assertStringIncludes(actionHelp("replace"), "If-Match");
});

Deno.test("completionScript() offers actions, options and their values in every shell", () => {
  for (const shell of ["bash", "zsh", "fish"] as const) {
    const script = completionScript(shell);
    for (const action of ACTIONS) assertStringIncludes(script, action);
    for (const option of OPTIONS) assertStringIncludes(script, option.name);
    assertStringIncludes(script, "pres-rules");
    assertStringIncludes(script, "/resource-lists");
  }
  assertStringIncludes(
    completionScript("bash", { program: "xc" }),
    "complete -F _xc_completions xc",
  );
  assertStringIncludes(completionScript("fish"), "complete -c xcap -s i -l input -r -F");
});

Deno.test("completionScript('bash') is valid bash and completes as expected", async () => {
  const script = completionScript("bash");
  const run = async (line: string[], cword: number) => {
    const words = line.map((w) => `'${w.replace(/'/g, "'\\''")}'`).join(" ");
    const output = await new Deno.Command("bash", {
      args: [
        "-c",
        `${script}\nCOMP_WORDS=(${words}); COMP_CWORD=${cword}; _xcap_completions; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(new TextDecoder().decode(output.stderr), "");
    return new TextDecoder().decode(output.stdout).trim().split("\n").sort();
  };
  assertEquals(await run(["xcap", "ins"], 1), ["insert"]);
  assertEquals(await run(["xcap", "get", "--x"], 2), ["--xcap-root", "--xmlns", "--xui"]);
  assertEquals(await run(["xcap", "--app", "pres"], 2), ["pres-rules"]);
  assertEquals(await run(["xcap", "-c", ""], 2), ["global", "users"]);
  assertEquals(await run(["xcap", "completions", "f"], 2), ["fish"]);
  assertEquals(await run(["xcap", "get", "/rul"], 2), ["/ruleset"]);
});

Deno.test("applySecretInput() edits, finishes and cancels like a terminal line", () => {
  let state = applySecretInput(EMPTY_SECRET_INPUT, "ab");
  assertEquals(state, { text: "ab", done: false, cancelled: false });
  state = applySecretInput(state, "c\x7f\bd");
  assertEquals(state.text, "ad");
  state = applySecretInput(state, "\x1b[D\x1bOx");
  assertEquals(state.text, "ad");
  state = applySecretInput(state, "\x15pässwörd\u{1F511}\x7f\n");
  assertEquals(state, { text: "pässwörd", done: true, cancelled: false });
  assertEquals(applySecretInput(state, "more"), state);
  assertEquals(applySecretInput(EMPTY_SECRET_INPUT, "x\x03"), {
    text: "",
    done: false,
    cancelled: true,
  });
  assertEquals(applySecretInput(EMPTY_SECRET_INPUT, "\x04").cancelled, true);
  assertEquals(applySecretInput(EMPTY_SECRET_INPUT, "pw\x04"), {
    text: "pw",
    done: true,
    cancelled: false,
  });
});

Deno.test("challengeRealm() reads a quoted or token realm from WWW-Authenticate", () => {
  assertEquals(challengeRealm('Digest nonce="n", realm="x\\"y", qop="auth"'), 'x"y');
  assertEquals(challengeRealm("Basic realm=xcap"), "xcap");
  assertEquals(challengeRealm('Digest nonce="n"'), undefined);
});
