// The pure HTTP/1.1 parsing of the server's front end (src/server/_http1_parse.ts): request heads
// and the chunked coding, fed whole and byte by byte.
import { assert, assertEquals } from "@std/assert";
import {
  ChunkedDecoder,
  findHeadEnd,
  type HeadError,
  isHeadError,
  parseRequestHead,
  type RequestHead,
  skipLeadingEmptyLines,
} from "../src/server/_http1_parse.ts";
import { latin1Bytes } from "./_raw_http.ts";

const LIMITS = { maxFields: 100 };
const CHUNK_LIMITS = { maxLineBytes: 64, maxExtensionBytes: 128, maxTrailerBytes: 256 };

function parse(text: string): RequestHead | HeadError {
  const bytes = latin1Bytes(text);
  const start = skipLeadingEmptyLines(bytes, 0, bytes.length);
  const end = findHeadEnd(bytes, start, bytes.length, start).end;
  assert(end !== -1, `no end of head in ${JSON.stringify(text)}`);
  return parseRequestHead(bytes, start, end, LIMITS);
}

function head(text: string): RequestHead {
  const parsed = parse(text);
  assert(!isHeadError(parsed), JSON.stringify(parsed));
  return parsed;
}

function status(text: string): number {
  const parsed = parse(text);
  return isHeadError(parsed) ? parsed.status : 0;
}

Deno.test("parseRequestHead() reads the request-line, fields, framing and persistence", () => {
  const parsed = head(
    "PUT /x?y=1 HTTP/1.1\r\nHost: example.com:8080\r\nContent-Length: 007\r\n" +
      "X-Multi:  a \t\r\nx-multi: b\r\nConnection: Keep-Alive, Close\r\nExpect: 100-Continue\r\n\r\n",
  );
  assertEquals(parsed, {
    method: "PUT",
    target: "/x?y=1",
    form: "origin",
    minor: 1,
    fields: [
      ["host", "example.com:8080"],
      ["content-length", "007"],
      ["x-multi", "a"],
      ["x-multi", "b"],
      ["connection", "Keep-Alive, Close"],
      ["expect", "100-Continue"],
    ],
    host: "example.com:8080",
    body: { kind: "length", length: 7 },
    keepAlive: false,
    expectContinue: true,
  });
  assertEquals(head("GET / HTTP/1.0\r\n\r\n").keepAlive, false);
  assertEquals(head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keepAlive, true);
  assertEquals(head("GET / HTTP/1.1\r\nHost: a\r\n\r\n").keepAlive, true);
  assertEquals(head("GET / HTTP/1.2\r\nHost: a\r\n\r\n").minor, 1);
  assertEquals(head("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n").body, {
    kind: "none",
  });
  assertEquals(head("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked \r\n\r\n").body, {
    kind: "chunked",
  });
  // HTTP/1.0 ignores Expect (RFC 9110 §10.1.1).
  assertEquals(head("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").expectContinue, false);
  assertEquals(head("GET http://h/p HTTP/1.1\r\nHost: a\r\n\r\n").form, "absolute");
  assertEquals(head("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").form, "asterisk");
  assertEquals(head("GET /\\..\\%2e HTTP/1.1\r\nHost: [::1]:80\r\n\r\n").target, "/\\..\\%2e");
  // obs-text in a value is kept, byte for character.
  assertEquals(head("GET / HTTP/1.1\r\nHost: a\r\nX: caf\xe9\r\n\r\n").fields[1], ["x", "caf\xe9"]);
  // Bare LF line ends (RFC 9112 §2.2 MAY).
  assertEquals(head("GET / HTTP/1.1\nHost: a\n\n").host, "a");
});

