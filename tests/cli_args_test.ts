/**
 * Unit tests of the pure parts of `xcap` that read input: argument parsing, account files and
 * settings, application guessing.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { parseCliArgs } from "../src/cli/args.ts";
import {
  accountSection,
  normalizeSipAddress,
  parseIni,
  readAccount,
  resolveConnection,
} from "../src/cli/config.ts";
import { guessApplication, rootElementName, selectorRootName } from "../src/cli/guess.ts";

function usageMessage(argv: string[]): string {
  const parsed = parseCliArgs(argv);
  assert(parsed.isErr(), `expected a usage error for ${JSON.stringify(argv)}`);
  assertEquals(parsed.error._tag, "Usage");
  return parsed.error.message;
}

Deno.test("parseCliArgs() reads python xcapclient's options before and after the action", () => {
  const parsed = parseCliArgs([
    "--xcap-root",
    "http://127.0.0.1:5080/xcap-root",
    "--sip-address=alice@example.com",
    "-p",
    "pw",
    "put",
    '/resource-lists/list[@name="friends"]',
    "-i",
    "list.xml",
    "-o",
    "out.xml",
    "--app",
    "resource-lists",
    "--filename",
    "buddies",
    "-c",
    "users",
    "--etag",
    '"e1"',
  ]);
  assertEquals(parsed._unsafeUnwrap(), {
    command: "run",
    action: "put",
    selector: '/resource-lists/list[@name="friends"]',
    options: {
      xcapRoot: "http://127.0.0.1:5080/xcap-root",
      sipAddress: "alice@example.com",
      password: "pw",
      input: "list.xml",
      output: "out.xml",
      app: "resource-lists",
      filename: "buddies",
      global: false,
      etag: '"e1"',
    },
  });
});

Deno.test("parseCliArgs() accepts -iFILE, grouped flags, repeatable options and --", () => {
  const parsed = parseCliArgs([
    "-qv",
    "-ibody.xml",
    "-H",
    "X-Trace: 1",
    "--header=X-Other:  two ",
    "--ns",
    "rl=urn:ietf:params:xml:ns:resource-lists",
    "--xmlns",
    "cp=urn:ietf:params:xml:ns:common-policy",
    "--timeout",
    "2.5",
    "PUT",
    "--",
    "/rl:resource-lists",
  ])._unsafeUnwrap();
  assert(parsed.command === "run");
  assertEquals(parsed.action, "put");
  assertEquals(parsed.selector, "/rl:resource-lists");
  assertEquals(parsed.options.quiet, true);
  assertEquals(parsed.options.verbose, true);
  assertEquals(parsed.options.input, "body.xml");
  assertEquals(parsed.options.headers, [["X-Trace", "1"], ["X-Other", "two"]]);
  assertEquals(parsed.options.namespaces, {
    rl: "urn:ietf:params:xml:ns:resource-lists",
    cp: "urn:ietf:params:xml:ns:common-policy",
  });
  assertEquals(parsed.options.timeoutMs, 2500);
});

Deno.test("parseCliArgs() recognises help, version and completions in every spelling", () => {
  assertEquals(parseCliArgs([])._unsafeUnwrapErr().message.startsWith("No action given"), true);
  assertEquals(parseCliArgs(["--help"])._unsafeUnwrap().command, "help");
  assertEquals(parseCliArgs(["-h"])._unsafeUnwrap().command, "help");
  assertEquals(parseCliArgs(["help"])._unsafeUnwrap(), { command: "help", options: {} });
  assertEquals(parseCliArgs(["help", "insert"])._unsafeUnwrap(), {
    command: "help",
    action: "insert",
    options: {},
  });
  assertEquals(parseCliArgs(["get", "--help"])._unsafeUnwrap(), {
    command: "help",
    action: "get",
    options: {},
  });
  assertEquals(parseCliArgs(["--version"])._unsafeUnwrap().command, "version");
  assertEquals(parseCliArgs(["completions", "fish"])._unsafeUnwrap(), {
    command: "completions",
    shell: "fish",
    options: {},
  });
});

Deno.test("parseCliArgs() suggests the action or option meant by a typo", () => {
  assertEquals(usageMessage(["gte"]), 'Unknown action "gte": did you mean get?');
  assertEquals(
    usageMessage(["get", "--tiemout", "3"]),
    "Unknown option --tiemout: did you mean --timeout?",
  );
  assertEquals(usageMessage(["frobnicate"]).includes("expected one of get, put"), true);
  assertEquals(usageMessage(["get", "-z"]), "Unknown option -z");
});

Deno.test("parseCliArgs() rejects values that cannot work, saying why", () => {
  assertStringIncludes(usageMessage(["get", "--timeout", "0"]), "positive number of seconds");
  assertStringIncludes(usageMessage(["get", "--timeout", "soon"]), "positive number of seconds");
  assertStringIncludes(usageMessage(["get", "--ns", "rl"]), "PREFIX=URI");
  assertStringIncludes(usageMessage(["get", "-H", "no colon"]), "'NAME: VALUE'");
  assertStringIncludes(usageMessage(["get", "-H", "Bad Name: x"]), "'NAME: VALUE'");
  assertStringIncludes(usageMessage(["get", "-c", "everyone"]), '"users" or "global"');
  assertStringIncludes(usageMessage(["get", "--global", "-c", "users"]), "contradicts");
  assertStringIncludes(usageMessage(["get", "--color", "sometimes"]), "auto, always or never");
  assertStringIncludes(usageMessage(["get", "--app"]), "--app needs a value (AUID)");
  assertStringIncludes(usageMessage(["get", "--json=yes"]), "--json takes no value");
  assertStringIncludes(usageMessage(["completions", "tcsh"]), "bash, zsh, fish");
});

Deno.test("parseCliArgs() checks the node selector and the option combinations", () => {
  assertEquals(
    usageMessage(["get", "resource-lists/list"]),
    'A node selector starts at the document element with "/": try "/resource-lists/list"',
  );
  assertStringIncludes(usageMessage(["get", "/a", "/b"]), "Too many arguments after get");
  assertStringIncludes(usageMessage(["get", "-i", "x.xml"]), "get sends none");
  assertStringIncludes(usageMessage(["delete", "--content-type", "text/xml"]), "delete sends none");
  assertStringIncludes(usageMessage(["insert", "--if-none-match", "*"]), "insert sets its own");
  assertStringIncludes(usageMessage(["replace", "--if-none-match", "x"]), "replace sets its own");
  assertStringIncludes(usageMessage(["insert", "--etag", "x"]), "cannot also require an ETag");
  assertStringIncludes(usageMessage(["put", "-i", "a.xml", "-o", "a.xml"]), "same file");
  assert(parseCliArgs(["put", "-i", "-", "-o", "-"]).isOk());
  // An insert of a node may pin a version: the node must be absent in that version.
  assert(parseCliArgs(["insert", "/resource-lists/list", "--etag", "x"]).isOk());
});

Deno.test("parseIni() reads configparser's syntax: comments, colons, continuations, DEFAULT", () => {
  const ini = parseIni(
    "\uFEFF# python-xcaplib account file\n" +
      "[DEFAULT]\nxcap_root = http://default.example.com/xcap-root\n\n" +
      "[Account]\n; a comment\nSIP_Address: alice@example.com\npassword = a;b #c\n" +
      "note = first\n  second\n\n" +
      "[Account_work]\nsip_address=bob@work.example.com\nxcap_root = https://xcap.work.example.com\n",
  )._unsafeUnwrap();
  const account = ini.get("Account")!;
  assertEquals(account.get("sip_address"), "alice@example.com");
  assertEquals(account.get("password"), "a;b #c");
  assertEquals(account.get("note"), "first\nsecond");
  assertEquals(account.get("xcap_root"), "http://default.example.com/xcap-root");
  assertEquals(ini.get("Account_work")!.get("xcap_root"), "https://xcap.work.example.com");
  assertEquals(ini.has("DEFAULT"), false);
});

Deno.test("parseIni() names the file and line that is not INI", () => {
  assertEquals(
    parseIni("sip_address = a@b\n", { path: "/home/a/.xcapclient.ini" })._unsafeUnwrapErr().message,
    'Cannot read /home/a/.xcapclient.ini line 1: expected a [section] header before "sip_address = a@b"',
  );
  assertStringIncludes(parseIni("[Account]\njust words\n")._unsafeUnwrapErr().message, "line 2");
});

Deno.test("readAccount() reads [Account] and [Account_NAME], and the old username/domain layout", () => {
  const ini = parseIni(
    "[Account]\nxcap_root = https://xcap.example.com/xcap-root\nusername = alice\n" +
      "password = 123\ndomain = example.com\n\n[Account_x]\nsip_address =\nauth = None\n",
  )._unsafeUnwrap();
  assertEquals(readAccount(ini, undefined), {
    section: "Account",
    sipAddress: "alice@example.com",
    password: "123",
    xcapRoot: "https://xcap.example.com/xcap-root",
  });
  assertEquals(readAccount(ini, "x"), { section: "Account_x", auth: "none" });
  assertEquals(readAccount(ini, "missing"), undefined);
  assertEquals(accountSection("missing"), "Account_missing");
});

Deno.test("normalizeSipAddress() adds sip: only when the user part has no scheme", () => {
  assertEquals(normalizeSipAddress(" alice@example.com "), "sip:alice@example.com");
  assertEquals(normalizeSipAddress("sip:alice@example.com"), "sip:alice@example.com");
  assertEquals(normalizeSipAddress("tel:+15551234"), "tel:+15551234");
});

Deno.test("resolveConnection() ranks options, named account, environment, default account", () => {
  const ini = parseIni(
    "[Account]\nsip_address = default@example.com\npassword = default-pw\n" +
      "xcap_root = http://default.example.com/xcap-root\n\n" +
      "[Account_work]\nsip_address = work@example.com\npassword = work-pw\n",
  )._unsafeUnwrap();
  const env = {
    XCAP_ROOT: "http://env.example.com/xcap-root",
    XCAP_SIP_ADDRESS: "env@example.com",
    XCAP_PASSWORD: "env-pw",
  };
  // The environment beats the default account.
  assertEquals(resolveConnection({ options: {}, env, ini })._unsafeUnwrap(), {
    xcapRoot: "http://env.example.com/xcap-root",
    xui: "sip:env@example.com",
    password: "env-pw",
    passwordSource: "environment",
  });
  // A named account beats the environment, and falls back to it for what it lacks.
  assertEquals(resolveConnection({ options: { account: "work" }, env, ini })._unsafeUnwrap(), {
    xcapRoot: "http://env.example.com/xcap-root",
    xui: "sip:work@example.com",
    password: "work-pw",
    passwordSource: "account file",
  });
  // Options beat everything.
  assertEquals(
    resolveConnection({
      options: { xcapRoot: "https://opt.example.com/r", sipAddress: "sip:o@x", password: "o" },
      env,
      ini,
    })._unsafeUnwrap(),
    {
      xcapRoot: "https://opt.example.com/r",
      xui: "sip:o@x",
      password: "o",
      passwordSource: "option",
    },
  );
  // Nothing but the default account.
  assertEquals(
    resolveConnection({ options: {}, env: {}, ini })._unsafeUnwrap().password,
    "default-pw",
  );
});

Deno.test("resolveConnection() says what is missing and where to set it", () => {
  const noRoot = resolveConnection({ options: {}, env: {} })._unsafeUnwrapErr().message;
  assertEquals(
    noRoot,
    "No XCAP root: give --xcap-root URL, set XCAP_ROOT, or put xcap_root in [Account] of ~/.xcapclient.ini",
  );
  const noXui = resolveConnection({ options: { xcapRoot: "http://127.0.0.1/x" }, env: {} });
  assertStringIncludes(noXui._unsafeUnwrapErr().message, "No SIP address");
  assert(
    resolveConnection({ options: { xcapRoot: "http://127.0.0.1/x" }, env: {} }, {
      requireXui: false,
    })
      .isOk(),
  );
  assertStringIncludes(
    resolveConnection({ options: { xcapRoot: "ftp://x/y" }, env: {} })._unsafeUnwrapErr().message,
    'XCAP root "ftp://x/y" (from the command line) is not an http: or https: URL',
  );
  assertEquals(
    resolveConnection({ options: { account: "nope" }, env: {}, iniPath: "acc.ini" })
      ._unsafeUnwrapErr()
      .message,
    'Account "nope" not found: acc.ini has no section [Account_nope]',
  );
});

Deno.test("resolveConnection() never authenticates for auth = none unless a password is given", () => {
  const ini = parseIni(
    "[Account]\nxcap_root = http://127.0.0.1/x\nsip_address = a@b\npassword = p\nauth = none\n",
  )
    ._unsafeUnwrap();
  const settings = resolveConnection({ options: {}, env: { XCAP_PASSWORD: "e" }, ini })
    ._unsafeUnwrap();
  assertEquals(settings.password, undefined);
  assertEquals(settings.noAuth, true);
  const forced = resolveConnection({ options: { password: "x" }, env: {}, ini })._unsafeUnwrap();
  assertEquals(forced.password, "x");
});

Deno.test("rootElementName() skips the prolog and drops the prefix", () => {
  assertEquals(
    rootElementName(
      '\uFEFF<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "b">]>\n<!-- c -->\n<?pi x?>\n<cp:ruleset xmlns:cp="y">',
    ),
    "ruleset",
  );
  assertEquals(rootElementName("<presence/>"), "presence");
  assertEquals(rootElementName("  text <a/>"), undefined);
  assertEquals(rootElementName("<!-- unterminated"), undefined);
  assertEquals(rootElementName(""), undefined);
});

Deno.test("selectorRootName() reads the first step's local name", () => {
  assertEquals(selectorRootName("/resource-lists/list"), "resource-lists");
  assertEquals(selectorRootName('/cp:ruleset[@id="x"]'), "ruleset");
  assertEquals(selectorRootName("/presence/@entity"), "presence");
  assertEquals(selectorRootName("/*/list"), undefined);
  assertEquals(selectorRootName("no-slash"), undefined);
});

