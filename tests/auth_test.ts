import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { createHash } from "node:crypto";
import { err, okAsync, ResultAsync } from "npm:neverthrow@^8.2.0";
import { withAuthentication } from "../src/client/auth.ts";
import type { TransportError } from "../src/client/errors.ts";
import type { Executor, XcapRequest, XcapResponse } from "../src/client/types.ts";

const CREDENTIALS = { username: "alice", password: "s3cret pass" };
const HTTPS_URL =
  "https://xcap.example.com/xcap-root/resource-lists/users/sip:alice@example.com/index";
const HTTP_URL = "http://127.0.0.1:8080/xcap-root/resource-lists/users/sip:alice@example.com/index";

function get(url = HTTPS_URL): XcapRequest {
  return Object.freeze({ method: "GET", url, headers: Object.freeze({}) });
}

function respond(
  request: XcapRequest,
  status: number,
  headers: Record<string, string> | Headers = {},
  body = "",
): XcapResponse {
  return { status, headers: new Headers(headers), body, url: request.url };
}

/** An executor answering from `handler`, recording every request it was given. */
function fake(handler: (request: XcapRequest, index: number) => XcapResponse) {
  const sent: XcapRequest[] = [];
  const execute: Executor = (request) => {
    sent.push(request);
    return okAsync(handler(request, sent.length - 1));
  };
  return { sent, execute };
}

/** Authorization parameters split the way OpenXCAP does: on exactly ", ", then at "=". */
function splitLikeOpenXcap(header: string): Record<string, string> {
  assert(header.startsWith("Digest "), header);
  const out: Record<string, string> = {};
  for (const part of header.slice("Digest ".length).split(", ")) {
    const eq = part.indexOf("=");
    assert(eq > 0, `parameter without "=": ${part}`);
    const value = part.slice(eq + 1);
    out[part.slice(0, eq)] = value.startsWith('"') ? value.slice(1, -1) : value;
  }
  return out;
}

const NODE_HASH: Record<string, string> = { "MD5": "md5", "SHA-256": "sha256" };

function hex(algorithm: string, data: string): string {
  return createHash(NODE_HASH[algorithm]!).update(data, "utf8").digest("hex");
}

interface DigestServerOptions {
  /** `algorithm` of the challenges; none when undefined. */
  readonly algorithms?: readonly string[];
  /** `qop` of the challenges; none (RFC 2069) when null. @default "auth" */
  readonly qop?: string | null;
  /** OpenXCAP: a used nonce is refused with a 401 that carries no WWW-Authenticate. */
  readonly singleUse?: boolean;
  /** A used nonce is refused with a new challenge marked stale=true. */
  readonly staleAfterUse?: boolean;
  /** Send Authentication-Info: nextnonce with each success. */
  readonly nextnonce?: boolean;
  /** The password the server knows. */
  readonly password?: string;
}

/** A Digest server that checks responses independently (node:crypto), as an executor. */
class DigestServer {
  readonly sent: XcapRequest[] = [];
  readonly accepted: Record<string, string>[] = [];
  readonly #nonces = new Map<string, number>();
  #count = 0;
  constructor(readonly options: DigestServerOptions = {}) {}

  challenges(stale = false): Headers {
    const headers = new Headers();
    for (const algorithm of this.options.algorithms ?? [undefined]) {
      headers.append("www-authenticate", this.#challenge(algorithm, stale));
    }
    return headers;
  }

  #challenge(algorithm: string | undefined, stale: boolean): string {
    const nonce = `nonce/${++this.#count}==`;
    this.#nonces.set(nonce, 0);
    const qop = this.options.qop === undefined ? "auth" : this.options.qop;
    return [
      `Digest realm="xcap@example.com"`,
      `nonce="${nonce}"`,
      ...(qop === null ? [] : [`qop="${qop}"`]),
      ...(algorithm === undefined ? [] : [`algorithm=${algorithm}`]),
      `opaque="op=aque/x"`,
      ...(stale ? ["stale=true"] : []),
    ].join(", ");
  }

