/**
 * python-xcaplib (the XCAP client of python-sipsimple and Blink) as a real peer of the embedded
 * server (issue 11.1): its `XCAPClient` and its `xcapclient3` tool against `serve.ts` run as a
 * process, in memory and on Deno KV, without and with Digest (`--users-file`). See
 * `tests/_python_xcaplib.ts` for how python-xcaplib is found; without it these tests are ignored
 * with a note, except under `CI=true`.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { parseConflictReport } from "../src/client/conflict_report.ts";
import { type ServerProcess, spawnServer } from "./_server_process.ts";
import {
  pythonTest,
  runXcapclient,
  runXcaplib,
  type XcaplibOperation,
  type XcaplibResult,
} from "./_python_xcaplib.ts";

const ALICE = "sip:alice@example.com";
const PASSWORD = "wonder land";
const RL = "urn:ietf:params:xml:ns:resource-lists";
const CP = "urn:ietf:params:xml:ns:common-policy";

/** A valid document of every application usage the server offers. */
const DOCUMENTS: readonly { app: string; filename?: string; body: string; type: string }[] = [
  {
    app: "resource-lists",
    type: "application/resource-lists+xml",
    body: `<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="${RL}">
  <list name="friends">
    <entry uri="sip:bob@example.com"><display-name>Bob</display-name></entry>
    <entry uri="sip:carol@example.com"/>
  </list>
</resource-lists>
`,
  },
  {
    app: "rls-services",
    type: "application/rls-services+xml",
    body: `<?xml version="1.0" encoding="UTF-8"?>
<rls-services xmlns="urn:ietf:params:xml:ns:rls-services" xmlns:rl="${RL}">
  <service uri="sip:alice-buddies@example.com">
    <list name="buddies"><rl:entry uri="sip:bob@example.com"/></list>
    <packages><package>presence</package></packages>
  </service>
</rls-services>
`,
  },
  {
    app: "pres-rules",
    type: "application/auth-policy+xml",
    body: `<?xml version="1.0" encoding="UTF-8"?>
<cr:ruleset xmlns:cr="${CP}" xmlns:pr="urn:ietf:params:xml:ns:pres-rules">
  <cr:rule id="allow-bob">
    <cr:conditions><cr:identity><cr:one id="sip:bob@example.com"/></cr:identity></cr:conditions>
    <cr:actions><pr:sub-handling>allow</pr:sub-handling></cr:actions>
  </cr:rule>
</cr:ruleset>
`,
  },
  {
    app: "org.openmobilealliance.pres-rules",
    filename: "pres-rules",
    type: "application/auth-policy+xml",
    body: `<?xml version="1.0" encoding="UTF-8"?>
<ruleset xmlns="${CP}">
  <rule id="wp_prs_allow_own"><conditions/><actions/></rule>
</ruleset>
`,
  },
  {
    app: "pidf-manipulation",
    type: "application/pidf+xml",
    body: `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="${ALICE}">
  <tuple id="t1"><status><basic>open</basic></status><note>At lunch</note></tuple>
</presence>
`,
  },
  {
    app: "org.openxcap.dialog-rules",
    type: "application/auth-policy+xml",
    body: `<?xml version="1.0" encoding="UTF-8"?>
<ruleset xmlns="${CP}">
  <rule id="all"><conditions/><actions/></rule>
</ruleset>
`,
  },
  {
    app: "org.openxcap.watchers",
    type: "application/xml",
    body: `<?xml version="1.0" encoding="UTF-8"?>
<watchers xmlns="http://openxcap.org/ns/watchers"/>
`,
  },
];

const FRIENDS = '/resource-lists/list[@name="friends"]';
const BOB = `${FRIENDS}/entry[@uri="sip:bob@example.com"]`;
const DAVE = `${FRIENDS}/entry[@uri="sip:dave@example.com"]`;

interface Mode {
  readonly label: string;
  readonly kv: boolean;
  readonly auth: boolean;
}