Deno.test("parseRequestHead() refuses what RFC 9112 makes an error, with the status to answer", () => {
  const cases: [string, number][] = [
    ["GET / HTTP/1.1\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nX(: b\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nX: a\x0bb\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400],
    ["GET / HTTP/1.1\rHost: a\r\n\r\n", 400],
    ["GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["GET /\xe9 HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["GET x HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400],
    ["GET / http/1.1\r\nHost: a\r\n\r\n", 400],
    ["GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400],
    ["G@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["GET / HTTP/0.9\r\n\r\n", 505],
    ["PRI * HTTP/2.0\r\n\r\n", 505],
    ["Get / HTTP/1.1\r\nHost: a\r\n\r\n", 501],
    ["TRACE / HTTP/1.1\r\nHost: a\r\n\r\n", 501],
    ["POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400],
    ["POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 400],
    ["POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1,1\r\n\r\n", 400],
    ["POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1e3\r\n\r\n", 400],
    ["POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400],
    ["POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12345678901234567\r\n\r\n", 400],
    ["POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n", 400],
    ["POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 400],
    ["POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0bchunked\r\n\r\n", 400],
    ["POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: deflate, chunked\r\n\r\n", 501],
    ["POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, later\r\n\r\n", 417],
    [`GET / HTTP/1.1\r\nHost: a\r\n${"X: 1\r\n".repeat(100)}\r\n`, 431],
  ];
  for (const [text, expected] of cases) {
    assertEquals(status(text), expected, JSON.stringify(text));
  }
  assertEquals(status(`GET / HTTP/1.1\r\nHost: a\r\n${"X: 1\r\n".repeat(99)}\r\n`), 0);
});

Deno.test("findHeadEnd() finds the empty line however the bytes arrive", () => {
  const texts = [
    "GET / HTTP/1.1\r\nHost: a\r\n\r\nbody",
    "GET / HTTP/1.1\nHost: a\n\nbody",
    "GET / HTTP/1.1\r\nHost: a\n\r\nbody",
    "GET / HTTP/1.1\r\n\r\n",
  ];
  for (const text of texts) {
    const bytes = latin1Bytes(text);
    const expected = findHeadEnd(bytes, 0, bytes.length, 0).end;
    assert(expected > 0);
    // Byte by byte, resuming where the last scan stopped.
    let resume = 0;
    let found = -1;
    for (let end = 1; end <= bytes.length && found === -1; end++) {
      const step = findHeadEnd(bytes, 0, end, resume);
      found = step.end;
      resume = step.resume;
    }
    assertEquals(found, expected, JSON.stringify(text));
  }
  assertEquals(findHeadEnd(latin1Bytes("GET / HTTP/1.1\r\nHost: a\r\n"), 0, 25, 0).end, -1);
  assertEquals(skipLeadingEmptyLines(latin1Bytes("\r\n\n\r\nGET"), 0, 8), 5);
  assertEquals(skipLeadingEmptyLines(latin1Bytes("\r"), 0, 1), 0);
});

/** Decode `text` fed `step` bytes at a time; the data, or the framing error. */
function decodeChunked(
  text: string,
  step: number,
): { data: string; done: boolean; error?: string } {
  const bytes = latin1Bytes(text);
  const decoder = new ChunkedDecoder(CHUNK_LIMITS);
  let start = 0;
  let data = "";
  for (let end = Math.min(step, bytes.length);; end = Math.min(end + step, bytes.length)) {
    const progress = decoder.decode(bytes, start, end, 1 << 20);
    data += String.fromCharCode(...bytes.subarray(start, start + progress.data));
    start += progress.consumed;
    if (progress.error !== undefined) return { data, done: false, error: progress.error };
    if (progress.done || end === bytes.length) return { data, done: progress.done };
  }
}

Deno.test("ChunkedDecoder decodes chunks, extensions and trailers at any split", () => {
  const body = '5;a=b;c="d \\" e"\r\nhello\r\n1 ; x\r\n,\r\n6\r\n world\r\n000\r\nT: v\r\n\r\n';
  for (const step of [1, 2, 3, 7, body.length]) {
    assertEquals(decodeChunked(body, step), { data: "hello, world", done: true }, `step ${step}`);
  }
  // Bare size lines (read without strings) and longer ones (read by the general path) agree.
  const sizes = "A\r\n0123456789\r\n0000000000005\r\nhello\r\n00000000000005\r\nworld\r\n" +
    "0000000000000\r\n\r\n";
  for (const step of [1, 2, 5, sizes.length]) {
    assertEquals(
      decodeChunked(sizes, step),
      { data: "0123456789helloworld", done: true },
      `step ${step}`,
    );
  }
  // Bytes after the body are left alone.
  const decoder = new ChunkedDecoder(CHUNK_LIMITS);
  const bytes = latin1Bytes("1\r\na\r\n0\r\n\r\nGET /");
  const progress = decoder.decode(bytes, 0, bytes.length, 1 << 20);
  assertEquals(progress.consumed, bytes.length - 5);
  assert(progress.done && decoder.done);
  // maxData stops inside a chunk and resumes there.
  const limited = new ChunkedDecoder(CHUNK_LIMITS);
  const long = latin1Bytes("a\r\n0123456789\r\n0\r\n\r\n");
  const first = limited.decode(long, 0, long.length, 4);
  assertEquals([first.data, first.consumed], [4, 7]);
  assertEquals(new TextDecoder().decode(long.subarray(0, 4)), "0123");
  const rest = limited.decode(long, first.consumed, long.length, 1 << 20);
  assertEquals(rest.data, 6);
  assertEquals(new TextDecoder().decode(long.subarray(7, 13)), "456789");
  assert(rest.done);
});

Deno.test("ChunkedDecoder refuses broken framing: bare LF, bad sizes, bad extensions, limits", () => {
  const broken: string[] = [
    "5\nhello\r\n0\r\n\r\n",
    "5\r\nhello\n0\r\n\r\n",
    "5\r\nhelloXY0\r\n\r\n",
    "5 \r\nhello\r\n0\r\n\r\n",
    " 5\r\nhello\r\n0\r\n\r\n",
    "+5\r\nhello\r\n0\r\n\r\n",
    "0x5\r\nhello\r\n0\r\n\r\n",
    "5_0\r\nhello\r\n0\r\n\r\n",
    "\r\nhello\r\n0\r\n\r\n",
    "5;\r\nhello\r\n0\r\n\r\n",
    '5;a="open\r\nhello\r\n0\r\n\r\n',
    "5;a\rb\r\nhello\r\n0\r\n\r\n",
    "fffffffffffffffff\r\n",
    `5;${"x".repeat(70)}\r\nhello\r\n0\r\n\r\n`,
    "0\r\nno colon\r\n\r\n",
    "0\r\nT: v\n\r\n",
    `0\r\n${"T: v\r\n".repeat(60)}\r\n`,
    "1;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\na\r\n".repeat(3) + "0\r\n\r\n",
  ];
  for (const text of broken) {
    for (const step of [1, text.length]) {
      const result = decodeChunked(text, step);
      assert(result.error !== undefined, `${JSON.stringify(text)} at step ${step}: accepted`);
      assert(!result.done);
    }
  }
  // Incomplete is not broken: it waits for more.
  assertEquals(decodeChunked("5\r\nhel", 3), { data: "hel", done: false });
});