  #expected(p: Record<string, string>, request: XcapRequest): string {
    const algorithm = (p["algorithm"] ?? "MD5").replace(/-sess$/i, "").toUpperCase();
    const h = (s: string) => hex(algorithm, s);
    const password = this.options.password ?? CREDENTIALS.password;
    let ha1 = h(`${p["username"]}:${p["realm"]}:${password}`);
    if (/-sess$/i.test(p["algorithm"] ?? "")) ha1 = h(`${ha1}:${p["nonce"]}:${p["cnonce"]}`);
    const ha2 = p["qop"] === "auth-int"
      ? h(`${request.method}:${p["uri"]}:${h(request.body ?? "")}`)
      : h(`${request.method}:${p["uri"]}`);
    return p["qop"] === undefined
      ? h(`${ha1}:${p["nonce"]}:${ha2}`)
      : h(`${ha1}:${p["nonce"]}:${p["nc"]}:${p["cnonce"]}:${p["qop"]}:${ha2}`);
  }

  handle(request: XcapRequest): XcapResponse {
    this.sent.push(request);
    const authorization = request.headers["authorization"];
    if (authorization === undefined) return respond(request, 401, this.challenges());
    const p = splitLikeOpenXcap(authorization);
    const url = new URL(request.url);
    assertEquals(p["uri"], url.pathname + url.search);
    assertEquals(p["username"], CREDENTIALS.username);
    assertEquals(p["opaque"], "op=aque/x");
    const last = this.#nonces.get(p["nonce"]!);
    if (last === undefined) return respond(request, 401, this.challenges());
    if (p["response"] !== this.#expected(p, request)) {
      return respond(request, 401, this.challenges());
    }
    const nc = p["qop"] === undefined ? last + 1 : Number.parseInt(p["nc"]!, 16);
    if (p["qop"] !== undefined) assert(/^[0-9a-f]{8}$/.test(p["nc"]!), `nc ${p["nc"]}`);
    if (last > 0 && this.options.singleUse) return respond(request, 401);
    if (last > 0 && this.options.staleAfterUse) return respond(request, 401, this.challenges(true));
    if (nc <= last) return respond(request, 401, this.challenges());
    this.#nonces.set(p["nonce"]!, nc);
    this.accepted.push(p);
    const headers = new Headers();
    if (this.options.nextnonce) {
      const next = `next/${++this.#count}`;
      this.#nonces.set(next, 0);
      headers.set("authentication-info", `nextnonce="${next}", qop=auth`);
    }
    return respond(request, 200, headers, "<ok/>");
  }

  readonly execute: Executor = (request) => okAsync(this.handle(request));
}

async function run(execute: Executor, request: XcapRequest = get()): Promise<XcapResponse> {
  const result = await execute(request);
  assert(result.isOk(), result.isErr() ? JSON.stringify(result.error) : "");
  return result.value;
}

async function runErr(execute: Executor, request: XcapRequest = get()): Promise<TransportError> {
  const result = await execute(request);
  assert(result.isErr(), "expected an error");
  return result.error;
}

Deno.test("withAuthentication() answers a Digest 401 and returns the 200", async () => {
  const server = new DigestServer({ algorithms: ["MD5"] });
  const response = await run(withAuthentication(server.execute, CREDENTIALS));
  assertEquals(response.status, 200);
  assertEquals(response.body, "<ok/>");
  assertEquals(server.sent.length, 2);
  assertEquals(server.sent[0]!.headers, {});
  const p = splitLikeOpenXcap(server.sent[1]!.headers["authorization"]!);
  assertEquals(p["nc"], "00000001");
  assertEquals(p["algorithm"], "MD5");
  assertEquals(p["qop"], "auth");
  assertEquals(p["realm"], "xcap@example.com");
  assertEquals(p["nonce"], "nonce/1==");
  assert(/^[0-9a-f]{32}$/.test(p["cnonce"]!), p["cnonce"]);
});

