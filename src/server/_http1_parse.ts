// deno-lint-ignore-file no-control-regex -- the protocol's rules are about control characters
/**
 * HTTP/1.1 request parsing for the embedded server's front end (`http1.ts`): the request head
 * (RFC 9112 §2–§5) and the chunked transfer coding (RFC 9112 §7.1), strict and bounded.
 *
 * No I/O: functions over bytes, as h11 does. Runtime-agnostic (Web APIs only).
 *
 * Leniencies (each where deployed clients send it and it is unambiguous):
 * - A bare LF ends a line of the head (RFC 9112 §2.2 allows it: "a recipient MAY recognize a
 *   single LF as a line terminator and ignore any preceding CR"); hyper, behind `Deno.serve`,
 *   accepts it too. In chunked framing only CRLF is accepted: disagreement about line ends there
 *   is what request smuggling through a proxy is built from.
 * - Empty lines before the request-line are skipped (RFC 9112 §2.2: a server "SHOULD ignore at
 *   least one empty line (CRLF) received prior to the request-line").
 * - The request-target may hold any visible ASCII character, also those RFC 3986 does not allow
 *   unencoded (`\`, `"`, `{`, `|`, ...), as hyper does; the handler sees it raw. A fragment (`#`),
 *   controls, spaces and non-ASCII bytes are refused.
 * - HTTP/1.2 and later minor versions are served as HTTP/1.1 (RFC 9110 §2.5).
 *
 * @module
 */

/** The largest Content-Length or chunk size accepted: a safe integer. */
const MAX_LENGTH = Number.MAX_SAFE_INTEGER;

/** A request head that parsed (RFC 9112 §2.1: start-line, field lines, empty line). */
export interface RequestHead {
  /** The method, case kept (RFC 9110 §9.1: methods are case-sensitive). */
  readonly method: string;
  /** The request-target as sent. */
  readonly target: string;
  /** Which form the target has (RFC 9112 §3.2). */
  readonly form: "origin" | "absolute" | "asterisk";
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 (and later 1.x). */
  readonly minor: 0 | 1;
  /** Field lines in order: lower-cased names, values without surrounding whitespace. */
  readonly fields: [string, string][];
  /** The Host field value, when there is exactly one. */
  readonly host: string | undefined;
  /** How the body is framed (RFC 9112 §6.3): none, Content-Length bytes, or chunked. */
  readonly body:
    | { readonly kind: "none" }
    | { readonly kind: "length"; readonly length: number }
    | {
      readonly kind: "chunked";
    };
  /** Whether the connection may stay open after the response (RFC 9112 §9.3). */
  readonly keepAlive: boolean;
  /** `Expect: 100-continue` on an HTTP/1.1 request (RFC 9110 §10.1.1). */
  readonly expectContinue: boolean;
}

/** Why a head was refused: the status to answer with, and a message for the body. */
export interface HeadError {
  /** 400, 414, 417, 431, 501 or 505. */
  readonly status: number;
  /** What was wrong, e.g. `Bad request: obs-fold (a field line starting with whitespace)`. */
  readonly message: string;
}