Deno.test("guessApplication() maps root elements like python xcapclient, selector first", () => {
  assertEquals(guessApplication({ selector: "/rls-services/service" }), {
    auid: "rls-services",
    source: "selector",
    rootElement: "rls-services",
  });
  // A PUT of an element: the body's root is the element, the selector names the document.
  assertEquals(
    guessApplication({ selector: "/resource-lists/list", body: "<list/>" }),
    { auid: "resource-lists", source: "selector", rootElement: "resource-lists" },
  );
  for (
    const [root, auid] of [
      ["resource-lists", "resource-lists"],
      ["ruleset", "pres-rules"],
      ["presence", "pidf-manipulation"],
      ["watchers", "org.openxcap.watchers"],
      ["dialog-rules", "org.openxcap.dialog-rules"],
      ["xcap-caps", "xcap-caps"],
    ]
  ) {
    const guess = guessApplication({ body: `<?xml version="1.0"?><${root} xmlns="x"/>` });
    assert(typeof guess !== "string");
    assertEquals(guess.auid, auid);
  }
  assertStringIncludes(guessApplication({ selector: "/unknown/x" }) as string, "<unknown>");
  assertStringIncludes(guessApplication({ body: "plain text" }) as string, "no root element");
  assertStringIncludes(guessApplication({}) as string, "--app");
});