Deno.test("withAuthentication() quotes exactly the parameters RFC 7616 quotes", async () => {
  const server = new DigestServer({ algorithms: ["SHA-256"] });
  await run(withAuthentication(server.execute, CREDENTIALS));
  const header = server.sent[1]!.headers["authorization"]!;
  for (const name of ["username", "realm", "uri", "nonce", "cnonce", "response", "opaque"]) {
    assert(new RegExp(`(^Digest |, )${name}="`).test(header), `${name} quoted in ${header}`);
  }
  for (const name of ["algorithm", "nc", "qop"]) {
    assert(new RegExp(`, ${name}=[^"]`).test(header), `${name} unquoted in ${header}`);
  }
});

Deno.test("withAuthentication() answers the remembered challenge pre-emptively", async () => {
  const server = new DigestServer({ algorithms: ["SHA-256"] });
  const execute = withAuthentication(server.execute, CREDENTIALS);
  await run(execute);
  assertEquals(server.sent.length, 2);
  const second = await run(execute);
  assertEquals(second.status, 200);
  assertEquals(server.sent.length, 3); // exactly one round trip
  const p = splitLikeOpenXcap(server.sent[2]!.headers["authorization"]!);
  assertEquals(p["nonce"], "nonce/1==");
  assertEquals(p["nc"], "00000002");
});

Deno.test("withAuthentication() counts nc in hex past 9 on one nonce", async () => {
  const server = new DigestServer({ algorithms: ["MD5"] });
  const execute = withAuthentication(server.execute, CREDENTIALS);
  for (let i = 0; i < 17; i++) assertEquals((await run(execute)).status, 200);
  assertEquals(server.sent.length, 18);
  assertEquals(
    server.accepted.map((p) => p["nc"]),
    Array.from({ length: 17 }, (_, i) => (i + 1).toString(16).padStart(8, "0")),
  );
  assertEquals(server.accepted[9]!["nc"], "0000000a");
  assertEquals(server.accepted[16]!["nc"], "00000011");
});

Deno.test("withAuthentication() gets a fresh challenge when a single-use nonce is refused without one", async () => {
  const server = new DigestServer({ algorithms: ["MD5"], singleUse: true });
  const execute = withAuthentication(server.execute, CREDENTIALS);
  await run(execute);
  const second = await run(execute);
  assertEquals(second.status, 200);
  // Pre-emptive answer (401, no header), bare request (401 + challenge), answer (200).
  assertEquals(server.sent.length, 5);
  assertEquals(splitLikeOpenXcap(server.sent[2]!.headers["authorization"]!)["nonce"], "nonce/1==");
  assertEquals(server.sent[3]!.headers, {});
  const p = splitLikeOpenXcap(server.sent[4]!.headers["authorization"]!);
  assertEquals(p["nonce"], "nonce/2==");
  assertEquals(p["nc"], "00000001");
});

Deno.test("withAuthentication() retries a stale nonce with the new one", async () => {
  const server = new DigestServer({ algorithms: ["MD5"], staleAfterUse: true });
  const execute = withAuthentication(server.execute, CREDENTIALS);
  await run(execute);
  const second = await run(execute);
  assertEquals(second.status, 200);
  assertEquals(server.sent.length, 4); // pre-emptive (stale), answer with the new nonce
  const p = splitLikeOpenXcap(server.sent[3]!.headers["authorization"]!);
  assertEquals(p["nonce"], "nonce/2==");
  assertEquals(p["nc"], "00000001");
});

Deno.test("withAuthentication() retries stale=true after a fresh answer only once", async () => {
  let nonce = 0;
  const { sent, execute } = fake((request) =>
    respond(request, 401, {
      "www-authenticate": `Digest realm="r", nonce="${++nonce}", qop=auth, stale=true`,
    })
  );
  const response = await run(withAuthentication(execute, CREDENTIALS, { maxChallenges: 10 }));
  assertEquals(response.status, 401);
  // Bare request, fresh answer, one stale retry.
  assertEquals(sent.length, 3);
});

