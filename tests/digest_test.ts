import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { createHash } from "node:crypto";
import { parseWwwAuthenticate } from "../src/client/auth.ts";
import { digestAuthorization } from "../src/client/_digest_answer.ts";
import type { Challenge } from "../src/client/_digest.ts";

/** An independent hash (node:crypto) to check the module's noble-based one against. */
function h(algorithm: "md5" | "sha256", data: string): string {
  return createHash(algorithm).update(data, "utf8").digest("hex");
}

function challengeOf(header: string): Challenge {
  const parsed = parseWwwAuthenticate(header);
  assert(parsed.isOk(), parsed.isErr() ? parsed.error.message : "");
  assertEquals(parsed.value.length, 1);
  return parsed.value[0]!;
}

function authorization(
  header: string,
  params: Partial<Parameters<typeof digestAuthorization>[1]> = {},
): string {
  const result = digestAuthorization(challengeOf(header), {
    username: "Mufasa",
    password: "Circle of Life",
    method: "GET",
    uri: "/dir/index.html",
    cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    nc: 1,
    ...params,
  });
  assert(result.isOk(), result.isErr() ? result.error.message : "");
  return result.value;
}

// RFC 7616 §3.9.1 (with errata 4495: "Circle of Life", lower-case "of").
const RFC7616_CHALLENGE = (algorithm: string) =>
  `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${algorithm}, ` +
  `nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", ` +
  `opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`;

Deno.test("digestAuthorization() reproduces the RFC 7616 §3.9.1 MD5 example exactly", () => {
  assertEquals(
    authorization(RFC7616_CHALLENGE("MD5")),
    'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", ' +
      'algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, ' +
      'cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, ' +
      'response="8ca523f5e9506fed4657c9700eebdbec", ' +
      'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
  );
});

Deno.test("digestAuthorization() reproduces the RFC 7616 §3.9.1 SHA-256 example exactly", () => {
  assertEquals(
    authorization(RFC7616_CHALLENGE("SHA-256")),
    'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", ' +
      'algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, ' +
      'cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, ' +
      'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", ' +
      'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
  );
});

