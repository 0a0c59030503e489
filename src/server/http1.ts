/**
 * A hardened HTTP/1.1 server on `Deno.listen` for a fetch handler: what {@linkcode
 * startXcapServer} and `deno task serve` run on.
 *
 * Deno-specific edge file (`Deno.listen`, `/proc/self/limits`). `Deno.serve` has no connection
 * limit and no header or idle timeout, and when `accept()` fails (EMFILE) its accept loop ends
 * with an uncatchable rejection that exits the process. This server:
 *
 * - accepts at most `maxConnections` connections (default: the process's open-file soft limit
 *   minus a reserve) and sheds the rest with a minimal 503; an `accept()` error never ends the
 *   accept loop or the process: it backs off (10 ms doubling to 1 s) and accepts again. When the
 *   limit cannot be read (Deno allows reading `/proc/self/limits` only with `--allow-all`), the
 *   server learns it: at the first "too many open files" it lowers its connection limit below
 *   the connections it holds, and frees a few descriptors it kept in reserve (opened on
 *   `/dev/null`) so that it can shed the waiting connections at once;
 * - closes connections whose request head does not arrive within `headerTimeoutMs`, that sit idle
 *   between requests past `keepAliveTimeoutMs`, or whose request body or response stops moving
 *   for `bodyTimeoutMs`;
 * - parses requests strictly and within bounds (`_http1_parse.ts`): 431 for a head over
 *   `maxHeadBytes`, 400 and close for anything that could frame a body two ways;
 * - hands the body to the handler as a `ReadableStream` with backpressure: each chunk is a compact
 *   copy (never a view into the connection's read buffer), read from the socket when the handler
 *   asks (`Expect: 100-continue` is answered then), at most 64 KiB ahead of it; an unread body is
 *   drained up to 256 KiB after the response, or the connection is closed;
 * - aborts `request.signal` when the connection is gone (closed or reset by the client, or by a
 *   timeout or the shutdown) before the response is written: while the handler runs, one read
 *   stays pending to notice it;
 * - shuts down gracefully: {@linkcode Http1Server.shutdown} stops accepting, closes idle
 *   connections at once, lets requests in flight finish until a deadline, then closes the rest.
 *
 * Requests reach the handler with `request.url` exactly as sent (`http://` + Host + the raw
 * request-target, or the absolute-form target), as `Deno.serve` hands them over: the handler
 * decides how to read `..` or `\`.
 *
 * @module
 */
// @ts-types="npm:neverthrow@^8.2.0/dist/index.d.ts"
import { err, ok, type Result } from "npm:neverthrow@^8.2.0/dist/index.es.js";
import { STATUS_TEXT } from "jsr:@std/http@^1.0.21/status";
import {
  ChunkedDecoder,
  findHeadEnd,
  type HeadError,
  isHeadError,
  parseRequestHead,
  type RequestHead,
  skipLeadingEmptyLines,
} from "./_http1_parse.ts";
import { staticBody, staticResponse } from "./_response.ts";

/** Options of {@linkcode serveHttp1}. */
export interface Http1ServerOptions {
  /** The address to listen on. @default "127.0.0.1" */
  readonly hostname?: string;
  /** The port; `0` picks a free one. @default 0 */
  readonly port?: number;
  /**
   * Connections served at once; past it, new connections get a 503 and are closed. Lowered by
   * itself when `accept()` runs out of descriptors. @default the open-file soft limit
   * (`/proc/self/limits`, readable with `--allow-all`) minus a reserve of a tenth (at least 64)
   * for the store, files and the runtime, at most 32,768; 32,768 when the limit cannot be read
   */
  readonly maxConnections?: number;
  /**
   * The whole request head must arrive within this many milliseconds, counted from the
   * connection's start or the end of the previous response. @default 30000 (hyper's header read
   * timeout; nginx allows 60 s, Node.js 60 s)
   */
  readonly headerTimeoutMs?: number;
  /**
   * An idle connection between requests is closed after this many milliseconds. @default 5000
   * (Node.js's default)
   */
  readonly keepAliveTimeoutMs?: number;
  /**
   * A request body or a response that makes no progress for this many milliseconds closes the
   * connection. @default 30000 (nginx's `client_body_timeout` and `send_timeout` are 60 s)
   */
  readonly bodyTimeoutMs?: number;
  /** The largest request head (request-line and fields) in bytes; larger is 431. @default 32768 */
  readonly maxHeadBytes?: number;
  /** Called with what the handler throws (answered 500) and with failing `accept()` calls. */
  readonly onError?: (error: unknown) => void;
}

/** A running {@linkcode serveHttp1} server. */
export interface Http1Server {
  /** The address listened on (with the port picked, when `0` was asked for). */
  readonly addr: Deno.NetAddr;
  /** The connection limit in force (the configured one, or lower once learned from EMFILE). */
  readonly maxConnections: number;
  /** Connections open now (shed ones not counted). */
  readonly connections: number;
  /**
   * Stop accepting, close idle connections at once, let requests in flight finish (their
   * responses carry `Connection: close`) for up to `deadlineMs`, then close what is left.
   * Idempotent: later calls return the first call's promise.
   *
   * @param deadlineMs How long requests in flight may take.
   * @returns Resolves when every connection is closed.
   */
  shutdown(deadlineMs: number): Promise<void>;
}

/** {@linkcode serveHttp1} could not listen (address in use, no permission). */
export interface Http1ListenError {
  /** Discriminant. */
  readonly _tag: "Listen";
  /** What failed, e.g. `Cannot listen on 127.0.0.1:80: Permission denied`. */
  readonly message: string;
  /** The error `Deno.listen` threw. */
  readonly cause: unknown;
}