Deno.test("withAuthentication() returns the 401 when the password is wrong", async () => {
  const server = new DigestServer({ algorithms: ["MD5"], password: "other" });
  const execute = withAuthentication(server.execute, CREDENTIALS);
  const response = await run(execute);
  assertEquals(response.status, 401);
  assertEquals(server.sent.length, 2);
  // The refused challenge is forgotten: the next request starts without credentials.
  await run(execute);
  assertEquals(server.sent[2]!.headers, {});
});

Deno.test("withAuthentication() bounds a 401 loop and returns the last 401", async () => {
  const { sent, execute } = fake((request, i) =>
    i % 2 === 0
      ? respond(request, 401, { "www-authenticate": `Digest realm="r", nonce="${i}"` })
      : respond(request, 401)
  );
  const wrapped = withAuthentication(execute, CREDENTIALS);
  await run(wrapped); // bare 401 + challenge, answer refused with a bare 401
  assertEquals(sent.length, 2);
  // A server that always challenges anew (the answer looks pre-emptive-stale each time).
  const always = fake((request, i) =>
    respond(request, 401, {
      "www-authenticate": `Digest realm="r", nonce="${i}", stale=${i > 0}`,
    })
  );
  const response = await run(withAuthentication(always.execute, CREDENTIALS));
  assertEquals(response.status, 401);
  // Bare request, fresh answer, one retry for stale=true, then the 401 is returned.
  assertEquals(always.sent.length, 3);
  const bounded = fake((request) => respond(request, 401, { "www-authenticate": "" }));
  assertEquals((await run(withAuthentication(bounded.execute, CREDENTIALS))).status, 401);
  assertEquals(bounded.sent.length, 1);
});

Deno.test("withAuthentication() never exceeds maxChallenges + 1 round trips", async () => {
  for (const maxChallenges of [0, 1, 2, 3, 5]) {
    // Every request is challenged afresh, whatever it carries; stale keeps it plausible.
    const { sent, execute } = fake((request, i) =>
      respond(
        request,
        401,
        i % 3 === 2 ? {} : { "www-authenticate": `Digest realm="r", nonce="${i}", stale=true` },
      )
    );
    const wrapped = withAuthentication(execute, CREDENTIALS, { maxChallenges });
    for (let round = 0; round < 3; round++) {
      const before = sent.length;
      assertEquals((await run(wrapped)).status, 401);
      const trips = sent.length - before;
      assert(trips <= maxChallenges + 1, `${trips} round trips`);
      if (maxChallenges === 0) assertEquals(trips, 1);
    }
  }
});

Deno.test("withAuthentication() refuses Basic over plain http and returns the 401", async () => {
  const { sent, execute } = fake((request) =>
    respond(request, 401, { "www-authenticate": 'Basic realm="xcap"' })
  );
  const response = await run(withAuthentication(execute, CREDENTIALS), get(HTTP_URL));
  assertEquals(response.status, 401);
  assertEquals(response.headers.get("www-authenticate"), 'Basic realm="xcap"');
  assertEquals(sent.length, 1);
  assertEquals(sent[0]!.headers, {});
});

Deno.test("withAuthentication() answers Basic over http when opted in, then pre-emptively", async () => {
  const expected = `Basic ${btoa("alice:s3cret pass")}`;
  const { sent, execute } = fake((request) =>
    request.headers["authorization"] === expected
      ? respond(request, 200)
      : respond(request, 401, { "www-authenticate": 'Basic realm="xcap", charset="UTF-8"' })
  );
  const wrapped = withAuthentication(execute, CREDENTIALS, { allowBasicOverHttp: true });
  assertEquals((await run(wrapped, get(HTTP_URL))).status, 200);
  assertEquals(sent.length, 2);
  assertEquals(sent[1]!.headers["authorization"], expected);
  assertEquals((await run(wrapped, get(HTTP_URL))).status, 200);
  assertEquals(sent.length, 3);
});

