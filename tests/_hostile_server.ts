/**
 * Loopback servers that misbehave, for the robustness suite: an HTTP one on `Deno.serve` whose
 * handler the test writes, and a raw TCP one (`Deno.listen`) that writes whatever bytes the test
 * wants (a partial response, then a closed socket) or nothing at all.
 *
 * Both listen on 127.0.0.1 only, on a port the system picks, and close everything they opened
 * (listener, connections, pending timers), so Deno's resource and op sanitizers stay on.
 *
 * @module
 */

/** A running hostile server. */
export interface HostileServer {
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  readonly origin: string;
  /** Requests (HTTP) or connections (raw) seen so far. */
  readonly hits: () => number;
  /** Stop, closing every connection still open. */
  close(): Promise<void>;
}

/**
 * An HTTP server whose every answer comes from `handler`.
 *
 * @param handler Gets the request and the 1-based request count.
 * @returns The server.
 */
export function serveHttp(
  handler: (request: Request, count: number) => Response | Promise<Response>,
): HostileServer {
  let count = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => handler(request, ++count),
  );
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    hits: () => count,
    close: () => server.shutdown(),
  };
}

/** What a raw connection script may do. */
export interface RawConnection {
  /** The request head as received (up to the empty line), decoded as Latin-1. */
  readonly head: string;
  /** The 1-based connection count. */
  readonly count: number;
  /** Write bytes (a string is sent as UTF-8). */
  write(data: string | Uint8Array): Promise<void>;
  /** Resolves when the server is being closed; a script that stalls waits on this. */
  readonly closing: Promise<void>;
}

const ENCODER = new TextEncoder();

async function readHead(conn: Deno.Conn): Promise<string> {
  const buffer = new Uint8Array(64 * 1024);
  let head = "";
  while (!head.includes("\r\n\r\n")) {
    const n = await conn.read(buffer);
    if (n === null) break;
    head += String.fromCharCode(...buffer.subarray(0, n));
    if (head.length > 1_000_000) break;
  }
  return head;
}

/**
 * A raw TCP server: for each connection it reads the request head, runs `script`, and then
 * closes the connection (so a script that writes half a response produces a connection reset
 * mid-body). Bodies sent by the client are not read.
 *
 * @param script What to do with each connection.
 * @returns The server.
 */
export function serveRaw(script: (conn: RawConnection) => Promise<void>): HostileServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  let count = 0;
  let signalClosing!: () => void;
  const closing = new Promise<void>((resolve) => (signalClosing = resolve));

  const serveOne = async (conn: Deno.Conn, n: number) => {
    try {
      const head = await readHead(conn);
      await script({
        head,
        count: n,
        closing,
        write: async (data) => {
          const bytes = typeof data === "string" ? ENCODER.encode(data) : data;
          let written = 0;
          while (written < bytes.length) written += await conn.write(bytes.subarray(written));
        },
      });
    } catch {
      // The client went away first: nothing to do.
    } finally {
      open.delete(conn);
      try {
        conn.close();
      } catch {
        // Already closed by close().
      }
    }
  };

  const acceptLoop = (async () => {
    try {
      for await (const conn of listener) {
        open.add(conn);
        const task = serveOne(conn, ++count);
        tasks.add(task);
        task.finally(() => tasks.delete(task));
      }
    } catch {
      // The listener was closed.
    }
  })();

  return {
    origin: `http://127.0.0.1:${port}`,
    hits: () => count,
    close: async () => {
      signalClosing();
      try {
        listener.close();
      } catch {
        // Already closed.
      }
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // Already closed.
        }
      }
      open.clear();
      await acceptLoop;
      await Promise.allSettled([...tasks]);
    },
  };
}

/**
 * Wait `ms` milliseconds, or less when `cancel` settles first; the timer never outlives it.
 *
 * @param ms How long.
 * @param cancel Ends the wait early.
 */
export function sleep(ms: number, cancel?: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    cancel?.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Send one raw HTTP/1.1 request to 127.0.0.1 and read the whole answer (the server is asked to
 * close the connection). The request-target is sent exactly as given: no URL normalization.
 *
 * @param port The port.
 * @param request The request line and headers (without the final empty line) and an optional body.
 * @returns The status and the raw response text.
 */
export async function rawRequest(
  port: number,
  request: { method: string; target: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; text: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const body = request.body === undefined ? undefined : ENCODER.encode(request.body);
    const headers: Record<string, string> = {
      host: `127.0.0.1:${port}`,
      connection: "close",
      ...(body === undefined ? {} : { "content-length": String(body.length) }),
      ...request.headers,
    };
    const head = `${request.method} ${request.target} HTTP/1.1\r\n` +
      Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";
    const bytes = body === undefined
      ? ENCODER.encode(head)
      : new Uint8Array([...ENCODER.encode(head), ...body]);
    let written = 0;
    while (written < bytes.length) written += await conn.write(bytes.subarray(written));
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
    const text = new TextDecoder().decode(
      chunks.reduce((all, c) => new Uint8Array([...all, ...c]), new Uint8Array()),
    );
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? "0");
    return { status, text };
  } finally {
    try {
      conn.close();
    } catch {
      // Closed by the peer already.
    }
  }
}