/** Limits of {@linkcode parseRequestHead}. */
export interface HeadLimits {
  /** At most this many field lines. */
  readonly maxFields: number;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([^ ]+) HTTP\/(\d)\.(\d)$/;
const VERSION_ONLY = /^[^ ]+ [^ ]+ HTTP\/(\d)\.(\d)$/;
/** Visible ASCII except `#` (RFC 9112 §3.2: the target has no fragment). */
const TARGET = /^[\x21\x22\x24-\x7e]+$/;
/** RFC 9110 §5.5: field-value octets are VCHAR, obs-text, SP and HTAB. */
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
/** RFC 9110 §7.2: `Host = uri-host [ ":" port ]`; RFC 3986 §3.2.2 hosts, no userinfo. */
const HOST =
  /^(?:\[[0-9A-Fa-f:.]+\]|\[v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::\d*)?$/;
/** Fetch normalises these methods to upper case; any other case is another (unknown) method. */
const NORMALIZED_METHOD = /^(?:delete|get|head|options|post|put)$/i;
/** Methods `new Request()` refuses (Fetch "forbidden methods"). */
const FORBIDDEN_METHOD = /^(?:CONNECT|TRACE|TRACK)$/i;

function fail(status: number, message: string): HeadError {
  return { status, message };
}

/**
 * Decode bytes one to one into characters (Latin-1), as Fetch's ByteString headers expect.
 *
 * @param bytes The bytes.
 * @param from First index.
 * @param to Index after the last.
 * @returns The text.
 */
export function latin1(bytes: Uint8Array, from: number, to: number): string {
  let text = "";
  for (let at = from; at < to; at += 4096) {
    text += String.fromCharCode.apply(
      null,
      bytes.subarray(at, Math.min(to, at + 4096)) as unknown as number[],
    );
  }
  return text;
}

const ASCII = new TextDecoder();

/** Latin-1 decoding with a native fast path for ASCII (the usual head). */
function decodeHead(bytes: Uint8Array, from: number, to: number): string {
  const text = ASCII.decode(bytes.subarray(from, to));
  return /[^\x00-\x7f]/.test(text) ? latin1(bytes, from, to) : text;
}

/**
 * Skip the empty lines a client may send before a request-line (RFC 9112 §2.2).
 *
 * @param bytes The buffer.
 * @param start Where unread data starts.
 * @param end Where it ends.
 * @returns The index of the first byte that is not part of a leading CRLF or LF.
 */
export function skipLeadingEmptyLines(bytes: Uint8Array, start: number, end: number): number {
  let at = start;
  for (;;) {
    if (at < end && bytes[at] === 10) at += 1;
    else if (at + 1 < end && bytes[at] === 13 && bytes[at + 1] === 10) at += 2;
    else return at;
  }
}

/**
 * Find the end of a request head: the empty line after the field lines.
 *
 * @param bytes The buffer.
 * @param start Where the head starts.
 * @param end Where the received data ends.
 * @param from Where to resume scanning (a previous call's `resume`, or `start`).
 * @returns `end`: the index after the empty line (or -1 when not received yet), and `resume`.
 */
export function findHeadEnd(
  bytes: Uint8Array,
  start: number,
  end: number,
  from: number,
): { end: number; resume: number } {
  let lf = bytes.indexOf(10, Math.max(start, from));
  while (lf !== -1 && lf < end) {
    const next = lf + 1;
    if (next >= end) return { end: -1, resume: lf };
    const b = bytes[next];
    if (b === 10) return { end: next + 1, resume: next };
    if (b === 13) {
      if (next + 1 >= end) return { end: -1, resume: lf };
      if (bytes[next + 1] === 10) return { end: next + 2, resume: next };
    }
    lf = bytes.indexOf(10, next);
  }
  return { end: -1, resume: end };
}

/**
 * Parse a complete request head: request-line, field lines, final empty line.
 *
 * @param bytes The buffer.
 * @param start Where the head starts (after skipped empty lines).
 * @param end The index after the head's empty line ({@linkcode findHeadEnd}).
 * @param limits How many field lines are allowed.
 * @returns The head, or the error status and message to answer with (always followed by
 * closing the connection).
 */
export function parseRequestHead(
  bytes: Uint8Array,
  start: number,
  end: number,
  limits: HeadLimits,
): RequestHead | HeadError {
  const text = decodeHead(bytes, start, end);
  // Lines end in LF; a CR right before it belongs to the terminator (RFC 9112 §2.2).
  const lines = text.split("\n");
  // The head ends with an empty line, so the last two elements are "" (or "\r") and "".
  lines.length -= 2;
  const requestLine = stripCr(lines[0] ?? "");
  const match = REQUEST_LINE.exec(requestLine);
  if (match === null) {
    const version = VERSION_ONLY.exec(requestLine);
    if (version !== null && version[1] !== "1") {
      return fail(505, `HTTP version not supported: HTTP/${version[1]}.${version[2]}`);
    }
    if (/[\r\x00]/.test(requestLine)) {
      return fail(400, "Bad request: a control character in the request-line");
    }
    return fail(
      400,
      "Bad request: the request-line is not METHOD SP request-target SP HTTP/1.x",
    );
  }
  const method = match[1]!;
  const target = match[2]!;
  if (match[3] !== "1") {
    return fail(505, `HTTP version not supported: HTTP/${match[3]}.${match[4]}`);
  }
  const minor: 0 | 1 = match[4] === "0" ? 0 : 1;
  if (
    FORBIDDEN_METHOD.test(method) ||
    (NORMALIZED_METHOD.test(method) && method !== method.toUpperCase())
  ) {
    return fail(501, `Not implemented: method ${method}`);
  }
  if (!TARGET.test(target)) {
    return fail(
      400,
      "Bad request: the request-target holds a space, control, '#' or non-ASCII byte",
    );
  }
  let form: RequestHead["form"];
  if (target.charCodeAt(0) === 47 /* "/" */) form = "origin";
  else if (/^https?:\/\//i.test(target)) form = "absolute";
  else if (target === "*" && method === "OPTIONS") form = "asterisk";
  else return fail(400, "Bad request: the request-target is not origin-form or absolute-form");

  if (lines.length - 1 > limits.maxFields) {
    return fail(431, `Request header fields too large: more than ${limits.maxFields} field lines`);
  }
  const fields: [string, string][] = [];
  let host: string | undefined;
  let hosts = 0;
  let contentLength: string | undefined;
  let lengths = 0;
  let transferEncoding: string | undefined;
  let close = false;
  let keepAliveOption = false;
  let expect: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = stripCr(lines[i]!);
    const first = line.charCodeAt(0);
    if (first === 32 || first === 9) {
      // RFC 9112 §5.2: obs-fold in a request is refused (or replaced); §2.2: whitespace before
      // the first field line likewise.
      return fail(400, "Bad request: obs-fold (a field line starting with whitespace)");
    }
    const colon = line.indexOf(":");
    if (colon <= 0) return fail(400, "Bad request: a field line without a field name and colon");
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) {
      // RFC 9112 §5.1: no whitespace between the field name and the colon (MUST 400).
      return fail(400, `Bad request: invalid field name ${JSON.stringify(name.slice(0, 64))}`);
    }
    const value = trimOws(line.slice(colon + 1));
    if (BAD_VALUE.test(value)) {
      // RFC 9110 §5.5: CR, LF and NUL are invalid and dangerous; so are the other controls.
      return fail(400, `Bad request: a control character in the ${name} field`);
    }
    const lower = name.toLowerCase();
    fields.push([lower, value]);
    switch (lower) {
      case "host":
        hosts++;
        host = value;
        break;
      case "content-length":
        lengths++;
        contentLength = value;
        break;
      case "transfer-encoding":
        transferEncoding = transferEncoding === undefined ? value : `${transferEncoding},${value}`;
        break;
      case "connection":
        for (const option of value.split(",")) {
          const o = trimOws(option).toLowerCase();
          if (o === "close") close = true;
          else if (o === "keep-alive") keepAliveOption = true;
        }
        break;
      case "expect":
        expect = expect === undefined ? value : `${expect},${value}`;
        break;
    }
  }

  // RFC 9112 §3.2: exactly one valid Host on HTTP/1.1 (MUST 400 otherwise).
  if (hosts > 1) return fail(400, "Bad request: more than one Host field");
  if (minor === 1 && hosts === 0) return fail(400, "Bad request: an HTTP/1.1 request without Host");
  if (host !== undefined && !HOST.test(host)) {
    return fail(400, "Bad request: the Host field is not host[:port]");
  }

  let body: RequestHead["body"] = { kind: "none" };
  if (transferEncoding !== undefined) {
    // RFC 9112 §6.1: Transfer-Encoding on HTTP/1.0 means faulty framing.
    if (minor === 0) return fail(400, "Bad request: Transfer-Encoding in an HTTP/1.0 request");
    // RFC 9112 §6.3 (3): both Transfer-Encoding and Content-Length "ought to be handled as an
    // error"; a server MAY reject it and MUST close the connection. Refused: no smuggling.
    if (lengths > 0) return fail(400, "Bad request: both Transfer-Encoding and Content-Length");
    const codings = transferEncoding.split(",").map((c) => trimOws(c).toLowerCase());
    const chunked = codings.filter((c) => c === "chunked").length;
    if (codings.some((c) => c === "") || codings[codings.length - 1] !== "chunked" || chunked > 1) {
      // RFC 9112 §6.3 (4): chunked not final means the length cannot be determined (MUST 400);
      // RFC 9112 §7: chunked is never applied twice. Empty list members are refused too.
      return fail(400, "Bad request: Transfer-Encoding must end in chunked, once");
    }
    if (codings.length > 1) {
      // RFC 9112 §6.1: a transfer coding the server does not understand: 501.
      return fail(501, `Not implemented: transfer coding ${codings.slice(0, -1).join(", ")}`);
    }
    body = { kind: "chunked" };
  } else if (contentLength !== undefined) {
    // RFC 9112 §6.3 (5): an invalid Content-Length is an unrecoverable error (MUST 400); a
    // repeated one (even with equal values, RFC 9110 §8.6 allows refusing it) too.
    if (lengths > 1 || !/^\d{1,16}$/.test(contentLength)) {
      return fail(400, "Bad request: invalid or repeated Content-Length");
    }
    const length = Number(contentLength);
    if (length > MAX_LENGTH) return fail(400, "Bad request: Content-Length too large");
    if (length > 0) body = { kind: "length", length };
  }

  let expectContinue = false;
  if (expect !== undefined && minor === 1) {
    // RFC 9110 §10.1.1: an HTTP/1.0 request's expectation is ignored; 100-continue is the only
    // one defined, any other MAY be answered with 417.
    const members = expect.split(",").map((e) => trimOws(e).toLowerCase()).filter((e) => e !== "");
    for (const member of members) {
      if (member !== "100-continue") {
        return fail(417, `Expectation failed: only 100-continue is supported`);
      }
    }
    expectContinue = members.length > 0;
  }

  // RFC 9112 §9.3: close wins; HTTP/1.1 persists; HTTP/1.0 only with keep-alive.
  const keepAlive = !close && (minor === 1 || keepAliveOption);
  return { method, target, form, minor, fields, host, body, keepAlive, expectContinue };
}

function stripCr(line: string): string {
  return line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
}

function trimOws(value: string): string {
  let from = 0;
  let to = value.length;
  while (from < to && (value.charCodeAt(from) === 32 || value.charCodeAt(from) === 9)) from++;
  while (to > from && (value.charCodeAt(to - 1) === 32 || value.charCodeAt(to - 1) === 9)) to--;
  return from === 0 && to === value.length ? value : value.slice(from, to);
}

/**
 * Whether a value is an error from {@linkcode parseRequestHead}.
 *
 * @param value A result of {@linkcode parseRequestHead}.
 * @returns `true` for a {@linkcode HeadError}.
 */
export function isHeadError(value: RequestHead | HeadError): value is HeadError {
  return "status" in value;
}

// ---------------------------------------------------------------------------------------------
// Chunked transfer coding (RFC 9112 §7.1)
// ---------------------------------------------------------------------------------------------

/** Limits of a {@linkcode ChunkedDecoder}. */
export interface ChunkedLimits {
  /** Longest chunk-size line (size and extensions), without its CRLF. */
  readonly maxLineBytes: number;
  /** All chunk extensions of one body together (extensions carry no data but cost reading). */
  readonly maxExtensionBytes: number;
  /** All trailer field lines together. */
  readonly maxTrailerBytes: number;
}

/** What one {@linkcode ChunkedDecoder.decode} call found. */
export interface ChunkedProgress {
  /** Bytes consumed from `start`. */
  consumed: number;
  /**
   * Data bytes found. They are moved to the front of what was read: `bytes[start, start + data)`
   * (the framing between chunks is overwritten, in place, so a body of tiny chunks costs no
   * list of pieces).
   */
  data: number;
  /** The last chunk and the trailer section were read: the body is complete. */
  done: boolean;
  /** Why the framing is broken, when it is (the connection must close). */
  error: string | undefined;
}

/** Where a {@linkcode ChunkedDecoder} is: a size line, data, the CRLF after data, trailers. */
const ChunkState = { Size: 0, Data: 1, DataEnd: 2, Trailer: 3, Done: 4 } as const;

/**
 * `chunk-size [ chunk-ext ]` (RFC 9112 §7.1.1): `chunk-ext = *( BWS ";" BWS chunk-ext-name
 * [ BWS "=" BWS chunk-ext-val ] )`, names tokens, values tokens or quoted strings.
 */
const CHUNK_LINE =
  /^([0-9A-Fa-f]+)((?:[ \t]*;[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*=[ \t]*(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+|"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"))?)*)$/;
const TRAILER_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\x00-\x08\x0a-\x1f\x7f]*$/;