Deno.test("withAuthentication() answers Basic over https by default, not with allowBasic false", async () => {
  const basic = (request: XcapRequest) =>
    request.headers["authorization"]?.startsWith("Basic ")
      ? respond(request, 200)
      : respond(request, 401, { "www-authenticate": 'Basic realm="xcap"' });
  const on = fake(basic);
  assertEquals((await run(withAuthentication(on.execute, CREDENTIALS))).status, 200);
  const off = fake(basic);
  const wrapped = withAuthentication(off.execute, CREDENTIALS, { allowBasic: false });
  assertEquals((await run(wrapped)).status, 401);
  assertEquals(off.sent.length, 1);
});

Deno.test("withAuthentication() encodes Basic credentials as UTF-8", async () => {
  const { sent, execute } = fake((request, i) =>
    i === 0 ? respond(request, 401, { "www-authenticate": "Basic realm=x" }) : respond(request, 200)
  );
  await run(withAuthentication(execute, { username: "j\u00fcrgen", password: "p\u00e4ss" }));
  const encoded = sent[1]!.headers["authorization"]!.slice("Basic ".length);
  const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  assertEquals(new TextDecoder().decode(bytes), "j\u00fcrgen:p\u00e4ss");
});

Deno.test("withAuthentication() prefers Digest over Basic in one 401", async () => {
  const server = new DigestServer({ algorithms: ["MD5"] });
  const { sent, execute } = fake((request) => {
    if (request.headers["authorization"] !== undefined) return server.handle(request);
    const headers = new Headers({ "www-authenticate": 'Basic realm="xcap"' });
    server.challenges().forEach((value) => headers.append("www-authenticate", value));
    return respond(request, 401, headers);
  });
  assertEquals((await run(withAuthentication(execute, CREDENTIALS))).status, 200);
  assertEquals(sent.length, 2);
  assert(sent[1]!.headers["authorization"]!.startsWith("Digest "));
});

Deno.test("withAuthentication() picks SHA-256 over MD5 and -sess variants work", async () => {
  for (
    const [offered, chosen] of [
      [["MD5", "SHA-256"], "SHA-256"],
      [["SHA-256", "MD5"], "SHA-256"],
      [["MD5-sess", "SHA-256-sess"], "SHA-256-sess"],
      [["MD5-sess"], "MD5-sess"],
    ] as const
  ) {
    const server = new DigestServer({ algorithms: offered });
    const execute = withAuthentication(server.execute, CREDENTIALS);
    assertEquals((await run(execute)).status, 200);
    assertEquals((await run(execute)).status, 200);
    assertEquals(server.accepted.map((p) => p["algorithm"]), [chosen, chosen]);
    // A -sess session key is bound to the first cnonce: it is kept for the nonce.
    if (chosen.endsWith("-sess")) {
      assertEquals(server.accepted[0]!["cnonce"], server.accepted[1]!["cnonce"]);
    }
  }
});

Deno.test("withAuthentication() skips an unknown algorithm when a known one is offered", async () => {
  const server = new DigestServer({ algorithms: ["SHA-1", "MD5"] });
  assertEquals((await run(withAuthentication(server.execute, CREDENTIALS))).status, 200);
  assertEquals(server.accepted[0]!["algorithm"], "MD5");
});

Deno.test("withAuthentication() answers RFC 2069 challenges without qop", async () => {
  const server = new DigestServer({ qop: null });
  const execute = withAuthentication(server.execute, CREDENTIALS);
  assertEquals((await run(execute)).status, 200);
  assertEquals((await run(execute)).status, 200);
  const p = server.accepted[0]!;
  assertEquals([p["nc"], p["cnonce"], p["qop"], p["algorithm"]], [
    undefined,
    undefined,
    undefined,
    undefined,
  ]);
});

