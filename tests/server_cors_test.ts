// The server's CORS option (createXcapHandler's `cors`, `deno task serve --cors`); the real
// browser test is tests/runtime_browser_test.ts.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { createXcapHandler, startXcapServer, usersAuthentication } from "../src/server/mod.ts";
import { checkCorsOptions } from "../src/server/cors.ts";
import { parseServeArgs } from "../src/server/serve.ts";
import { spawnServer } from "./_server_process.ts";

const PAGE = "https://sip.example.com";
const ROOT = "http://127.0.0.1/xcap-root";
const DOC_URL = `${ROOT}/resource-lists/users/sip:alice@example.com/index`;
const DOC = '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list name="f"/>' +
  "</resource-lists>";
const CORS_HEADERS = [
  "access-control-allow-origin",
  "access-control-allow-credentials",
  "access-control-allow-methods",
  "access-control-allow-headers",
  "access-control-max-age",
  "access-control-expose-headers",
];

function preflight(origin: string, method = "PUT", headers = "content-type, if-match"): Request {
  return new Request(DOC_URL, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": method,
      "access-control-request-headers": headers,
    },
  });
}

/** The CORS headers of a response, and its Vary. */
function corsOf(response: Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [...CORS_HEADERS, "vary"]) {
    const value = response.headers.get(name);
    if (value !== null) out[name] = value;
  }
  return out;
}

Deno.test("createXcapHandler() without cors answers OPTIONS 405 as before, with no CORS header", async () => {
  const handler = createXcapHandler();
  const response = await handler(preflight(PAGE));
  await response.body?.cancel();
  assertEquals(response.status, 405);
  assertEquals(response.headers.get("allow"), "GET, HEAD, PUT, DELETE");
  assertEquals(corsOf(response), {});
  const get = await handler(new Request(DOC_URL, { headers: { origin: PAGE } }));
  await get.body?.cancel();
  assertEquals(corsOf(get), {});
});

Deno.test("createXcapHandler() with cors answers a preflight of a listed origin 204", async () => {
  const handler = createXcapHandler({ cors: { origins: [PAGE, "http://127.0.0.1:8080"] } });
  const response = await handler(preflight(PAGE));
  assertEquals(response.status, 204);
  assertEquals(response.body, null);
  assertEquals(corsOf(response), {
    "access-control-allow-origin": PAGE,
    "access-control-allow-methods": "GET, HEAD, PUT, DELETE",
    "access-control-allow-headers": "Authorization, Content-Type, If-Match, If-None-Match",
    "access-control-max-age": "600",
    vary: "Origin",
  });
  // The other listed origin gets its own name back, never the first's.
  const other = await handler(preflight("http://127.0.0.1:8080", "DELETE", "if-match"));
  assertEquals(other.status, 204);
  assertEquals(other.headers.get("access-control-allow-origin"), "http://127.0.0.1:8080");
});

Deno.test("createXcapHandler() with cors shares every answer with a listed origin, 2xx or not", async () => {
  const handler = createXcapHandler({ cors: { origins: [PAGE] } });
  const expected = {
    "access-control-allow-origin": PAGE,
    "access-control-expose-headers": "ETag, WWW-Authenticate, Allow, Accept, Retry-After",
    vary: "Origin",
  };
  const missing = await handler(new Request(DOC_URL, { headers: { origin: PAGE } }));
  await missing.body?.cancel();
  assertEquals([missing.status, corsOf(missing)], [404, expected]);
  const created = await handler(
    new Request(DOC_URL, {
      method: "PUT",
      headers: { origin: PAGE, "content-type": "application/resource-lists+xml" },
      body: DOC,
    }),
  );
  assertEquals([created.status, corsOf(created)], [201, expected]);
  const etag = created.headers.get("etag");
  assert(etag !== null);
  const got = await handler(new Request(DOC_URL, { headers: { origin: PAGE } }));
  assertEquals([got.status, await got.text(), got.headers.get("etag")], [200, DOC, etag]);
  assertEquals(corsOf(got), expected);
  const stale = await handler(
    new Request(DOC_URL, {
      method: "DELETE",
      headers: { origin: PAGE, "if-match": '"stale"' },
    }),
  );
  await stale.body?.cancel();
  assertEquals([stale.status, corsOf(stale)], [412, expected]);
  const head = await handler(new Request(DOC_URL, { method: "HEAD", headers: { origin: PAGE } }));
  assertEquals([head.status, head.body, head.headers.get("etag")], [200, null, etag]);
  assertEquals(corsOf(head), expected);
  // An OPTIONS that is no preflight (no Access-Control-Request-Method) reaches the handler.
  const options = await handler(
    new Request(DOC_URL, { method: "OPTIONS", headers: { origin: PAGE } }),
  );
  await options.body?.cancel();
  assertEquals([options.status, corsOf(options)], [405, expected]);
});