/**
 * The size on a chunk-size line that is only hex digits and CRLF, complete in `bytes`; -1 when
 * the line is anything else (extensions, more than 13 digits, not yet whole, broken), which the
 * general path reads.
 */
function plainChunkSize(bytes: Uint8Array, start: number, end: number): number {
  let size = 0;
  let at = start;
  for (; at < end && at - start < 14; at++) {
    const b = bytes[at]!;
    const digit = b >= 48 && b <= 57
      ? b - 48
      : b >= 65 && b <= 70
      ? b - 55
      : b >= 97 && b <= 102
      ? b - 87
      : -1;
    if (digit === -1) break;
    size = size * 16 + digit;
  }
  const digits = at - start;
  if (digits === 0 || digits > 13 || end - at < 2) return -1;
  return bytes[at] === 13 && bytes[at + 1] === 10 ? size : -1;
}

/**
 * An incremental decoder of the chunked transfer coding. Only CRLF ends its lines; chunk sizes,
 * extensions and trailers are bounded; trailer fields are checked and discarded (RFC 9112
 * §7.1.2 allows discarding them).
 */
export class ChunkedDecoder {
  #state: number = ChunkState.Size;
  #remaining = 0;
  #extensionBytes = 0;
  #trailerBytes = 0;
  readonly #limits: ChunkedLimits;