Deno.test("withAuthentication() hashes the body for qop=auth-int", async () => {
  const server = new DigestServer({ algorithms: ["SHA-256"], qop: "auth-int" });
  const request: XcapRequest = Object.freeze({
    method: "PUT",
    url: HTTPS_URL,
    headers: Object.freeze({ "content-type": "application/resource-lists+xml" }),
    body: '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"/>',
  });
  assertEquals((await run(withAuthentication(server.execute, CREDENTIALS), request)).status, 200);
  assertEquals(server.accepted[0]!["qop"], "auth-int");
  assertEquals(server.sent[1]!.headers["content-type"], "application/resource-lists+xml");
});

Deno.test("withAuthentication() follows Authentication-Info nextnonce", async () => {
  const server = new DigestServer({ algorithms: ["MD5"], nextnonce: true, singleUse: true });
  const execute = withAuthentication(server.execute, CREDENTIALS);
  await run(execute);
  assertEquals((await run(execute)).status, 200);
  assertEquals(server.sent.length, 3); // no refused pre-emptive answer
  assertEquals(server.accepted.map((p) => [p["nonce"], p["nc"]]), [
    ["nonce/1==", "00000001"],
    ["next/2", "00000001"],
  ]);
});

Deno.test("withAuthentication() never downgrades an origin that sent Digest to Basic", async () => {
  const handler = (request: XcapRequest, i: number) => {
    if (i === 0) {
      return respond(request, 401, { "www-authenticate": 'Digest realm="r", nonce="n"' });
    }
    if (request.headers["authorization"]?.startsWith("Basic ")) return respond(request, 200);
    return respond(request, 401, { "www-authenticate": 'Basic realm="r"' });
  };
  const strict = fake(handler);
  const response = await run(withAuthentication(strict.execute, CREDENTIALS));
  assertEquals(response.status, 401);
  assertEquals(strict.sent.length, 2);
  assert(strict.sent.every((r) => !r.headers["authorization"]?.startsWith("Basic ")));
  const lax = fake(handler);
  const wrapped = withAuthentication(lax.execute, CREDENTIALS, { allowBasicAfterDigest: true });
  assertEquals((await run(wrapped)).status, 200);
  assert(lax.sent[2]!.headers["authorization"]!.startsWith("Basic "));
});

Deno.test("withAuthentication() fails on an unknown algorithm, naming it, without credentials", async () => {
  const { execute } = fake((request) =>
    respond(request, 401, { "www-authenticate": 'Digest realm="r", nonce="n", algorithm=SHA3-999' })
  );
  const error = await runErr(withAuthentication(execute, CREDENTIALS));
  assertEquals(error._tag, "MalformedResponse");
  assertStringIncludes(error.message, '"SHA3-999"');
  assert(!error.message.includes(CREDENTIALS.password));
  assert(!error.message.includes(CREDENTIALS.username));
});

Deno.test("withAuthentication() fails on an unparseable challenge", async () => {
  const { execute } = fake((request) =>
    respond(request, 401, { "www-authenticate": 'Digest realm="r, nonce=n' })
  );
  const error = await runErr(withAuthentication(execute, CREDENTIALS));
  assertEquals(error._tag, "MalformedResponse");
  assertStringIncludes(error.message, "unterminated quoted string");
});

Deno.test("withAuthentication() returns a 401 with only unknown schemes untouched", async () => {
  const { sent, execute } = fake((request) =>
    respond(request, 401, { "www-authenticate": 'Bearer realm="r", Negotiate' })
  );
  assertEquals((await run(withAuthentication(execute, CREDENTIALS))).status, 401);
  assertEquals(sent.length, 1);
});

