/**
 * The `xcap` command as a subprocess against a real Kamailio `xcap_server` (through
 * `tests/_kamailio.ts`). Kamailio deviates from RFC 4825 in ways the tool must live with (see
 * tests/kamailio/README.md; each quirk met is named): above all, it only understands quoted
 * entity-tags in preconditions, which is why `insert` and `replace` read an ETag first instead of
 * sending `If-None-Match: *` / `If-Match: *` alone.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { kamailioTest } from "./_kamailio.ts";
import { cliEnv, type CliRun, runXcap, withTempDir } from "./_cli.ts";

const LISTS = `<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">
  <list name="friends">
    <entry uri="sip:bob@example.com">
      <display-name>Bob</display-name>
    </entry>
  </list>
</resource-lists>
`;
const decoder = new TextDecoder();
const text = (run: CliRun) => decoder.decode(run.stdout);

kamailioTest(
  "xcap put, get, get --json and delete of a document on Kamailio",
  {},
  async (server) => {
    await withTempDir(async (dir) => {
      const env = cliEnv(dir, { XCAP_ROOT: server.xcapRoot, XCAP_SIP_ADDRESS: "doc@127.0.0.1" });
      await Deno.writeTextFile(`${dir}/lists.xml`, LISTS);
      const put = await runXcap(["put", "-i", `${dir}/lists.xml`], { env, dir });
      assertEquals(put.code, 0, put.stderr);
      // Kamailio quirk 1: a created document answers 200, not 201.
      assertMatch(put.stderr, /^200 OK\netag: "sr-[^"]+"\n$/);

      const get = await runXcap(["get", "--app", "resource-lists", "-o", `${dir}/out.xml`], {
        env,
        dir,
      });
      assertEquals(get.code, 0, get.stderr);
      assertEquals((await Deno.readTextFile(`${dir}/out.xml`)).trim(), LISTS.trim());
      assertStringIncludes(get.stderr, "content-type: application/resource-lists+xml");

      const json = JSON.parse(
        text(await runXcap(["get", "--app", "resource-lists", "--json"], { env, dir })),
      );
      assertEquals(json.status, 200);
      assertEquals(json.body.trim(), LISTS.trim());

      // Kamailio quirk 12: the OMA xcap-directory lists the documents; its document name is
      // directory.xml, which xcap takes from the application usage when --filename is absent.
      const directory = await runXcap(["get", "--app", "org.openmobilealliance.xcap-directory"], {
        env,
        dir,
      });
      assertEquals(directory.code, 0, directory.stderr);
      assertStringIncludes(text(directory), '<folder auid="resource-lists">');

      const deleted = await runXcap(["delete", "--app", "resource-lists", "--etag", json.etag], {
        env,
        dir,
      });
      assertEquals(deleted.code, 0, deleted.stderr);
      const gone = await runXcap(["get", "--app", "resource-lists"], { env, dir });
      assertEquals(gone.code, 3);
      assertStringIncludes(gone.stderr, "HTTP 404 Not Found");
    });
  },
);

kamailioTest(
  "xcap insert never overwrites on Kamailio, which ignores If-None-Match: *",
  {},
  async (server) => {
    await withTempDir(async (dir) => {
      const env = cliEnv(dir, { XCAP_ROOT: server.xcapRoot, XCAP_SIP_ADDRESS: "insert@127.0.0.1" });
      const first = await runXcap(["insert"], { env, dir, stdin: LISTS });
      assertEquals(first.code, 0, first.stderr);
      // Kamailio quirk 7: a PUT with If-None-Match: * alone would overwrite the existing
      // document, so the client's create-only PUT checks with a GET first, under put too...
      const star = await runXcap(["put", "--if-none-match", "*"], { env, dir, stdin: LISTS });
      assertEquals(star.code, 5, star.stderr);
      assertStringIncludes(star.stderr, "exists already");
      // ...and under insert.
      const again = await runXcap(["insert"], { env, dir, stdin: LISTS.replace("Bob", "Mallory") });
      assertEquals(again.code, 5);
      assertStringIncludes(again.stderr, "exists already");
      assertEquals(
        text(await runXcap(["get", "/resource-lists/list/entry/display-name"], { env, dir }))
          .trim(),
        "<display-name>Bob</display-name>",
      );

      const carol = '/resource-lists/list/entry[@uri="sip:carol@example.com"]';
      const entry = '<entry uri="sip:carol@example.com"><display-name>Carol</display-name></entry>';
      const inserted = await runXcap(["insert", carol, "-v"], { env, dir, stdin: entry });
      assertEquals(inserted.code, 0, inserted.stderr);
      // The PUT is pinned to the version in which the entry was found absent.
      assertMatch(inserted.stderr, /> PUT [^\n]+\n> {3}if-match: "sr-[^"]+"\n/);
      const twice = await runXcap(["insert", carol], { env, dir, stdin: entry });
      assertEquals(twice.code, 5);
      assertEquals(
        text(await runXcap(["get", `${carol}/display-name`], { env, dir })).trim(),
        "<display-name>Carol</display-name>",
      );
    });
  },
);

kamailioTest(
  "xcap replace works on Kamailio, which refuses an unquoted If-Match: *",
  {},
  async (server) => {
    await withTempDir(async (dir) => {
      const env = cliEnv(dir, {
        XCAP_ROOT: server.xcapRoot,
        XCAP_SIP_ADDRESS: "replace@127.0.0.1",
      });
      const absent = await runXcap(["replace"], { env, dir, stdin: LISTS });
      assertEquals(absent.code, 5);
      assertStringIncludes(absent.stderr, "Nothing to replace");
      assertEquals((await runXcap(["put"], { env, dir, stdin: LISTS })).code, 0);

      // Kamailio quirk 7: RFC 7232's "If-Match: *" gets 412 although the document exists...
      const star = await runXcap(["put", "-H", "If-Match: *"], { env, dir, stdin: LISTS });
      assertEquals(star.code, 5);
      assertStringIncludes(star.stderr, "412 Precondition Failed");
      // ...while replace, with the ETag it read first, works.
      const replaced = await runXcap(["replace", "-v"], {
        env,
        dir,
        stdin: LISTS.replace(">Bob<", ">Robert<"),
      });
      assertEquals(replaced.code, 0, replaced.stderr);
      assertMatch(replaced.stderr, /> PUT [^\n]+\n> {3}if-match: "sr-[^"]+"\n/);
      assertStringIncludes(
        text(await runXcap(["get", "/resource-lists/list/entry/display-name"], { env, dir })),
        "<display-name>Robert</display-name>",
      );

      const name = '/resource-lists/list/entry[@uri="sip:bob@example.com"]/display-name';
      const element = await runXcap(["replace", name], {
        env,
        dir,
        stdin: "<display-name>Bobby</display-name>",
      });
      assertEquals(element.code, 0, element.stderr);
      assertEquals(
        text(await runXcap(["get", name], { env, dir })).trim(),
        "<display-name>Bobby</display-name>",
      );

      const missing = await runXcap(["replace", "/resource-lists/list/entry[7]"], {
        env,
        dir,
        stdin: '<entry uri="sip:x@example.com"/>',
      });
      assertEquals(missing.code, 5);
    });
  },
);

kamailioTest(
  "xcap conditional requests on Kamailio: 412 exits 5, 304 exits 6",
  {},
  async (server) => {
    await withTempDir(async (dir) => {
      const env = cliEnv(dir, { XCAP_ROOT: server.xcapRoot, XCAP_SIP_ADDRESS: "cond@127.0.0.1" });
      const first = JSON.parse(text(await runXcap(["put", "--json"], { env, dir, stdin: LISTS })));
      // Kamailio quirk 9: the ETag changes on every write, even with the same content.
      const second = JSON.parse(text(await runXcap(["put", "--json"], { env, dir, stdin: LISTS })));
      assert(first.etag !== second.etag);
      const stale = await runXcap(["put", "--etag", first.etag], { env, dir, stdin: LISTS });
      assertEquals(stale.code, 5);
      assertStringIncludes(stale.stderr, "412 Precondition Failed");
      const unchanged = await runXcap([
        "get",
        "--app",
        "resource-lists",
        "--if-none-match",
        second.etag,
      ], {
        env,
        dir,
      });
      assertEquals(unchanged.code, 6);
      assertEquals(unchanged.stdout.byteLength, 0);
    });
  },
);

kamailioTest(
  "xcap reports Kamailio's bare 500s as HTTP errors with exit code 3",
  {},
  async (server) => {
    await withTempDir(async (dir) => {
      const env = cliEnv(dir, { XCAP_ROOT: server.xcapRoot, XCAP_SIP_ADDRESS: "broken@127.0.0.1" });
      // Kamailio quirk 2: malformed XML gives 500, not 409 not-well-formed.
      const broken = await runXcap(["put", "--app", "resource-lists"], {
        env,
        dir,
        stdin: "<resource-lists",
      });
      assertEquals(broken.code, 3);
      assertStringIncludes(broken.stderr, "HTTP 500 Internal Server Error");
      assertStringIncludes(broken.stderr, "the server failed to handle the request");
    });
  },
);

kamailioTest(
  "xcap caps reads the xcap-caps document Kamailio's config serves",
  {},
  async (server) => {
    await withTempDir(async (dir) => {
      // No SIP address needed for the global tree.
      const caps = await runXcap(["caps", "--json"], {
        env: cliEnv(dir, { XCAP_ROOT: server.xcapRoot }),
        dir,
      });
      assertEquals(caps.code, 0, text(caps));
      const json = JSON.parse(text(caps));
      assert(json.capabilities.auids.includes("resource-lists"), text(caps));
    });
  },
);

kamailioTest(
  "xcap authenticates to Kamailio with Digest from XCAP_PASSWORD",
  { auth: true },
  async (server) => {
    await withTempDir(async (dir) => {
      const base = { XCAP_ROOT: server.xcapRoot, XCAP_SIP_ADDRESS: "alice@127.0.0.1" };
      const ok = await runXcap(["put"], {
        env: cliEnv(dir, { ...base, XCAP_PASSWORD: server.password }),
        dir,
        stdin: LISTS,
      });
      assertEquals(ok.code, 0, ok.stderr);
      const anonymous = await runXcap(["get", "--app", "resource-lists"], {
        env: cliEnv(dir, base),
        dir,
      });
      assertEquals(anonymous.code, 3);
      assertStringIncludes(anonymous.stderr, "HTTP 401 Unauthorized");
      assertStringIncludes(anonymous.stderr, "Give a password");
      const wrong = await runXcap(["get", "--app", "resource-lists", "-p", "not-the-password"], {
        env: cliEnv(dir, base),
        dir,
      });
      assertEquals(wrong.code, 3);
      assertStringIncludes(wrong.stderr, "The password (from --password) was refused.");
    });
  },
);