const DEFAULT_HEADER_TIMEOUT_MS = 30_000;
const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;
const DEFAULT_BODY_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_HEAD_BYTES = 32 * 1024;
const MAX_DEFAULT_CONNECTIONS = 32_768;
/** Descriptors kept open on `/dev/null` and given back when `accept()` runs out of them. */
const SPARE_FDS = 16;
const MAX_FIELDS = 100;
/** 503 answers to shed connections in flight at once (each holds a descriptor meanwhile). */
const MAX_SHEDDING = 16;
/** At shutdown, idle connections are closed after this pause (requests already sent get read). */
const IDLE_GRACE_MS = 50;
/** After shedding this many connections in a row, pause accepting... */
const SHED_BURST = 10;
/** ...until a connection closes, or this long (so at most 1,000 sheds a second). */
const SHED_PAUSE_MS = 10;
/** A connection's read buffer while it waits for a request: small, so idle ones cost little. */
const IDLE_BUFFER_BYTES = 4 * 1024;
/** The read buffer grows to this while a body streams in fast. */
const MAX_READ_BUFFER_BYTES = 64 * 1024;
/** An unread request body is drained up to this much after the response, else closed. */
const DRAIN_BYTES = 256 * 1024;
/** After an error response, what the client still sends is read and dropped this long... */
const LINGER_MS = 2_000;
/** ...or up to this much, so that closing does not reset the connection under the response. */
const LINGER_BYTES = 1024 * 1024;

const ENCODER = new TextEncoder();
const CONTINUE = ENCODER.encode("HTTP/1.1 100 Continue\r\n\r\n");
const SHED = ENCODER.encode(
  "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nretry-after: 1\r\n" +
    "connection: close\r\n\r\n",
);
const EMPTY = new Uint8Array(0);
/** A body up to this size goes out in the same write as the head (copied behind it). */
const COPY_BODY_BYTES = 256 * 1024;

let dateSecond = -1;
let dateText = "";

/** IMF-fixdate of now (RFC 9110 §5.6.7), computed once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** The head (Latin-1, as Fetch's ByteString header values are) followed by `body`, in one array. */
function encodeMessage(head: string, body: Uint8Array = EMPTY): Uint8Array {
  const out = new Uint8Array(head.length + body.length);
  // deno-lint-ignore no-control-regex
  if (/[^\x00-\x7f]/.test(head)) {
    for (let i = 0; i < head.length; i++) out[i] = head.charCodeAt(i);
  } else {
    ENCODER.encodeInto(head, out);
  }
  if (body.length > 0) out.set(body, head.length);
  return out;
}

/**
 * The soft limit of open files of this process, from `/proc/self/limits` (Linux), when it can be
 * read without asking for a permission.
 */
function openFileLimit(): number | undefined {
  try {
    const path = "/proc/self/limits";
    if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return undefined;
    const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(Deno.readTextFileSync(path));
    if (match === null) return undefined;
    return match[1] === "unlimited" ? Infinity : Number(match[1]);
  } catch {
    return undefined;
  }
}

/**
 * The default connection limit of {@linkcode serveHttp1}: the open-file soft limit (read from
 * `/proc/self/limits` when the read permission is granted) less a reserve of a tenth of it (at
 * least 64 descriptors) for the runtime, the store's files and whatever else the process opens;
 * at most 32,768, and 32,768 where the limit cannot be read (the server then learns it at the
 * first EMFILE, see {@linkcode serveHttp1}).
 *
 * @returns The limit (at least 1).
 *
 * @example Usage
 * ```ts
 * import { defaultMaxConnections } from "./http1.ts";
 * import { assert } from "@std/assert";
 *
 * const limit = defaultMaxConnections();
 * assert(limit >= 1 && limit <= 32_768);
 * ```
 */
export function defaultMaxConnections(): number {
  const limit = openFileLimit();
  if (limit === undefined || limit === Infinity) return MAX_DEFAULT_CONNECTIONS;
  const reserve = Math.max(64, Math.ceil(limit / 10));
  return Math.max(1, Math.min(MAX_DEFAULT_CONNECTIONS, limit - reserve));
}

/** What a connection is doing; decides what a timeout does to it. */
type Phase = "idle" | "head" | "busy" | "body" | "linger";

/** One accepted connection: its read buffer, deadlines and state. */
class Connection {
  readonly conn: Deno.Conn;
  /** Received, unconsumed bytes are `buf[start, end)`. */
  buf: Uint8Array = new Uint8Array(IDLE_BUFFER_BYTES);
  start = 0;
  end = 0;
  /** Where the search for the end of the head resumes, relative to `start`. */
  scanOffset = 0;
  phase: Phase = "idle";
  /** When the head must be complete. */
  headDeadline: number;
  /** When a pending read times out (`Infinity`: none). */
  readDeadline: number;
  /** When a pending write times out. */
  writeDeadline = Infinity;
  closed = false;
  timedOut = false;
  /** The peer closed its side (a read returned end of stream). */
  ended = false;
  /**
   * Called once when the connection turns out to be gone (end of stream, a failed read, or
   * closed by a timeout or the shutdown) while a request is being answered.
   */
  onLost: (() => void) | undefined;
  #expiring = false;
  /** The read in flight: at most one, joined by whoever else needs bytes meanwhile. */
  #reading: Promise<boolean> | undefined;
  #fullReads = 0;
  #writing = false;
  readonly #waiting: (() => void)[] = [];
  readonly #bodyTimeoutMs: number;

  constructor(conn: Deno.Conn, headerTimeoutMs: number, bodyTimeoutMs: number) {
    this.conn = conn;
    this.headDeadline = Date.now() + headerTimeoutMs;
    this.readDeadline = this.headDeadline;
    this.#bodyTimeoutMs = bodyTimeoutMs;
  }