Deno.test("withAuthentication() does not modify the caller's request", async () => {
  const server = new DigestServer({ algorithms: ["MD5"] });
  const request = get();
  const copy = structuredClone(request);
  await run(withAuthentication(server.execute, CREDENTIALS), request);
  assertEquals(request, copy);
  assert(Object.isFrozen(server.sent[1]));
  assert(Object.isFrozen(server.sent[1]!.headers));
  assert(server.sent[0] === request);
});

Deno.test("withAuthentication() gives concurrent requests distinct nonce counts", async () => {
  const server = new DigestServer({ algorithms: ["SHA-256"] });
  const execute = withAuthentication(server.execute, CREDENTIALS);
  await run(execute);
  const responses = await Promise.all(Array.from({ length: 12 }, () => run(execute)));
  assert(responses.every((r) => r.status === 200));
  const counts = server.accepted.map((p) => p["nc"]);
  assertEquals(new Set(counts).size, 13);
  assertEquals(counts.toSorted(), counts.map((_, i) => (i + 1).toString(16).padStart(8, "0")));
});

Deno.test("withAuthentication() sends path and query, as the URL serializes them, as uri", async () => {
  const server = new DigestServer({ algorithms: ["MD5"] });
  const url = "https://xcap.example.com/xcap-root/rls-services/users/sip:bob@example.com/" +
    "index/~~/rls-services/service%5b@uri=%22sip:a@b%22%5d?x=1&y=%20";
  await run(withAuthentication(server.execute, CREDENTIALS), get(url));
  assertEquals(
    server.accepted[0]!["uri"],
    "/xcap-root/rls-services/users/sip:bob@example.com/index/~~/rls-services/" +
      "service%5b@uri=%22sip:a@b%22%5d?x=1&y=%20",
  );
});

Deno.test("withAuthentication() keeps separate challenges per origin", async () => {
  const a = new DigestServer({ algorithms: ["MD5"] });
  const b = new DigestServer({ algorithms: ["MD5"] });
  const execute: Executor = (request) =>
    new URL(request.url).hostname === "a.example.com" ? a.execute(request) : b.execute(request);
  const wrapped = withAuthentication(execute, CREDENTIALS);
  await run(wrapped, get("https://a.example.com/xcap-root/x"));
  await run(wrapped, get("https://b.example.com/xcap-root/x"));
  await run(wrapped, get("https://a.example.com/xcap-root/y"));
  assertEquals([a.sent.length, b.sent.length], [3, 2]);
});

Deno.test("withAuthentication() passes a request with its own authorization through", async () => {
  const { sent, execute } = fake((request) =>
    respond(request, 401, { "www-authenticate": 'Digest realm="r", nonce="n"' })
  );
  const request: XcapRequest = { method: "GET", url: HTTPS_URL, headers: { authorization: "X" } };
  assertEquals((await run(withAuthentication(execute, CREDENTIALS), request)).status, 401);
  assertEquals(sent, [request]);
});

Deno.test("withAuthentication() passes transport errors through", async () => {
  const failing: Executor = () =>
    new ResultAsync(Promise.resolve(err({ _tag: "NetworkError", message: "refused", cause: 1 })));
  const error = await runErr(withAuthentication(failing, CREDENTIALS));
  assertEquals(error, { _tag: "NetworkError", message: "refused", cause: 1 });
  const throwing: Executor = () => {
    throw new Error("boom");
  };
  const thrown = await runErr(withAuthentication(throwing, CREDENTIALS));
  assertEquals(thrown._tag, "NetworkError");
});

Deno.test("withAuthentication() rejects an invalid maxChallenges on every call", async () => {
  const { sent, execute } = fake((request) => respond(request, 200));
  for (const maxChallenges of [-1, 1.5, Number.NaN]) {
    const error = await runErr(withAuthentication(execute, CREDENTIALS, { maxChallenges }));
    assertEquals(error._tag, "InvalidArgument");
  }
  assertEquals(sent.length, 0);
});

