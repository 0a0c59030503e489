/**
 * Responses whose body is known as a whole when they are built, and the side channel through
 * which {@linkcode serveHttp1} reads that body without a stream.
 *
 * Reading a body through `response.body` builds a `ReadableStream` and a new buffer of the
 * body's size for every response; with 87 KB documents the garbage collector's work on those
 * buffers cut document GET to a fifth. So every response of the handler, CORS and the HTTP/1.1
 * server is built by {@linkcode staticResponse}, which records the body here, and the server
 * asks {@linkcode staticBody} first. A `Response` built elsewhere is read as any server would.
 *
 * Pure: Web APIs only (a `WeakMap`, so a response that is dropped takes its entry with it).
 *
 * @module
 */

const BODIES = new WeakMap<Response, string | null>();

/** Status and header fields of {@linkcode staticResponse}. */
export interface StaticResponseInit {
  /** @default 200 */
  readonly status?: number;
  /** @default "" */
  readonly statusText?: string;
  /** The header fields. */
  readonly headers?: Readonly<Record<string, string>> | Headers;
}

/**
 * `new Response(body, init)`, with `body` recorded for {@linkcode staticBody}.
 *
 * A 200 with a body and fields besides Content-Type is built with its Content-Type alone, and
 * the other fields are appended to its `headers`: the same response, but Deno 2.9's `Response`
 * constructor then keeps the body as it is, where it otherwise copies it into native memory for
 * `Deno.serve`'s fast path. A server that is not `Deno.serve` drops that copy unused (when it
 * reads `headers`); with 87 KB documents and 16 connections, the copies made glibc trim and
 * regrow its heap on every response (14 page faults and 250 µs of CPU per document GET instead
 * of 0.1 and 55 µs, `tests/bench/http1_ab.ts`). Built this way, that costs nothing anywhere
 * and needs no malloc tuning; other statuses carry short texts.
 *
 * @param body The whole body, or `null` for none.
 * @param init Status and header fields.
 * @returns The response.
 */
export function staticResponse(body: string | null, init: StaticResponseInit): Response {
  const status = init.status ?? 200;
  if (body !== null && status === 200 && !init.statusText && init.headers !== undefined) {
    let type: string | undefined;
    const others: [string, string][] = [];
    const fields = init.headers instanceof Headers ? init.headers : Object.entries(init.headers);
    for (const [name, value] of fields) {
      if (name.toLowerCase() === "content-type") type = value;
      else others.push([name, value]);
    }
    if (others.length > 0) {
      const response = new Response(
        body,
        type === undefined ? undefined : { headers: { "content-type": type } },
      );
      const headers = response.headers;
      for (const [name, value] of others) headers.append(name, value);
      BODIES.set(response, body);
      return response;
    }
  }
  const response = new Response(body, init);
  BODIES.set(response, body);
  return response;
}

/**
 * The body `response` was built with by {@linkcode staticResponse} (`null`: none), or
 * `undefined` when it was built otherwise or its body has been read since (then it is read
 * through `response.body`, which fails as it should for a used body).
 *
 * @param response Any response.
 * @returns Its recorded body, or `undefined`.
 */
export function staticBody(response: Response): string | null | undefined {
  const body = BODIES.get(response);
  return body === undefined || response.bodyUsed ? undefined : body;
}