  /** Close the socket (idempotent, never throws). */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.#lost();
    try {
      this.conn.close();
    } catch {
      // Closed already.
    }
  }

  #lost(): void {
    const onLost = this.onLost;
    this.onLost = undefined;
    onLost?.();
  }

  /** A deadline passed: answer 408 to a half-received head, otherwise just close. */
  expire(): void {
    if (this.closed) return;
    this.timedOut = true;
    if (this.#expiring || this.phase !== "head") {
      this.destroy();
      return;
    }
    // RFC 9110 §15.5.9: 408, the server would like to close this unused connection.
    this.#expiring = true;
    this.readDeadline = Infinity;
    this.writeDeadline = Date.now() + 1000;
    this.conn.write(
      encodeMessage(errorHead(408, "Request timeout: the request head took too long")),
    )
      .catch(() => {})
      .finally(() => this.destroy());
  }

  /**
   * Read more bytes into the buffer (compacting or growing it up to `cap` bytes). While a read
   * is in flight, waits for that one instead: the buffer's layout changes only between reads.
   *
   * @returns `false` at end of stream.
   */
  fill(cap: number): Promise<boolean> {
    this.#reading ??= this.#fill(cap).finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  async #fill(cap: number): Promise<boolean> {
    if (this.ended) return false;
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
      // A sender that filled the whole buffer last time gets a bigger one.
      if (this.#fullReads > 0 && this.buf.length < cap) {
        this.buf = new Uint8Array(Math.min(cap, this.buf.length * 4));
      }
    } else if (this.buf.length - this.end < 1024 && this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    if (this.end === this.buf.length) {
      const bigger = new Uint8Array(Math.max(this.end + 1, Math.min(cap, this.buf.length * 2)));
      bigger.set(this.buf.subarray(0, this.end));
      this.buf = bigger;
    }
    const room = this.buf.length - this.end;
    let n: number | null;
    try {
      n = await this.conn.read(this.buf.subarray(this.end));
    } catch (error) {
      this.#lost();
      throw error;
    }
    if (n === null) {
      this.ended = true;
      this.#lost();
      return false;
    }
    this.end += n;
    this.#fullReads = n === room ? this.#fullReads + 1 : 0;
    return true;
  }

  /** After a request: go back to a small buffer when little is left in a big one. */
  shrink(): void {
    // A read in flight fills the buffer it was given.
    if (this.#reading !== undefined) return;
    this.#fullReads = 0;
    const left = this.end - this.start;
    if (this.buf.length > IDLE_BUFFER_BYTES && left <= IDLE_BUFFER_BYTES) {
      const small = new Uint8Array(IDLE_BUFFER_BYTES);
      small.set(this.buf.subarray(this.start, this.end));
      this.buf = small;
      this.start = 0;
      this.end = left;
    }
  }

  /** Write all bytes, after the writes queued before; each write may stall `bodyTimeoutMs`. */
  async write(bytes: Uint8Array): Promise<void> {
    // One write at a time, in call order; a finished write hands over to the next in line.
    if (this.#writing) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#writing = true;
    try {
      await this.#writeAll(bytes);
    } finally {
      const next = this.#waiting.shift();
      if (next === undefined) this.#writing = false;
      else next();
    }
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) {
      this.writeDeadline = Date.now() + this.#bodyTimeoutMs;
      at += await this.conn.write(at === 0 ? bytes : bytes.subarray(at));
    }
    this.writeDeadline = Infinity;
  }
}

/**
 * A request whose `url` is the target as received, as `Deno.serve` gives it, and whose `signal`
 * aborts when the connection is gone before the response is written.
 *
 * The signal is made when it is first read: a `signal` given to the Request constructor costs
 * Deno a dependent AbortSignal per request, which the garbage collector then tracks (up to 40 µs
 * of server CPU per element GET, `tests/bench/RESULTS.md`), and most handlers never read it.
 * `clone()` and `new Request(url, request)` follow it, and so does
 * `fetch(url, { signal: request.signal })`; `new Request(request)` and `fetch(request)` read
 * Deno's own signal of the request instead, which never aborts: pass `{ signal: request.signal }`
 * along with them.
 */
class Http1Request extends Request {
  readonly #url: string;
  #controller: AbortController | undefined;
  #abortReason: unknown;
  #aborted = false;

  constructor(url: string, init: RequestInit) {
    super(url, init);
    this.#url = url;
  }

  override get url(): string {
    return this.#url;
  }

  override get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  /** A copy whose signal follows this one (Deno's `clone()` would copy its own, inert one). */
  override clone(): Request {
    return new Request(super.clone(), { signal: this.signal });
  }

  /** The connection is gone: abort the signal (now, or when it is made). Idempotent. */
  abortWith(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }
}

/** The request body: framing (Content-Length or chunked), the handler's stream, draining. */
class RequestBody {
  readonly stream: ReadableStream<Uint8Array>;
  /** The whole body was read. */
  done = false;
  /** Why it cannot be read (broken framing, client gone, timeout): the connection must close. */
  failed: Error | undefined;
  /** Data bytes taken from the connection so far. */
  received = 0;
  readonly #c: Connection;
  #remaining: number;
  readonly #decoder: ChunkedDecoder | undefined;
  #continuePending: boolean;
  #pending: Promise<void> | undefined;
  #detached = false;
  readonly #bodyTimeoutMs: number;

  constructor(c: Connection, head: RequestHead, bodyTimeoutMs: number, maxHeadBytes: number) {
    this.#c = c;
    this.#bodyTimeoutMs = bodyTimeoutMs;
    this.#remaining = head.body.kind === "length" ? head.body.length : 0;
    this.#decoder = head.body.kind === "chunked"
      ? new ChunkedDecoder({
        maxLineBytes: 4096,
        maxExtensionBytes: 16 * 1024,
        maxTrailerBytes: maxHeadBytes,
      })
      : undefined;
    this.#continuePending = head.expectContinue;
    this.stream = new ReadableStream<Uint8Array>({
      pull: (controller) => this.#pull(controller),
    }, { highWaterMark: 0 });
  }