const MODES: readonly Mode[] = [
  { label: "memory", kv: false, auth: false },
  { label: "memory, Digest with --user", kv: false, auth: true },
  { label: "Deno KV", kv: true, auth: false },
  { label: "Deno KV, Digest with --users-file", kv: true, auth: true },
];

/**
 * Run `fn` against a fresh server process in `mode`; users come from `--user` in memory and from
 * a users file on KV.
 */
async function withServer(
  mode: Mode,
  fn: (server: ServerProcess, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "xcap-python-" });
  try {
    const args: string[] = [];
    if (mode.kv) args.push("--kv", `${dir}/xcap.sqlite`);
    if (mode.auth && !mode.kv) {
      args.push("--user", `${ALICE}:${PASSWORD}`, "--user", "sip:bob@example.com:bob-pw");
    } else if (mode.auth) {
      await Deno.writeTextFile(
        `${dir}/users`,
        `${ALICE} password ${PASSWORD}\nsip:bob@example.com password bob-pw\n`,
      );
      await Deno.chmod(`${dir}/users`, 0o600);
      args.push("--users-file", `${dir}/users`);
    }
    const server = await spawnServer({ args });
    try {
      await fn(server, dir);
      assert(server.alive(), "the server died");
    } finally {
      await server.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function okResult(result: XcaplibResult | undefined, what: string) {
  assert(result !== undefined, what);
  assert(result.ok, `${what}: ${JSON.stringify(result)}`);
  return result;
}

function httpError(result: XcaplibResult | undefined, status: number, what: string) {
  assert(result !== undefined && !result.ok, `${what}: expected HTTPError ${status}`);
  assertEquals(result.error, "HTTPError", `${what}: ${JSON.stringify(result)}`);
  assertEquals(result.status, status, `${what}: ${JSON.stringify(result)}`);
  return result;
}

/** The xcap-error condition python-xcaplib reports in an HTTPError 409. */
function conditionOf(result: XcaplibResult | undefined, what: string): string {
  const error = httpError(result, 409, what);
  assertEquals(error.content_type, "application/xcap-error+xml", what);
  return parseConflictReport(error.body ?? "")._unsafeUnwrap().tag;
}

for (const mode of MODES) {
  pythonTest(`python-xcaplib XCAPClient against the embedded server (${mode.label})`, async () => {
    await withServer(mode, async (server) => {
      const password = mode.auth ? PASSWORD : undefined;
      const run = (ops: XcaplibOperation[]) => runXcaplib(server.xcapRoot, ALICE, password, ops);

      // Whole documents of every usage: create, read back exactly, replace with If-Match.
      const docs = await run(DOCUMENTS.flatMap((d) => {
        const where = d.filename === undefined ? {} : { filename: d.filename };
        return [
          { op: "put", app: d.app, body: d.body, ...where },
          { op: "get", app: d.app, ...where },
        ] as XcaplibOperation[];
      }));
      DOCUMENTS.forEach((d, i) => {
        const put = okResult(docs[2 * i], `PUT ${d.app}`);
        assertEquals(put.status, 201, d.app);
        assertMatch(put.etag ?? "", /.+/);
        const got = okResult(docs[2 * i + 1], `GET ${d.app}`);
        assertEquals(got.body, d.body, d.app);
        assertEquals(got.content_type, d.type, d.app);
        assertEquals(got.etag, put.etag, d.app);
        assertEquals(got.kind, "Document");
      });

      const results = await run([
        /* 0 */ { op: "get", app: "resource-lists" },
        // Elements by position and by attribute predicate, attributes, namespace bindings.
        /* 1 */ { op: "get", app: "resource-lists", node: "/resource-lists/list[1]/entry[2]" },
        /* 2 */ { op: "get", app: "resource-lists", node: BOB },
        /* 3 */ { op: "get", app: "resource-lists", node: `${FRIENDS}/@name` },
        /* 4 */ { op: "get", app: "resource-lists", node: `${BOB}/display-name` },
        /* 5 */ { op: "get", app: "resource-lists", node: `${FRIENDS}/namespace::*` },
        // Create-only element PUT, then the same again (exists: 412), then a stale If-Match.
        /* 6 */ {
          op: "put",
          app: "resource-lists",
          node: DAVE,
          body: '<entry uri="sip:dave@example.com"/>',
          etagnot: "*",
        },
        /* 7 */ {
          op: "put",
          app: "resource-lists",
          node: DAVE,
          body: '<entry uri="sip:dave@example.com"/>',
          etagnot: "*",
        },
        /* 8 */ {
          op: "put",
          app: "resource-lists",
          node: BOB,
          body: '<entry uri="sip:bob@example.com"/>',
          etag: "stale-etag",
        },
        // An attribute PUT by position, and one that would no longer match its selector.
        /* 9 */ {
          op: "put",
          app: "resource-lists",
          node: "/resource-lists/list[1]/@name",
          body: "buddies",
        },
        /* 10 */ {
          op: "put",
          app: "resource-lists",
          node: '/resource-lists/list[@name="buddies"]/@name',
          body: "others",
        },
        // 409 conditions as python-xcaplib reports them.
        /* 11 */ {
          op: "put",
          app: "resource-lists",
          node: '/resource-lists/list[@name="buddies"]/entry[4]',
          body: '<entry uri="sip:bob@example.com"/>',
        },
        /* 12 */ {
          op: "put",
          app: "resource-lists",
          node: '/resource-lists/list[@name="buddies"]/entry[@uri="sip:erin@example.com"]',
          body: '<entry uri="sip:erin@example.com">',
        },
        /* 13 */ {
          op: "put",
          app: "resource-lists",
          node: '/resource-lists/list[@name="nobody"]/entry[@uri="sip:erin@example.com"]',
          body: '<entry uri="sip:erin@example.com"/>',
        },
        /* 14 */ { op: "put", app: "resource-lists", body: "<resource-lists" },
        // 404s.
        /* 15 */ { op: "get", app: "resource-lists", node: '/resource-lists/list[@name="x"]' },
        /* 16 */ { op: "get", app: "resource-lists", filename: "nothing" },
        // Delete an element, then read it: 404.
        /* 17 */ {
          op: "delete",
          app: "resource-lists",
          node: '/resource-lists/list[@name="buddies"]/entry[@uri="sip:dave@example.com"]',
        },
        /* 18 */ {
          op: "get",
          app: "resource-lists",
          node: '/resource-lists/list[@name="buddies"]/entry[@uri="sip:dave@example.com"]',
        },
        // python-xcaplib's own helpers: replace (GET then conditional PUT), insert.
        /* 19 */ {
          op: "replace",
          app: "resource-lists",
          node: '/resource-lists/list[@name="buddies"]/entry[@uri="sip:bob@example.com"]',
          body: '<entry uri="sip:bob@example.com"><display-name>Robert</display-name></entry>',
        },
        /* 20 */ {
          op: "insert",
          app: "resource-lists",
          node: '/resource-lists/list[@name="buddies"]/entry[@uri="sip:bob@example.com"]',
          body: '<entry uri="sip:bob@example.com"/>',
        },
        /* 21 */ {
          op: "insert",
          app: "resource-lists",
          node: '/resource-lists/list[@name="buddies"]/entry[@uri="sip:frank@example.com"]',
          body: '<entry uri="sip:frank@example.com"/>',
        },
        // Create-only document PUT: refused on an existing document, done on a new one.
        /* 22 */ {
          op: "put",
          app: "resource-lists",
          body: DOCUMENTS[0]!.body,
          etagnot: "*",
        },
        /* 23 */ {
          op: "put",
          app: "resource-lists",
          filename: "other",
          body: DOCUMENTS[0]!.body,
          etagnot: "*",
        },
        // The global tree and the capabilities.
        /* 24 */ { op: "get", app: "resource-lists", globaltree: true },
        /* 25 */ { op: "get", app: "xcap-caps", globaltree: true },
        // After all those refusals, plain requests still work (urllib's state is not poisoned).
        /* 26 */ { op: "get", app: "resource-lists" },
        /* 27 */ { op: "delete", app: "resource-lists", filename: "other" },
        /* 28 */ { op: "get", app: "resource-lists", filename: "other" },
        /* 29 */ { op: "get", app: "pres-rules", node: '/cr:ruleset/cr:rule[@id="allow-bob"]' },
      ]);
      const r = (i: number) => results[i];
      const base = okResult(r(0), "GET resource-lists");

      const byPosition = okResult(r(1), "GET entry[2]");
      assertEquals(byPosition.body, '<entry uri="sip:carol@example.com"/>');
      assertEquals(byPosition.kind, "Element");
      assertEquals(byPosition.content_type, "application/xcap-el+xml");
      assertEquals(byPosition.etag, base.etag);
      assertEquals(
        okResult(r(2), "GET Bob").body,
        '<entry uri="sip:bob@example.com"><display-name>Bob</display-name></entry>',
      );
      const attribute = okResult(r(3), "GET @name");
      assertEquals([attribute.body, attribute.kind], ["friends", "AttributeValue"]);
      assertEquals(attribute.content_type, "application/xcap-att+xml");
      assertEquals(okResult(r(4), "GET display-name").body, "<display-name>Bob</display-name>");
      const bindings = okResult(r(5), "GET namespace::*");
      assertEquals(bindings.kind, "NSBindings");
      assertStringIncludes(bindings.body ?? "", `xmlns="${RL}"`);

      const created = okResult(r(6), "create-only PUT");
      assertEquals(created.status, 201);
      assert(created.etag !== base.etag, "a new ETag after a change");
      assertEquals(httpError(r(7), 412, "create-only PUT of an existing element").status, 412);
      httpError(r(8), 412, "PUT with a stale etag");
      assertEquals(okResult(r(9), "attribute PUT").status, 200);
      assertEquals(conditionOf(r(10), "attribute PUT that leaves its selector"), "cannot-insert");
      assertEquals(conditionOf(r(11), "duplicate entry"), "uniqueness-failure");
      assertEquals(conditionOf(r(12), "broken element"), "not-xml-frag");
      assertEquals(conditionOf(r(13), "no parent"), "no-parent");
      assertEquals(conditionOf(r(14), "broken document"), "not-well-formed");
      httpError(r(15), 404, "missing element");
      httpError(r(16), 404, "missing document");
      assertEquals(okResult(r(17), "DELETE element").status, 200);
      httpError(r(18), 404, "deleted element");
      assertEquals(okResult(r(19), "replace()").status, 200);
      const exists = r(20)!;
      assert(!exists.ok && exists.error === "NodeAlreadyExists", JSON.stringify(exists));
      assertEquals(okResult(r(21), "insert()").status, 201);
      httpError(r(22), 412, "create-only document PUT of an existing document");
      assertEquals(okResult(r(23), "create-only document PUT").status, 201);
      httpError(r(24), 404, "global document");
      const caps = okResult(r(25), "xcap-caps");
      assertStringIncludes(caps.body ?? "", "<auid>org.openxcap.watchers</auid>");
      const final = okResult(r(26), "GET after the refusals");
      assertStringIncludes(final.body ?? "", '<list name="buddies">');
      assertStringIncludes(final.body ?? "", "<display-name>Robert</display-name>");
      assertStringIncludes(final.body ?? "", 'sip:frank@example.com"/>');
      assertEquals(okResult(r(27), "DELETE document").status, 200);
      httpError(r(28), 404, "deleted document");
      // Prefixed steps without an xmlns() query: python-xcaplib sends none; the usage's
      // default namespace does not cover "cr:", so the server says which prefix is unbound.
      httpError(r(29), 400, "unbound prefix");
    });
  });

  pythonTest(`python-xcaplib xcapclient3 against the embedded server (${mode.label})`, async () => {
    await withServer(mode, async (server, dir) => {
      const home = `${dir}/home`;
      await Deno.mkdir(home);
      // The account as xcapclient3 reads it (~/.xcapclient.ini), password included when needed.
      await Deno.writeTextFile(
        `${home}/.xcapclient.ini`,
        `[Account]\nsip_address = alice@example.com\nxcap_root = ${server.xcapRoot}\n` +
          (mode.auth ? `password = ${PASSWORD}\n` : ""),
      );
      const tool = (args: string[]) => runXcapclient(args, { home });
      const lists = `${dir}/lists.xml`;
      await Deno.writeTextFile(lists, DOCUMENTS[0]!.body);
      const entry = `${dir}/entry.xml`;
      await Deno.writeTextFile(entry, '<entry uri="sip:dave@example.com"/>');
      const broken = `${dir}/broken.xml`;
      await Deno.writeTextFile(broken, '<entry uri="sip:erin@example.com">');

      // The application usage is guessed from the document's root element.
      const put = await tool(["put", "-i", lists]);
      assertEquals(put.code, 0, put.stderr);
      assertStringIncludes(put.stderr, "201 Created");
      const etag = /etag: (\S+)/.exec(put.stderr)?.[1];
      assert(etag !== undefined, put.stderr);

      const get = await tool(["--app", "resource-lists", "get"]);
      assertEquals(get.code, 0, get.stderr);
      assertStringIncludes(get.stdout, '<entry uri="sip:carol@example.com"/>');
      assertStringIncludes(get.stderr, "content-type: application/resource-lists+xml");

      // Options on the command line win over the account file.
      const element = await tool([
        "--xcap-root",
        server.xcapRoot,
        "--sip-address",
        "alice@example.com",
        ...(mode.auth ? ["-p", PASSWORD] : []),
        "get",
        BOB,
      ]);
      assertEquals(element.code, 0, element.stderr);
      assertStringIncludes(element.stdout, "<display-name>Bob</display-name>");
      assertStringIncludes(element.stderr, "content-type: application/xcap-el+xml");

      const inserted = await tool(["put", "-i", entry, DAVE]);
      assertEquals(inserted.code, 0, inserted.stderr);
      assertStringIncludes(inserted.stderr, "201 Created");

      // --etag is If-Match: the ETag from before the insert is stale now. xcapclient3 prints the
      // status, then parses every response body as XML with lxml, so a plain-text error body (this
      // server's 412 and 404, OpenXCAP's 404) ends in a traceback and exit code 1; an
      // application/xcap-error+xml 409 is printed and exits 3.
      const stale = await tool(["--etag", etag.replace(/^"|"$/g, ""), "put", "-i", lists]);
      assertStringIncludes(stale.stderr, "412 Precondition Failed");
      assertEquals(stale.code, 1, stale.stderr);

      const conflict = await tool([
        "put",
        "-i",
        broken,
        `${FRIENDS}/entry[@uri="sip:erin@example.com"]`,
      ]);
      assertEquals(conflict.code, 3, conflict.stderr);
      assertStringIncludes(conflict.stderr, "409");
      assertStringIncludes(conflict.stderr, "content-type: application/xcap-error+xml");
      assertStringIncludes(conflict.stdout, "<not-xml-frag");

      const deleted = await tool(["delete", DAVE]);
      assertEquals(deleted.code, 0, deleted.stderr);
      assertStringIncludes(deleted.stderr, "200");
      const missing = await tool(["get", DAVE]);
      assertStringIncludes(missing.stderr, "404 Not Found");
      assertEquals(missing.code, 1, missing.stderr);

      const caps = await tool(["--app", "xcap-caps", "get"]);
      assertEquals(caps.code, 0, caps.stderr);
      assertStringIncludes(caps.stdout, "<auid>resource-lists</auid>");

      if (mode.auth) {
        const wrong = await tool([
          "--xcap-root",
          server.xcapRoot,
          "--sip-address",
          "alice@example.com",
          "-p",
          "wrong password",
          "--app",
          "resource-lists",
          "get",
        ]);
        // urllib gives up after its retries with an HTTPError that has no body: exit 3.
        assertStringIncludes(wrong.stderr, "401 digest auth failed");
        assertEquals(wrong.code, 3, wrong.stderr);
      }
    });
  });
}