Deno.test("createXcapHandler() with cors refuses a preflight of another origin and shares nothing with it", async () => {
  const handler = createXcapHandler({ cors: { origins: [PAGE] } });
  for (const origin of ["https://evil.example", "null", "https://sip.example.com:8443"]) {
    const response = await handler(preflight(origin));
    assertEquals(response.status, 403);
    assertStringIncludes(await response.text(), `origin ${origin} may not use this server`);
    assertEquals(corsOf(response), { vary: "Origin" });
    const get = await handler(new Request(DOC_URL, { headers: { origin } }));
    await get.body?.cancel();
    assertEquals([get.status, corsOf(get)], [404, { vary: "Origin" }]);
  }
  // Without Origin (not a CORS request) the answer still varies by Origin (RFC 9110 §12.5.5).
  const plain = await handler(new Request(DOC_URL));
  await plain.body?.cancel();
  assertEquals(corsOf(plain), { vary: "Origin" });
});

Deno.test("createXcapHandler() with cors * allows any origin, never with credentials", async () => {
  // A JavaScript caller can pass credentials with *; the handler still never sends them.
  const handler = createXcapHandler({ cors: { origins: "*", credentials: true } });
  const response = await handler(preflight("https://any.example"));
  assertEquals(response.status, 204);
  assertEquals(corsOf(response), {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, HEAD, PUT, DELETE",
    "access-control-allow-headers": "Authorization, Content-Type, If-Match, If-None-Match",
    "access-control-max-age": "600",
  });
  const get = await handler(new Request(DOC_URL, { headers: { origin: "null" } }));
  await get.body?.cancel();
  assertEquals(corsOf(get), {
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "ETag, WWW-Authenticate, Allow, Accept, Retry-After",
  });
  const plain = await handler(new Request(DOC_URL));
  await plain.body?.cancel();
  assertEquals(corsOf(plain), {});
});

Deno.test("createXcapHandler() with cors credentials and a max age says so to listed origins", async () => {
  const handler = createXcapHandler({
    cors: { origins: [PAGE], credentials: true, maxAgeSeconds: 7200 },
  });
  const response = await handler(preflight(PAGE));
  assertEquals(response.headers.get("access-control-allow-credentials"), "true");
  assertEquals(response.headers.get("access-control-max-age"), "7200");
  const get = await handler(new Request(DOC_URL, { headers: { origin: PAGE } }));
  await get.body?.cancel();
  assertEquals(get.headers.get("access-control-allow-credentials"), "true");
  assertEquals(get.headers.get("access-control-allow-origin"), PAGE);
});

Deno.test("createXcapHandler() with cors and users answers preflights unauthenticated, nothing else", async () => {
  const handler = createXcapHandler({
    cors: { origins: [PAGE] },
    authentication: usersAuthentication([{ address: "sip:alice@example.com", password: "pw" }]),
  });
  // Browsers never send credentials on a preflight, and it needs an ok status.
  const response = await handler(preflight(PAGE, "PUT", "authorization, content-type"));
  assertEquals(response.status, 204);
  assertEquals(response.headers.get("www-authenticate"), null);
  // The request itself is challenged, and the page may read the challenge.
  const put = await handler(
    new Request(DOC_URL, {
      method: "PUT",
      headers: { origin: PAGE, "content-type": "application/resource-lists+xml" },
      body: DOC,
    }),
  );
  await put.body?.cancel();
  assertEquals(put.status, 401);
  assertStringIncludes(put.headers.get("www-authenticate") ?? "", "Digest ");
  assertStringIncludes(put.headers.get("access-control-expose-headers") ?? "", "WWW-Authenticate");
  assertEquals(put.headers.get("access-control-allow-origin"), PAGE);
  // An OPTIONS that is no preflight is challenged, as before.
  const options = await handler(
    new Request(DOC_URL, { method: "OPTIONS", headers: { origin: PAGE } }),
  );
  await options.body?.cancel();
  assertEquals(options.status, 401);
  // A preflight from an origin not listed is refused, not challenged.
  const other = await handler(preflight("https://evil.example"));
  await other.body?.cancel();
  assertEquals(other.status, 403);
});

