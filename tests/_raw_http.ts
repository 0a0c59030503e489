/**
 * A raw HTTP/1.1 client over TCP for protocol tests: exact bytes out, responses parsed by hand
 * (Content-Length, chunked, or up to the close), and the server's close observed.
 *
 * Helpers only, no tests. Talks to 127.0.0.1 only.
 */
const ENCODER = new TextEncoder();

/** One parsed response. */
export interface RawResponse {
  /** The status code. */
  readonly status: number;
  /** The status line, e.g. `HTTP/1.1 200 OK`. */
  readonly statusLine: string;
  /** Field lines in order, names lower-cased. */
  readonly fields: [string, string][];
  /** The body bytes as Latin-1 text. */
  readonly body: string;
  /** A field's value (the first), or `undefined`. */
  header(name: string): string | undefined;
}

/** A connection that reads responses one by one. */
export class RawConnection {
  readonly conn: Deno.Conn;
  #buffer = new Uint8Array(0);
  #eof = false;

  private constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  /** Connect to 127.0.0.1:`port`. */
  static async open(port: number): Promise<RawConnection> {
    return new RawConnection(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Send text (each character one byte) or bytes. */
  async send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? latin1Bytes(data) : data;
    let at = 0;
    while (at < bytes.length) at += await this.conn.write(bytes.subarray(at));
  }

  /** Read more bytes; `false` at the end of the stream (or a reset). */
  async #more(): Promise<boolean> {
    if (this.#eof) return false;
    const chunk = new Uint8Array(64 * 1024);
    let n: number | null;
    try {
      n = await this.conn.read(chunk);
    } catch {
      n = null;
    }
    if (n === null) {
      this.#eof = true;
      return false;
    }
    const joined = new Uint8Array(this.#buffer.length + n);
    joined.set(this.#buffer);
    joined.set(chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = joined;
    return true;
  }

  #take(n: number): string {
    const text = String.fromCharCode(...this.#buffer.subarray(0, n));
    this.#buffer = this.#buffer.slice(n);
    return text;
  }

  async #line(): Promise<string | undefined> {
    for (;;) {
      const lf = this.#buffer.indexOf(10);
      if (lf >= 0) return this.#take(lf + 1).replace(/\r?\n$/, "");
      if (!(await this.#more())) return undefined;
    }
  }

  async #bytes(n: number): Promise<string | undefined> {
    while (this.#buffer.length < n) if (!(await this.#more())) return undefined;
    return this.#take(n);
  }

  /**
   * Read one response (interim 1xx responses included, as their own response).
   *
   * @param method The request's method (`HEAD` responses have no body).
   * @returns The response, or `undefined` when the connection ended before a whole one.
   */
  async response(method = "GET"): Promise<RawResponse | undefined> {
    const statusLine = await this.#line();
    if (statusLine === undefined) return undefined;
    const fields: [string, string][] = [];
    for (;;) {
      const line = await this.#line();
      if (line === undefined) return undefined;
      if (line === "") break;
      const colon = line.indexOf(":");
      fields.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]);
    }
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? "0");
    const header = (name: string) => fields.find(([n]) => n === name)?.[1];
    let body = "";
    if (method !== "HEAD" && status >= 200 && status !== 204 && status !== 304) {
      const length = header("content-length");
      if (header("transfer-encoding") === "chunked") {
        for (;;) {
          const size = await this.#line();
          if (size === undefined) return undefined;
          const n = parseInt(size, 16);
          if (n === 0) {
            while ((await this.#line()) !== "") { /* trailers */ }
            break;
          }
          const data = await this.#bytes(n + 2);
          if (data === undefined) return undefined;
          body += data.slice(0, n);
        }
      } else if (length !== undefined) {
        const data = await this.#bytes(Number(length));
        if (data === undefined) return undefined;
        body = data;
      } else {
        while (await this.#more()) { /* up to the close */ }
        body = this.#take(this.#buffer.length);
      }
    }
    return { status, statusLine, fields, body, header };
  }

  /**
   * Wait until the server closes the connection, reading and discarding what it sends.
   *
   * @param ms Give up after this long.
   * @returns Whether it closed in time.
   */
  async closed(ms: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const ended = (async () => {
      while (await this.#more()) this.#buffer = new Uint8Array(0);
      return true as const;
    })();
    try {
      return await Promise.race([ended, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Close our side (idempotent). */
  close(): void {
    try {
      this.conn.close();
    } catch {
      // Closed already.
    }
  }
}

/** Each character one byte (the test writes exact bytes, `\xff` included). */
export function latin1Bytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

/** UTF-8 bytes of text. */
export function utf8(text: string): Uint8Array {
  return ENCODER.encode(text);
}