  #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> | void {
    if (this.#detached) {
      controller.error(new TypeError("The request body is gone: the response was already sent"));
      return;
    }
    const pending = this.#next(true).then((chunk) => {
      try {
        if (chunk === null) controller.close();
        else controller.enqueue(chunk);
      } catch {
        // The stream was cancelled meanwhile.
      }
    }, (error) => {
      try {
        controller.error(error);
      } catch {
        // Cancelled meanwhile.
      }
    });
    this.#pending = pending;
    return pending;
  }

  #fail(message: string): Error {
    this.failed ??= new Error(message);
    return this.failed;
  }

  /**
   * The next piece of the body: a compact copy (`copy`), or an empty array after discarding it;
   * `null` at its end.
   */
  async #next(copy: boolean): Promise<Uint8Array | null> {
    const c = this.#c;
    for (;;) {
      if (this.failed !== undefined) throw this.failed;
      if (this.done) return null;
      if (c.start < c.end) {
        const decoder = this.#decoder;
        if (decoder === undefined) {
          const take = Math.min(this.#remaining, c.end - c.start);
          const chunk = copy ? c.buf.slice(c.start, c.start + take) : EMPTY;
          c.start += take;
          this.#remaining -= take;
          this.received += take;
          if (this.#remaining === 0) this.done = true;
          return chunk;
        }
        const progress = decoder.decode(c.buf, c.start, c.end, MAX_READ_BUFFER_BYTES);
        if (progress.error !== undefined) {
          throw this.#fail(`Malformed chunked request body: ${progress.error}`);
        }
        const size = progress.data;
        const chunk = copy && size > 0 ? c.buf.slice(c.start, c.start + size) : EMPTY;
        c.start += progress.consumed;
        this.received += size;
        if (progress.done) this.done = true;
        if (size > 0) return chunk;
        if (this.done) return null;
        if (progress.consumed > 0 && c.start < c.end) continue;
      }
      // RFC 9110 §10.1.1: the client waits for 100 before sending the content; send it when the
      // handler first needs bytes that have not arrived.
      if (this.#continuePending) {
        this.#continuePending = false;
        try {
          await c.write(CONTINUE);
        } catch {
          throw this.#fail("Request body unreadable: the connection failed");
        }
      }
      c.phase = "body";
      c.readDeadline = Date.now() + this.#bodyTimeoutMs;
      let more: boolean;
      try {
        more = await c.fill(MAX_READ_BUFFER_BYTES);
      } catch {
        throw this.#fail(
          c.timedOut
            ? "Request body timed out: no data for too long"
            : "Request body unreadable: the connection failed",
        );
      } finally {
        c.readDeadline = Infinity;
        if (c.phase === "body") c.phase = "busy";
      }
      if (!more) throw this.#fail("Request body ended early: the client closed the connection");
    }
  }

  /**
   * Whether what is left may be drained after the response: not when it is broken, larger than
   * the drain bound, or when the client still waits for a 100 (Continue) it will never get.
   */
  canDrain(): boolean {
    if (this.failed !== undefined) return false;
    if (this.#continuePending && this.#c.start === this.#c.end) return false;
    return this.#decoder !== undefined || this.#remaining <= DRAIN_BYTES;
  }

  /** The response is out: take the body away from the handler, then drain the rest, bounded. */
  async drain(): Promise<boolean> {
    this.#detached = true;
    this.#continuePending = false;
    await this.#pending;
    const from = this.received;
    try {
      while (!this.done) {
        await this.#next(false);
        if (this.received - from > DRAIN_BYTES) return false;
      }
      return true;
    } catch {
      return false;
    }
  }

  /** Stop giving the body to the handler (the connection is closing). */
  async detach(): Promise<void> {
    this.#detached = true;
    this.#continuePending = false;
    await this.#pending;
  }
}

/** A minimal response with `Connection: close`, for requests refused before the handler. */
function errorHead(status: number, message: string): string {
  const text = `${message}\n`;
  return `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? ""}\r\ndate: ${httpDate()}\r\n` +
    `content-type: text/plain; charset=utf-8\r\ncontent-length: ${text.length}\r\n` +
    `connection: close\r\n\r\n${text}`;
}

/** Response headers the server decides itself (RFC 9110 §7.6.1 hop-by-hop fields, framing). */
const OWN_FIELDS = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "content-length",
]);

/** Whether an error says the process or the system is out of file descriptors. */
function outOfDescriptors(error: unknown): boolean {
  return error instanceof Error && /os error 2[34]\)|too many open files/i.test(error.message);
}

class Server implements Http1Server {
  readonly addr: Deno.NetAddr;
  readonly #maxConnections: number;
  #learnedMax = Infinity;
  #spares: Deno.FsFile[] = [];
  readonly #listener: Deno.Listener;
  readonly #handler: (request: Request) => Response | Promise<Response>;
  readonly #onError: ((error: unknown) => void) | undefined;
  readonly #headerTimeoutMs: number;
  readonly #keepAliveTimeoutMs: number;
  readonly #bodyTimeoutMs: number;
  readonly #maxHeadBytes: number;
  readonly #authority: string;
  readonly #conns = new Set<Connection>();
  readonly #sweeper: ReturnType<typeof setInterval>;
  #closing = false;
  #shedding = 0;
  #shedStreak = 0;
  #slotFree: (() => void) | undefined;
  #shutdown: Promise<void> | undefined;
  #allClosed: (() => void) | undefined;
  #backoff: { timer: ReturnType<typeof setTimeout>; resolve: () => void } | undefined;