  /** @param limits Line, extension and trailer bounds. */
  constructor(limits: ChunkedLimits) {
    this.#limits = limits;
  }

  /** Whether the whole body has been decoded. */
  get done(): boolean {
    return this.#state === ChunkState.Done;
  }

  /**
   * Decode what the buffer holds.
   *
   * @param bytes The buffer.
   * @param start Where unread data starts.
   * @param end Where it ends.
   * @param maxData Stop after this many data bytes.
   * @returns How far it got: bytes consumed, data bytes (moved to `start`), done, or the framing
   * error.
   */
  decode(bytes: Uint8Array, start: number, end: number, maxData: number): ChunkedProgress {
    const progress: ChunkedProgress = { consumed: 0, data: 0, done: false, error: undefined };
    let at = start;
    let data = 0;
    while (at < end && this.#state !== ChunkState.Done) {
      if (this.#state === ChunkState.Data) {
        if (data >= maxData) break;
        const take = Math.min(this.#remaining, end - at, maxData - data);
        // The write position never passes the read position: framing only ever is removed.
        if (start + data !== at) bytes.copyWithin(start + data, at, at + take);
        at += take;
        data += take;
        this.#remaining -= take;
        if (this.#remaining === 0) this.#state = ChunkState.DataEnd;
        continue;
      }
      if (this.#state === ChunkState.DataEnd) {
        if (end - at < 2) break;
        if (bytes[at] !== 13 || bytes[at + 1] !== 10) {
          progress.error = "chunk data not followed by CRLF";
          break;
        }
        at += 2;
        this.#state = ChunkState.Size;
        continue;
      }
      if (this.#state === ChunkState.Size) {
        // The common line, bare hex digits and CRLF, read without making strings: a body of
        // one-byte chunks would otherwise leave a string, a match and a replacement per byte for
        // the collector (1 MiB of such chunks grew peak RSS by 17 MB, tests/soak/memory_soak.ts).
        const size = plainChunkSize(bytes, at, end);
        if (size >= 0) {
          at = bytes.indexOf(10, at) + 1;
          if (size === 0) {
            this.#state = ChunkState.Trailer;
          } else {
            this.#remaining = size;
            this.#state = ChunkState.Data;
          }
          continue;
        }
      }
      // A line: the chunk-size line or a trailer line.
      const limit = this.#state === ChunkState.Size
        ? this.#limits.maxLineBytes
        : this.#limits.maxTrailerBytes - this.#trailerBytes;
      const lf = bytes.subarray(at, Math.min(end, at + limit + 2)).indexOf(10);
      if (lf === -1) {
        if (end - at >= limit + 2) {
          progress.error = this.#state === ChunkState.Size
            ? "chunk-size line too long"
            : "trailer section too large";
        }
        break;
      }
      if (lf === 0 || bytes[at + lf - 1] !== 13) {
        progress.error = "a chunked line not ended by CRLF";
        break;
      }
      const line = latin1(bytes, at, at + lf - 1);
      if (line.includes("\r")) {
        progress.error = "a bare CR in chunked framing";
        break;
      }
      at += lf + 1;
      if (this.#state === ChunkState.Size) {
        const match = CHUNK_LINE.exec(line);
        if (match === null) {
          progress.error = "invalid chunk-size line";
          break;
        }
        const digits = match[1]!.replace(/^0+(?=.)/, "");
        this.#extensionBytes += match[2]!.length;
        if (this.#extensionBytes > this.#limits.maxExtensionBytes) {
          progress.error = "chunk extensions too large";
          break;
        }
        const size = digits.length > 13 ? Infinity : parseInt(digits, 16);
        if (!(size <= MAX_LENGTH)) {
          progress.error = "chunk size too large";
          break;
        }
        if (size === 0) {
          this.#state = ChunkState.Trailer;
        } else {
          this.#remaining = size;
          this.#state = ChunkState.Data;
        }
      } else {
        this.#trailerBytes += lf + 1;
        if (line === "") {
          this.#state = ChunkState.Done;
        } else if (!TRAILER_LINE.test(line)) {
          progress.error = "invalid trailer field line";
          break;
        }
      }
    }
    progress.consumed = at - start;
    progress.data = data;
    progress.done = this.#state === ChunkState.Done;
    return progress;
  }
}