Deno.test("digestAuthorization() reproduces the RFC 2617 §3.5 example", () => {
  const header = authorization(
    'Digest realm="testrealm@host.com", qop="auth,auth-int", ' +
      'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    { password: "Circle Of Life", cnonce: "0a4f113b" },
  );
  assertEquals(
    header,
    'Digest username="Mufasa", realm="testrealm@host.com", uri="/dir/index.html", ' +
      'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", nc=00000001, cnonce="0a4f113b", qop=auth, ' +
      'response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  );
});

Deno.test("digestAuthorization() matches RFC 7616 §3.9.2 SHA-512-256 with userhash (errata 4897)", () => {
  // The RFC's printed values used a draft SHA-512/256; errata 4897 gives the FIPS 180-4 ones.
  const header = authorization(
    'Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, ' +
      'nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", ' +
      'opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", charset=UTF-8, userhash=true',
    {
      username: "J\u00e4s\u00f8n Doe",
      password: "Secret, or not?",
      uri: "/doe.json",
      cnonce: "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
    },
  );
  assertEquals(
    header,
    'Digest username="793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b", ' +
      'realm="api@example.org", uri="/doe.json", algorithm=SHA-512-256, ' +
      'nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", nc=00000001, ' +
      'cnonce="NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v", qop=auth, ' +
      'response="3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5", ' +
      'opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", userhash=true',
  );
});

Deno.test("digestAuthorization() sends a non-ASCII user name as username* without userhash", () => {
  const header = authorization('Digest realm="api@example.org", nonce="n", qop=auth', {
    username: "J\u00e4s\u00f8n Doe",
  });
  assert(header.startsWith(`Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm=`), header);
});

Deno.test("digestAuthorization() counts nc in hex: 0000000a follows 00000009", () => {
  const challenge = 'Digest realm="r", nonce="n", qop="auth"';
  const ncOf = (nc: number) => /nc=([0-9a-f]+)/.exec(authorization(challenge, { nc }))?.[1];
  assertEquals(ncOf(9), "00000009");
  assertEquals(ncOf(10), "0000000a");
  assertEquals(ncOf(16), "00000010");
  assertEquals(ncOf(255), "000000ff");
  assertEquals(ncOf(0xffffffff), "ffffffff");
  // The count also enters the hash as those 8 hex digits.
  const ha1 = h("md5", "Mufasa:r:Circle of Life");
  const ha2 = h("md5", "GET:/dir/index.html");
  const expected = h(
    "md5",
    `${ha1}:n:0000000a:f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ:auth:${ha2}`,
  );
  assertStringIncludes(authorization(challenge, { nc: 10 }), `response="${expected}"`);
});

Deno.test("digestAuthorization() rejects a nonce count outside 1..ffffffff", () => {
  const challenge = challengeOf('Digest realm="r", nonce="n", qop="auth"');
  for (const nc of [0, -1, 1.5, 0x100000000, Number.NaN]) {
    const result = digestAuthorization(challenge, {
      username: "u",
      password: "p",
      method: "GET",
      uri: "/",
      cnonce: "c",
      nc,
    });
    assert(result.isErr());
    assertEquals(result.error._tag, "InvalidArgument");
  }
});

Deno.test("digestAuthorization() uses the RFC 2069 form when the challenge has no qop", () => {
  const header = authorization('Digest realm="r", nonce="abc", opaque="o"');
  const ha1 = h("md5", "Mufasa:r:Circle of Life");
  const ha2 = h("md5", "GET:/dir/index.html");
  assertEquals(
    header,
    `Digest username="Mufasa", realm="r", uri="/dir/index.html", nonce="abc", ` +
      `response="${h("md5", `${ha1}:abc:${ha2}`)}", opaque="o"`,
  );
});

Deno.test("digestAuthorization() hashes the body when only qop=auth-int is offered", () => {
  const body = '<?xml version="1.0"?><resource-lists/>';
  const header = authorization('Digest realm="r", nonce="n", qop="auth-int", algorithm=SHA-256', {
    method: "PUT",
    body,
    cnonce: "c",
  });
  const ha1 = h("sha256", "Mufasa:r:Circle of Life");
  const ha2 = h("sha256", `PUT:/dir/index.html:${h("sha256", body)}`);
  assertStringIncludes(header, "qop=auth-int");
  assertStringIncludes(
    header,
    `response="${h("sha256", `${ha1}:n:00000001:c:auth-int:${ha2}`)}"`,
  );
});

Deno.test("digestAuthorization() prefers qop=auth when auth-int is also offered", () => {
  assertStringIncludes(
    authorization('Digest realm="r", nonce="n", qop="auth-int,auth"'),
    "qop=auth,",
  );
});

Deno.test("digestAuthorization() derives the -sess session key from nonce and cnonce", () => {
  const header = authorization('Digest realm="r", nonce="n", qop=auth, algorithm=MD5-sess', {
    cnonce: "c",
  });
  const ha1 = h("md5", `${h("md5", "Mufasa:r:Circle of Life")}:n:c`);
  const ha2 = h("md5", "GET:/dir/index.html");
  assertStringIncludes(header, "algorithm=MD5-sess, ");
  assertStringIncludes(header, `response="${h("md5", `${ha1}:n:00000001:c:auth:${ha2}`)}"`);
});

Deno.test("digestAuthorization() accepts algorithm names in any case and echoes them", () => {
  const header = authorization('Digest realm="r", nonce="n", qop=auth, algorithm=sha-256');
  assertStringIncludes(header, "algorithm=sha-256, ");
  const ha1 = h("sha256", "Mufasa:r:Circle of Life");
  const ha2 = h("sha256", "GET:/dir/index.html");
  assertStringIncludes(
    header,
    `response="${
      h("sha256", `${ha1}:n:00000001:f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ:auth:${ha2}`)
    }"`,
  );
});

Deno.test("digestAuthorization() escapes quotes and backslashes in quoted values", () => {
  const header = authorization('Digest realm="a \\"b\\" c\\\\d", nonce="n", qop=auth', {
    username: 'x"y',
  });
  assertStringIncludes(header, 'username="x\\"y", realm="a \\"b\\" c\\\\d", ');
});

Deno.test("digestAuthorization() names an unknown algorithm, without credentials", () => {
  const result = digestAuthorization(
    challengeOf('Digest realm="r", nonce="n", algorithm=SHA-1'),
    {
      username: "alice",
      password: "hunter2",
      method: "GET",
      uri: "/",
      cnonce: "c",
      nc: 1,
    },
  );
  assert(result.isErr());
  assertEquals(result.error._tag, "MalformedResponse");
  assertStringIncludes(result.error.message, '"SHA-1"');
  assert(!result.error.message.includes("hunter2"));
  assert(!result.error.message.includes("alice"));
});

Deno.test("digestAuthorization() refuses challenges without nonce, realm or a known qop", () => {
  const params = { username: "u", password: "p", method: "GET", uri: "/", cnonce: "c", nc: 1 };
  const cases: [string, string][] = [
    ['Digest realm="r"', "missing nonce"],
    ['Digest nonce="n"', "missing realm"],
    ['Digest realm="r", nonce="n", qop="auth-conf"', 'unsupported qop "auth-conf"'],
    ['Basic realm="r"', "is not Digest"],
  ];
  for (const [header, reason] of cases) {
    const result = digestAuthorization(challengeOf(header), params);
    assert(result.isErr(), header);
    assertEquals(result.error._tag, "MalformedResponse");
    assertStringIncludes(result.error.message, reason);
  }
});

// --- parseWwwAuthenticate() -------------------------------------------------------------------

Deno.test("parseWwwAuthenticate() undoes escapes in quoted strings", () => {
  assertEquals(challengeOf('Digest realm="say \\"hi\\" \\\\ bye", nonce="n"').params, {
    realm: 'say "hi" \\ bye',
    nonce: "n",
  });
});

Deno.test("parseWwwAuthenticate() keeps commas and equals signs inside quotes", () => {
  assertEquals(challengeOf('Digest realm="a, b=c", qop="auth,auth-int", nonce="x=="').params, {
    realm: "a, b=c",
    qop: "auth,auth-int",
    nonce: "x==",
  });
});

Deno.test("parseWwwAuthenticate() splits several challenges in one header", () => {
  const parsed = parseWwwAuthenticate(
    'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple", ' +
      'Negotiate abc+/==, Digest realm="d", nonce="n", Bearer',
  );
  assert(parsed.isOk());
  assertEquals(parsed.value, [
    { scheme: "Newauth", params: { realm: "apps", type: "1", title: 'Login to "apps"' } },
    { scheme: "Basic", params: { realm: "simple" } },
    { scheme: "Negotiate", params: {}, token68: "abc+/==" },
    { scheme: "Digest", params: { realm: "d", nonce: "n" } },
    { scheme: "Bearer", params: {} },
  ]);
});

Deno.test("parseWwwAuthenticate() reads several header lines joined by Headers", () => {
  const headers = new Headers();
  headers.append("WWW-Authenticate", 'Digest realm="r", nonce="1", algorithm=MD5');
  headers.append("WWW-Authenticate", 'Digest realm="r", nonce="2", algorithm=SHA-256');
  const parsed = parseWwwAuthenticate(headers.get("www-authenticate")!);
  assert(parsed.isOk());
  assertEquals(parsed.value.map((c) => c.params["algorithm"]), ["MD5", "SHA-256"]);
});

Deno.test("parseWwwAuthenticate() accepts unquoted values that are not tokens", () => {
  assertEquals(
    challengeOf('Digest realm="r", nonce=YWJj/ZGVm+Zw==, opaque=FQhe/qaU925k, stale=TRUE').params,
    { realm: "r", nonce: "YWJj/ZGVm+Zw==", opaque: "FQhe/qaU925k", stale: "TRUE" },
  );
});

Deno.test("parseWwwAuthenticate() lower-cases parameter names and keeps the scheme", () => {
  const challenge = challengeOf('dIgEsT REALM="r", Nonce="n", QOP=auth');
  assertEquals(challenge.scheme, "dIgEsT");
  assertEquals(challenge.params, { realm: "r", nonce: "n", qop: "auth" });
  // The challenge is still answered: scheme and names are case-insensitive.
  const answered = digestAuthorization(challenge, {
    username: "u",
    password: "p",
    method: "GET",
    uri: "/",
    cnonce: "c",
    nc: 1,
  });
  assert(answered.isOk());
});

Deno.test("parseWwwAuthenticate() allows whitespace around = and empty list elements", () => {
  const parsed = parseWwwAuthenticate(' , Digest realm = "r" ,, nonce\t=\t"n" ,');
  assert(parsed.isOk());
  assertEquals(parsed.value, [{ scheme: "Digest", params: { realm: "r", nonce: "n" } }]);
});

Deno.test("parseWwwAuthenticate() treats a __proto__ parameter as plain data", () => {
  const challenge = challengeOf('Digest __proto__="x", realm="r"');
  assertEquals(Object.getPrototypeOf(challenge.params), Object.prototype);
  assertEquals(Object.keys(challenge.params), ["__proto__", "realm"]);
});

Deno.test("parseWwwAuthenticate() rejects malformed headers with a located reason", () => {
  const cases: [string, string][] = [
    ["", "no challenge found at offset 0"],
    ["  ,  ", "no challenge found"],
    ['Digest realm="open', "unterminated quoted string at offset 13"],
    ['Digest realm="a", realm="b"', 'parameter "realm" appears twice'],
    ['Digest realm="a" nonce="b"', 'unexpected character "n" at offset 17'],
    ['Digest nonce="n", realm=, qop=auth', 'parameter "realm" has no value'],
    // "realm=" alone reads as a token68 (RFC 7235 §2.1), so what follows is a stray scheme.
    ['Digest realm=, nonce="n"', 'unexpected character "=" after scheme "nonce"'],
    ['"Digest" realm="r"', "expected an authentication scheme at offset 0"],
    ['Digest realm="r"; nonce="n"', 'unexpected character ";"'],
  ];
  for (const [header, reason] of cases) {
    const parsed = parseWwwAuthenticate(header);
    assert(parsed.isErr(), header);
    assertEquals(parsed.error._tag, "MalformedResponse");
    assertEquals(parsed.error.status, 401);
    assertStringIncludes(parsed.error.message, "Cannot parse WWW-Authenticate header");
    assertStringIncludes(parsed.error.message, reason);
  }
});

Deno.test("digestAuthorization() does not throw on a user name with a lone surrogate", () => {
  const header = authorization('Digest realm="r", nonce="n", qop=auth', { username: "a\ud800b" });
  assert(header.startsWith(`Digest username*=UTF-8''a%EF%BF%BDb, `), header);
});