  constructor(
    listener: Deno.Listener,
    handler: (request: Request) => Response | Promise<Response>,
    options: Http1ServerOptions,
  ) {
    this.#listener = listener;
    this.addr = listener.addr as Deno.NetAddr;
    this.#handler = handler;
    this.#onError = options.onError;
    this.#maxConnections = positive(options.maxConnections) ?? defaultMaxConnections();
    this.#acquireSpares();
    this.#headerTimeoutMs = positive(options.headerTimeoutMs) ?? DEFAULT_HEADER_TIMEOUT_MS;
    this.#keepAliveTimeoutMs = positive(options.keepAliveTimeoutMs) ??
      DEFAULT_KEEP_ALIVE_TIMEOUT_MS;
    this.#bodyTimeoutMs = positive(options.bodyTimeoutMs) ?? DEFAULT_BODY_TIMEOUT_MS;
    this.#maxHeadBytes = positive(options.maxHeadBytes) ?? DEFAULT_MAX_HEAD_BYTES;
    const host = this.addr.hostname.includes(":") ? `[${this.addr.hostname}]` : this.addr.hostname;
    this.#authority = `${host}:${this.addr.port}`;
    // Deadlines are checked by one sweep over the connections, a quarter of the shortest timeout
    // apart (10 ms to 1 s): no timer per request.
    const every = Math.min(this.#headerTimeoutMs, this.#keepAliveTimeoutMs, this.#bodyTimeoutMs);
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(10, Math.min(1000, every / 4)));
    this.#acceptLoop().catch((error) => this.#report(error));
  }

  get connections(): number {
    return this.#conns.size;
  }

  get maxConnections(): number {
    return Math.min(this.#maxConnections, this.#learnedMax);
  }

  /** Keep a few descriptors open on `/dev/null`, to give back when `accept()` runs out. */
  #acquireSpares(): void {
    try {
      if (Deno.permissions.querySync({ name: "read", path: "/dev/null" }).state !== "granted") {
        return;
      }
      while (this.#spares.length < SPARE_FDS) this.#spares.push(Deno.openSync("/dev/null"));
    } catch {
      // No /dev/null (Windows), or no descriptors left: fewer spares.
    }
  }

  #releaseSpares(): void {
    for (const file of this.#spares) {
      try {
        file.close();
      } catch {
        // Closed already.
      }
    }
    this.#spares = [];
  }