Deno.test("checkCorsOptions() normalises origins and refuses what names none", () => {
  assertEquals(
    checkCorsOptions({
      origins: ["HTTPS://Sip.Example.com:443/", "http://127.0.0.1:8080", "http://[::1]:80"],
      credentials: true,
      maxAgeSeconds: 0,
    })._unsafeUnwrap(),
    {
      origins: ["https://sip.example.com", "http://127.0.0.1:8080", "http://[::1]"],
      credentials: true,
      maxAgeSeconds: 0,
    },
  );
  assertEquals(checkCorsOptions({ origins: "*" })._unsafeUnwrap(), { origins: "*" });
  const cases: [Parameters<typeof checkCorsOptions>[0], string, string][] = [
    [{ origins: [] }, "cors.origins", "at least one origin"],
    [{ origins: ["sip.example.com"] }, "cors.origins", '"sip.example.com" is not an origin'],
    [{ origins: ["https://sip.example.com/app"] }, "cors.origins", "is not an origin"],
    [{ origins: ["https://sip.example.com?x"] }, "cors.origins", "is not an origin"],
    [{ origins: ["https://user@sip.example.com"] }, "cors.origins", "is not an origin"],
    [{ origins: ["ftp://sip.example.com"] }, "cors.origins", "is not an origin"],
    [{ origins: ["null"] }, "cors.origins", '"null" is not an origin'],
    [{ origins: "*", credentials: true }, "cors.credentials", "need listed origins"],
    [{ origins: "*", maxAgeSeconds: -1 }, "cors.maxAgeSeconds", "0 to 86400, not -1"],
    [{ origins: [PAGE], maxAgeSeconds: 1.5 }, "cors.maxAgeSeconds", "not 1.5"],
    [{ origins: [PAGE], maxAgeSeconds: 86_401 }, "cors.maxAgeSeconds", "not 86401"],
  ];
  for (const [options, argument, message] of cases) {
    const checked = checkCorsOptions(options);
    assert(checked.isErr(), JSON.stringify(options));
    assertEquals(checked.error.argument, argument);
    assertStringIncludes(checked.error.message, message);
  }
});

Deno.test("parseServeArgs() reads --cors, --cors-credentials and --cors-max-age", () => {
  const command = parseServeArgs([
    "--cors",
    PAGE,
    "--cors=http://127.0.0.1:8080/",
    "--cors-credentials",
    "--cors-max-age",
    "60",
  ])._unsafeUnwrap();
  assert(command.kind === "serve");
  assertEquals(command.options.cors, {
    origins: [PAGE, "http://127.0.0.1:8080"],
    credentials: true,
    maxAgeSeconds: 60,
  });
  const any = parseServeArgs(["--cors", "*"])._unsafeUnwrap();
  assert(any.kind === "serve");
  assertEquals(any.options.cors, { origins: "*" });
  const none = parseServeArgs([])._unsafeUnwrap();
  assert(none.kind === "serve");
  assertEquals(none.options.cors, undefined);
  const help = parseServeArgs(["--help"])._unsafeUnwrap();
  assert(help.kind === "help");
  assertStringIncludes(help.text, "--cors ORIGIN");
  const cases: [string[], string, string][] = [
    [["--cors"], "--cors", "needs a value"],
    [["--cors", "sip.example.com"], "--cors", '"sip.example.com" is not an origin'],
    [["--cors", "*", "--cors", PAGE], "--cors", "list no other"],
    [["--cors", "*", "--cors-credentials"], "--cors-credentials", "need listed origins"],
    [["--cors-credentials"], "--cors-credentials", "needs --cors ORIGIN"],
    [["--cors-max-age", "5"], "--cors-max-age", "needs --cors ORIGIN"],
    [["--cors", PAGE, "--cors-max-age", "soon"], "--cors-max-age", "whole number of seconds"],
    [["--cors", PAGE, "--cors-max-age", "99999"], "--cors-max-age", "0 to 86400"],
  ];
  for (const [args, argument, message] of cases) {
    const parsed = parseServeArgs(args);
    assert(parsed.isErr(), args.join(" "));
    assertEquals(parsed.error.argument, argument);
    assertStringIncludes(parsed.error.message, message);
  }
});

Deno.test("startXcapServer() refuses invalid cors options before it listens", async () => {
  const started = await startXcapServer({ cors: { origins: ["https://sip.example.com/app"] } });
  assert(started.isErr());
  assertEquals(started.error._tag, "ServerStart");
  assertStringIncludes(started.error.message, "Invalid CORS options");
  assertStringIncludes(started.error.message, "is not an origin");
});

Deno.test("deno task serve --cors answers a preflight over the network", async () => {
  const server = await spawnServer({
    args: ["--cors", PAGE, "--user", "sip:alice@example.com:pw"],
  });
  try {
    const url = `${server.xcapRoot}/resource-lists/users/sip:alice@example.com/index`;
    const response = await fetch(url, {
      method: "OPTIONS",
      headers: {
        origin: PAGE,
        "access-control-request-method": "PUT",
        "access-control-request-headers": "authorization, content-type, if-match",
      },
    });
    await response.body?.cancel();
    assertEquals(response.status, 204);
    assertEquals(response.headers.get("access-control-allow-origin"), PAGE);
    const get = await fetch(url, { headers: { origin: PAGE } });
    await get.body?.cancel();
    assertEquals(get.status, 401);
    assertEquals(get.headers.get("access-control-allow-origin"), PAGE);
  } finally {
    await server.stop();
  }
});