Deno.test("withAuthentication() refuses Basic for a user name with a colon, without credentials", async () => {
  const { execute } = fake((request) =>
    respond(request, 401, { "www-authenticate": 'Basic realm="r"' })
  );
  const error = await runErr(withAuthentication(execute, { username: "a:b", password: "pw42" }));
  assertEquals(error._tag, "InvalidArgument");
  assert(!error.message.includes("pw42"));
  assert(!error.message.includes("a:b"));
});

// --- Against a real HTTP server on the loopback interface -------------------------------------

/** A fetch executor built inline (src/client/executor.ts is written separately). */
const fetchExecutor: Executor = (request, options) =>
  ResultAsync.fromPromise(
    (async () => {
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        ...(request.body === undefined ? {} : { body: request.body }),
        ...(options?.signal === undefined ? {} : { signal: options.signal }),
      });
      return {
        status: response.status,
        headers: response.headers,
        body: await response.text(),
        url: response.url,
      };
    })(),
    (cause): TransportError => ({ _tag: "NetworkError", message: "fetch failed", cause }),
  );

Deno.test("withAuthentication() authenticates against a loopback Digest server", async () => {
  // OpenXCAP-like: SHA-256 and MD5 offered in two header lines, single-use nonces, a bare 401
  // for a reused one.
  const nonces = new Map<string, boolean>();
  const log: { method: string; authorization: string | null; status: number }[] = [];
  let count = 0;
  const challenge = (algorithm: string) => {
    const nonce = `${crypto.randomUUID()}/${++count}`;
    nonces.set(nonce, false);
    return `Digest realm="loopback", nonce="${nonce}", qop="auth", algorithm=${algorithm}`;
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.text();
    const authorization = req.headers.get("authorization");
    const reply = (status: number, headers = new Headers()) => {
      log.push({ method: req.method, authorization, status });
      return new Response(status === 200 ? `ok ${req.method} ${body}` : "", { status, headers });
    };
    if (authorization === null) {
      const headers = new Headers();
      headers.append("www-authenticate", challenge("MD5"));
      headers.append("www-authenticate", challenge("SHA-256"));
      return reply(401, headers);
    }
    const p = splitLikeOpenXcap(authorization);
    const url = new URL(req.url);
    const algorithm = p["algorithm"] ?? "MD5";
    const ha1 = hex(algorithm, `${p["username"]}:loopback:${CREDENTIALS.password}`);
    const ha2 = hex(algorithm, `${req.method}:${url.pathname}${url.search}`);
    const expected = hex(
      algorithm,
      `${ha1}:${p["nonce"]}:${p["nc"]}:${p["cnonce"]}:${p["qop"]}:${ha2}`,
    );
    const used = nonces.get(p["nonce"]!);
    if (used !== false || p["uri"] !== url.pathname + url.search || p["response"] !== expected) {
      return reply(401);
    }
    nonces.set(p["nonce"]!, true);
    return reply(200);
  });
  try {
    const base = `http://127.0.0.1:${server.addr.port}/xcap-root/resource-lists/users/` +
      `sip:alice@example.com/index?x=%20y`;
    const execute = withAuthentication(fetchExecutor, CREDENTIALS);
    const first = await run(execute, get(base));
    assertEquals([first.status, first.body], [200, "ok GET "]);
    const put: XcapRequest = { method: "PUT", url: base, headers: {}, body: "<a/>" };
    const second = await run(execute, put);
    assertEquals([second.status, second.body], [200, "ok PUT <a/>"]);
    assertEquals(log.map((e) => e.status), [401, 200, 401, 401, 200]);
    assert(log[1]!.authorization!.includes("algorithm=SHA-256"));
    assert(log[2]!.authorization!.includes("nc=00000002")); // pre-emptive, refused
    assertEquals(log[3]!.authorization, null);
    assert(log[4]!.authorization!.includes("nc=00000001"));
    const wrong = withAuthentication(fetchExecutor, { username: "alice", password: "nope" });
    assertEquals((await run(wrong, get(base))).status, 401);
  } finally {
    await server.shutdown();
  }
});