  #report(error: unknown): void {
    try {
      this.#onError?.(error);
    } catch {
      // A failing logger changes nothing.
    }
  }

  #sweep(): void {
    // A timer callback that threw would end the process: nothing escapes.
    try {
      const now = Date.now();
      for (const c of this.#conns) {
        if (c.readDeadline <= now || c.writeDeadline <= now) c.expire();
      }
      // Spares given back at an EMFILE are taken again once connections leave room for them.
      if (this.#spares.length === 0 && this.#conns.size + 2 * SPARE_FDS < this.maxConnections) {
        this.#acquireSpares();
      }
    } catch (error) {
      this.#report(error);
    }
  }

  async #acceptLoop(): Promise<void> {
    let delay = 0;
    while (!this.#closing) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
        delay = 0;
      } catch (error) {
        if (this.#closing) return;
        // EMFILE, ENFILE, ECONNABORTED, anything: never the end of the server. Back off, since
        // the condition (no descriptors) usually lasts a moment, then accept again.
        const reason = error instanceof Error ? error.message : String(error);
        if (outOfDescriptors(error) && this.#conns.size > 0) {
          // The open-file limit is reached: serve fewer connections than now from here on, a
          // tenth (at least 16) fewer, and give the spare descriptors back so that the waiting
          // connections can be accepted and shed.
          const learned = Math.max(
            1,
            this.#conns.size - Math.max(SPARE_FDS, Math.ceil(this.#conns.size / 10)),
          );
          if (learned < this.maxConnections) {
            this.#learnedMax = learned;
            this.#report(
              new Error(
                `accept() failed: ${reason}; serving at most ${learned} connections from now on`,
                { cause: error },
              ),
            );
          }
          this.#releaseSpares();
        } else if (delay === 0) {
          this.#report(new Error(`accept() failed, retrying: ${reason}`, { cause: error }));
        }
        delay = Math.min(1000, Math.max(10, delay * 2));
        await new Promise<void>((resolve) => {
          this.#backoff = { timer: setTimeout(resolve, delay), resolve };
        });
        this.#backoff = undefined;
        continue;
      }
      if (this.#conns.size >= this.maxConnections) {
        this.#shed(conn);
        // Pace the shedding to at most SHED_BURST connections per SHED_PAUSE_MS: in between,
        // later arrivals wait in the listen backlog (until a connection closes, at most
        // SHED_PAUSE_MS), so clients reconnecting in a loop cannot keep the server busy
        // accepting and closing instead of serving.
        if (++this.#shedStreak % SHED_BURST !== 0) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => done(), SHED_PAUSE_MS);
          const done = () => {
            clearTimeout(timer);
            this.#slotFree = undefined;
            resolve();
          };
          this.#slotFree = done;
        });
        continue;
      }
      this.#shedStreak = 0;
      const c = new Connection(conn, this.#headerTimeoutMs, this.#bodyTimeoutMs);
      this.#conns.add(c);
      try {
        (conn as Deno.TcpConn).setNoDelay(true);
      } catch {
        // Not TCP, or gone already.
      }
      this.#serve(c).catch((error) => this.#report(error));
    }
  }

  /**
   * Past the limit: a minimal 503 and close, so the connections being served keep their
   * descriptors. At most {@linkcode MAX_SHEDDING} 503s are in flight; beyond that a connection is
   * closed at once, so a flood cannot pile up descriptors in unfinished writes.
   */
  #shed(conn: Deno.Conn): void {
    const close = () => {
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    };
    if (this.#shedding >= MAX_SHEDDING) {
      close();
      return;
    }
    this.#shedding++;
    conn.write(SHED).catch(() => {}).finally(() => {
      this.#shedding--;
      close();
    });
  }

  async #serve(c: Connection): Promise<void> {
    try {
      for (;;) {
        const head = await this.#readHead(c);
        if (head === undefined) return;
        if (isHeadError(head)) {
          await this.#refuse(c, head);
          return;
        }
        if (!(await this.#exchange(c, head)) || this.#closing) return;
        c.shrink();
        c.phase = "idle";
        const now = Date.now();
        c.headDeadline = now + this.#headerTimeoutMs;
        c.readDeadline = Math.min(c.headDeadline, now + this.#keepAliveTimeoutMs);
      }
    } catch {
      // A failed read or write, a timeout: the connection ends; nothing else is affected.
    } finally {
      c.destroy();
      this.#conns.delete(c);
      this.#slotFree?.();
      if (this.#closing && this.#conns.size === 0) this.#allClosed?.();
    }
  }

  /** Read until a whole head is buffered; `undefined` when the connection ends first. */
  async #readHead(c: Connection): Promise<RequestHead | HeadError | undefined> {
    const cap = this.#maxHeadBytes + 2;
    for (;;) {
      if (c.start < c.end) {
        const first = c.start;
        c.start = skipLeadingEmptyLines(c.buf, c.start, c.end);
        if (c.start !== first) c.scanOffset = 0;
      }
      if (c.start < c.end) {
        if (c.phase === "idle") {
          c.phase = "head";
          c.readDeadline = c.headDeadline;
        }
        const found = findHeadEnd(c.buf, c.start, c.end, c.start + c.scanOffset);
        if (found.end !== -1 && found.end - c.start <= this.#maxHeadBytes) {
          const head = parseRequestHead(c.buf, c.start, found.end, { maxFields: MAX_FIELDS });
          c.start = found.end;
          c.scanOffset = 0;
          c.phase = "busy";
          c.readDeadline = Infinity;
          return head;
        }
        if (found.end !== -1 || c.end - c.start > this.#maxHeadBytes) {
          // RFC 9112 §3: a request-line longer than the server parses is 414; RFC 6585 §5: 431.
          const lineEnd = c.buf.subarray(c.start, c.end).indexOf(10);
          return lineEnd === -1 || lineEnd > this.#maxHeadBytes
            ? { status: 414, message: "URI too long: the request-line is too long" }
            : {
              status: 431,
              message:
                `Request header fields too large: the head is over ${this.#maxHeadBytes} bytes`,
            };
        }
        c.scanOffset = found.resume - c.start;
      }
      if (this.#closing && c.phase === "idle") return undefined;
      if (!(await c.fill(cap))) return undefined;
    }
  }

  /** Answer a request refused before the handler, then close. */
  async #refuse(c: Connection, error: HeadError): Promise<void> {
    c.phase = "busy";
    await c.write(encodeMessage(errorHead(error.status, error.message)));
    await this.#linger(c);
  }

  /**
   * Close without losing the response: stop sending (FIN), then read and drop what the client
   * still sends for a short while, so the close does not reset the connection before the client
   * has read the response (RFC 9112 §9.6).
   */
  async #linger(c: Connection): Promise<void> {
    try {
      await c.conn.closeWrite();
    } catch {
      return;
    }
    c.phase = "linger";
    c.readDeadline = Date.now() + Math.min(LINGER_MS, this.#bodyTimeoutMs);
    let dropped = c.end - c.start;
    c.start = c.end;
    try {
      while (dropped < LINGER_BYTES) {
        if (!(await c.fill(MAX_READ_BUFFER_BYTES))) return;
        dropped += c.end - c.start;
        c.start = c.end;
      }
    } catch {
      // Closed by the deadline.
    }
  }

  /** One request and its response; `true` when the connection may serve another. */
  async #exchange(c: Connection, head: RequestHead): Promise<boolean> {
    const body = head.body.kind === "none"
      ? undefined
      : new RequestBody(c, head, this.#bodyTimeoutMs, this.#maxHeadBytes);
    // RFC 9112 §3.2.2: absolute-form names the target itself; otherwise Host does (RFC 9112
    // §3.3), or this server's address when an HTTP/1.0 request has no Host.
    const url = head.form === "absolute"
      ? head.target
      : `http://${head.host ?? this.#authority}${head.form === "asterisk" ? "/*" : head.target}`;
    let request: Http1Request;
    try {
      // A record converts faster than a list of pairs; repeated fields are joined as Headers
      // would join them. No prototype, so a field called `__proto__` is just a field.
      const headers: Record<string, string> = Object.create(null);
      for (const [name, value] of head.fields) {
        const before = headers[name];
        headers[name] = before === undefined ? value : `${before}, ${value}`;
      }
      const init: RequestInit = { headers };
      if (head.method !== "GET") init.method = head.method;
      // Fetch refuses a body on GET and HEAD: theirs is drained, not handed over.
      if (body !== undefined && head.method !== "GET" && head.method !== "HEAD") {
        init.body = body.stream;
      }
      request = new Http1Request(url, init);
    } catch {
      await this.#refuse(c, {
        status: 400,
        message: "Bad request: the target and Host do not form a valid URL",
      });
      return false;
    }
    // The Fetch standard's Request class: `signal` tells whether the request has been aborted;
    // here, whether the connection went away before the response was written (`Deno.serve` does
    // the same with --unstable-no-legacy-abort).
    const lost = () => {
      request.abortWith(
        new DOMException("The connection closed before the response was written", "AbortError"),
      );
    };
    // An end of stream counts as gone (hyper and Node.js take it for a disconnect too); a client
    // that only closed its sending side still gets the response, should the handler give one.
    if (c.ended || c.closed) lost();
    else c.onLost = lost;
    const answer = { done: false };
    this.#watch(c, answer);
    let response: Response;
    try {
      response = await this.#handler(request);
      if (!(response instanceof Response)) {
        throw new TypeError("The fetch handler did not return a Response");
      }
    } catch (error) {
      this.#report(error);
      response = staticResponse("Internal server error\n", {
        status: 500,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
    let keepAlive = head.keepAlive && !this.#closing && !c.timedOut;
    if (body !== undefined && !body.done && !body.canDrain()) keepAlive = false;
    try {
      keepAlive = await this.#respond(c, head, response, keepAlive);
    } catch (error) {
      // The response could not be written: the client is gone.
      lost();
      throw error;
    } finally {
      c.onLost = undefined;
      answer.done = true;
    }
    if (body !== undefined && !body.done) {
      if (keepAlive && !this.#closing) {
        keepAlive = await body.drain();
      } else {
        await body.detach();
        await this.#linger(c);
        return false;
      }
      if (!keepAlive) await this.#linger(c);
    }
    return keepAlive;
  }

  /**
   * While a request is being answered, keep a read going, so that a client that closes the
   * connection is noticed ({@linkcode Connection.onLost}) even when nothing else reads. What
   * arrives meanwhile (a pipelined request, a body the handler has not read yet) stays in the
   * buffer for whoever reads next, up to {@linkcode MAX_READ_BUFFER_BYTES}; then it stops.
   */
  async #watch(c: Connection, answer: { readonly done: boolean }): Promise<void> {
    try {
      while (!answer.done && !c.closed && !c.ended && c.end - c.start < MAX_READ_BUFFER_BYTES) {
        await c.fill(MAX_READ_BUFFER_BYTES);
      }
    } catch {
      // The read failed: the connection is lost (and onLost was called).
    }
  }

  /**
   * Write the response. Content-Length when the body is one chunk (a string or bytes), chunked
   * when it streams (close-delimited for HTTP/1.0), nothing after HEAD, 204 and 304
   * (RFC 9112 §6.3 (1)).
   *
   * @returns Whether the connection may stay open.
   */
  async #respond(
    c: Connection,
    request: RequestHead,
    response: Response,
    keepAlive: boolean,
  ): Promise<boolean> {
    const status = response.status;
    let head = `HTTP/1.1 ${status} ${response.statusText || STATUS_TEXT[status] || ""}\r\n`;
    let length: string | undefined;
    let date = false;
    // Reading `headers` also drops a native copy of the body Deno's Response constructor may have
    // made for Deno.serve (see `_response.ts`).
    for (const [name, value] of response.headers) {
      const lower = name.toLowerCase();
      if (OWN_FIELDS.has(lower)) {
        if (lower === "content-length") length = value;
        continue;
      }
      if (lower === "date") date = true;
      head += `${name}: ${value}\r\n`;
    }
    // RFC 9110 §6.6.1: an origin server with a clock sends Date.
    if (!date) head += `date: ${httpDate()}\r\n`;
    const persistence = keepAlive
      ? (request.minor === 0 ? "connection: keep-alive\r\n" : "")
      : "connection: close\r\n";
    const fixed = staticBody(response);
    if (request.method === "HEAD" || status === 204 || status === 304) {
      if (fixed === undefined) response.body?.cancel().catch(() => {});
      // RFC 9110 §8.6: HEAD and 304 may say what a GET would have sent; 204 never.
      if (length !== undefined && status !== 204 && /^\d+$/.test(length)) {
        head += `content-length: ${length}\r\n`;
      }
      await c.write(encodeMessage(`${head}${persistence}\r\n`));
      return keepAlive;
    }
    if (fixed !== undefined && fixed !== null) {
      await writeWithBody(c, head, persistence, fixed);
      return keepAlive;
    }
    const stream = fixed === null ? null : response.body;
    if (stream === null) {
      await c.write(encodeMessage(`${head}content-length: 0\r\n${persistence}\r\n`));
      return keepAlive;
    }
    let reader: ReadableStreamDefaultReader<Uint8Array>;
    try {
      reader = stream.getReader();
    } catch (error) {
      // A body already read or locked (a Response object used twice).
      this.#report(error);
      await c.write(encodeMessage(errorHead(500, "Internal server error")));
      return false;
    }
    try {
      const first = await reader.read();
      if (first.done) {
        await c.write(encodeMessage(`${head}content-length: 0\r\n${persistence}\r\n`));
        return keepAlive;
      }
      const second = await reader.read();
      if (second.done) {
        const bytes = bodyBytes(first.value);
        head += `content-length: ${bytes.length}\r\n${persistence}\r\n`;
        if (bytes.length <= COPY_BODY_BYTES) {
          // One write: no second system call, no second segment.
          await c.write(encodeMessage(head, bytes));
        } else {
          await c.write(encodeMessage(head));
          await c.write(bytes);
        }
        return keepAlive;
      }
      // A streamed body of unknown length.
      if (request.minor === 0) {
        // RFC 9112 §6.1: no chunked coding towards HTTP/1.0: the close ends the body.
        await c.write(encodeMessage(`${head}connection: close\r\n\r\n`, bodyBytes(first.value)));
        await c.write(bodyBytes(second.value));
        for (;;) {
          const next = await reader.read();
          if (next.done) return false;
          await c.write(bodyBytes(next.value));
        }
      }
      await c.write(encodeMessage(
        `${head}transfer-encoding: chunked\r\n${persistence}\r\n`,
        chunk(bodyBytes(first.value)),
      ));
      let next: ReadableStreamReadResult<Uint8Array> = second;
      while (!next.done) {
        const bytes = bodyBytes(next.value);
        if (bytes.length > 0) await c.write(chunk(bytes));
        next = await reader.read();
      }
      await c.write(LAST_CHUNK);
      return keepAlive;
    } catch (error) {
      reader.cancel(error).catch(() => {});
      if (!c.closed) this.#report(error);
      throw error;
    }
  }

  shutdown(deadlineMs: number): Promise<void> {
    this.#shutdown ??= (async () => {
      this.#closing = true;
      try {
        this.#listener.close();
      } catch {
        // Closed already.
      }
      if (this.#backoff !== undefined) {
        clearTimeout(this.#backoff.timer);
        this.#backoff.resolve();
      }
      this.#slotFree?.();
      const allClosed = new Promise<void>((resolve) => {
        this.#allClosed = resolve;
        if (this.#conns.size === 0) resolve();
      });
      // Idle connections (between requests, nothing received) are closed at once: after one
      // short pause, in which a request the kernel already holds is read and so served.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => timer = setTimeout(resolve, IDLE_GRACE_MS));
      for (const c of this.#conns) if (c.phase === "idle") c.destroy();
      await Promise.race([
        allClosed,
        new Promise<void>((resolve) => timer = setTimeout(resolve, Math.max(0, deadlineMs))),
      ]);
      clearTimeout(timer);
      // The deadline: whatever is still open is cut.
      for (const c of this.#conns) c.destroy();
      await Promise.race([
        allClosed,
        new Promise<void>((resolve) => timer = setTimeout(resolve, 1000)),
      ]);
      clearTimeout(timer);
      clearInterval(this.#sweeper);
      this.#releaseSpares();
    })();
    return this.#shutdown;
  }
}

const LAST_CHUNK = ENCODER.encode("0\r\n\r\n");

/** Room before the body in a pooled buffer, for the head. */
const HEAD_ROOM = 2048;
/** Pooled write buffers: reused, so a response allocates nothing of its body's size. */
const pool: Uint8Array[] = [];
const MAX_POOLED = 16;
const MAX_POOLED_BYTES = 4 * 1024 * 1024;

function takeBuffer(size: number): Uint8Array {
  const found = pool.findIndex((b) => b.length >= size);
  if (found >= 0) return pool.splice(found, 1)[0]!;
  let length = 64 * 1024;
  while (length < size) length *= 2;
  return new Uint8Array(length);
}

function returnBuffer(buffer: Uint8Array): void {
  if (pool.length < MAX_POOLED && buffer.length <= MAX_POOLED_BYTES) pool.push(buffer);
}

/** Head (with Content-Length) and a static body, in one write from a pooled buffer. */
async function writeWithBody(
  c: Connection,
  head: string,
  persistence: string,
  body: string | Uint8Array,
): Promise<void> {
  // UTF-8 takes at most 3 bytes per UTF-16 code unit.
  const most = typeof body === "string" ? body.length * 3 : body.length;
  if (HEAD_ROOM + most > MAX_POOLED_BYTES) {
    const bytes = typeof body === "string" ? ENCODER.encode(body) : body;
    await c.write(encodeMessage(`${head}content-length: ${bytes.length}\r\n${persistence}\r\n`));
    await c.write(bytes);
    return;
  }
  const buffer = takeBuffer(HEAD_ROOM + most);
  try {
    let length: number;
    if (typeof body === "string") {
      length = ENCODER.encodeInto(body, buffer.subarray(HEAD_ROOM)).written;
    } else {
      buffer.set(body, HEAD_ROOM);
      length = body.length;
    }
    const full = `${head}content-length: ${length}\r\n${persistence}\r\n`;
    if (full.length > HEAD_ROOM) {
      await c.write(encodeMessage(full));
      await c.write(buffer.subarray(HEAD_ROOM, HEAD_ROOM + length));
      return;
    }
    // Header values are Latin-1 (one byte per character), so the head is full.length bytes.
    const at = HEAD_ROOM - full.length;
    // deno-lint-ignore no-control-regex
    if (/[^\x00-\x7f]/.test(full)) {
      for (let i = 0; i < full.length; i++) buffer[at + i] = full.charCodeAt(i);
    } else {
      ENCODER.encodeInto(full, buffer.subarray(at, HEAD_ROOM));
    }
    await c.write(buffer.subarray(at, HEAD_ROOM + length));
  } finally {
    returnBuffer(buffer);
  }
}

/** One chunk of the chunked coding (RFC 9112 §7.1). */
function chunk(bytes: Uint8Array): Uint8Array {
  const size = `${bytes.length.toString(16)}\r\n`;
  const out = new Uint8Array(size.length + bytes.length + 2);
  ENCODER.encodeInto(size, out);
  out.set(bytes, size.length);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  return out;
}

function bodyBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new TypeError("A response body chunk is not a Uint8Array");
}

function positive(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : undefined;
}

/**
 * Serve a fetch handler over HTTP/1.1 on `Deno.listen`, with a connection limit, header,
 * keep-alive and body timeouts, strict parsing and graceful shutdown (see the module doc).
 *
 * @param handler The fetch handler, e.g. `createXcapHandler()`. What it throws is answered 500
 * and passed to `onError`.
 * @param options Address, limits and timeouts.
 * @returns The running server, or `Listen` when it cannot listen.
 *
 * @example Usage
 * ```ts
 * import { serveHttp1 } from "@xcap/xcap/server";
 * import { assertEquals } from "@std/assert";
 *
 * const server = serveHttp1(() => new Response("hello"), { headerTimeoutMs: 5_000 })
 *   ._unsafeUnwrap();
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * assertEquals(await response.text(), "hello");
 * await server.shutdown(1_000);
 * ```
 */
export function serveHttp1(
  handler: (request: Request) => Response | Promise<Response>,
  options: Http1ServerOptions = {},
): Result<Http1Server, Http1ListenError> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  let listener: Deno.Listener;
  try {
    listener = Deno.listen({ hostname, port, transport: "tcp" });
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return err(Object.freeze({
      _tag: "Listen" as const,
      message: `Cannot listen on ${hostname}:${port}: ${reason}`,
      cause,
    }));
  }
  return ok(new Server(listener, handler, options));
}
