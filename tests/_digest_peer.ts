/**
 * Digest as deployed peers answer it, for server tests: the challenges of a 401, and an
 * `Authorization` header formatted exactly as Python's urllib (python-xcaplib) formats it: the
 * request-target raw inside `uri="…"`, `algorithm="MD5"` quoted, `qop=auth` and `nc` unquoted.
 *
 * Helpers only, no tests.
 */
import { createHash } from "node:crypto";
import { parseChallenges } from "../src/client/_digest.ts";

/** A Digest challenge of a 401, reduced to what an answer needs. */
export interface PeerChallenge {
  readonly realm: string;
  readonly nonce: string;
  readonly opaque?: string;
  readonly algorithm: string;
  readonly stale: boolean;
}

/** Hex digest, as Python's `hashlib` computes it. */
export function hexDigest(algorithm: string, text: string): string {
  return createHash(algorithm.toUpperCase() === "SHA-256" ? "sha256" : "md5")
    .update(text, "utf8").digest("hex");
}

/** The Digest challenges of a `WWW-Authenticate` value, in order. */
export function digestChallenges(header: string | null): PeerChallenge[] {
  const parsed = parseChallenges(header ?? "");
  if (!parsed.ok) return [];
  return parsed.value.filter((c) => c.scheme.toLowerCase() === "digest").map((c) => ({
    realm: c.params.realm ?? "",
    nonce: c.params.nonce ?? "",
    ...(c.params.opaque === undefined ? {} : { opaque: c.params.opaque }),
    algorithm: c.params.algorithm ?? "MD5",
    stale: c.params.stale?.toLowerCase() === "true",
  }));
}

/** What {@linkcode urllibAuthorization} answers with. */
export interface PeerAnswer {
  readonly username: string;
  readonly password: string;
  readonly method: string;
  /** The request-target exactly as sent (urllib's `req.selector`). */
  readonly uri: string;
  /** @default 1 */
  readonly nc?: number;
  /** @default "0a4f113b8d1f7e66" */
  readonly cnonce?: string;
  /** Compute with this realm instead of the challenge's. */
  readonly realm?: string;
}

/**
 * The `Authorization` value Python 3.11's `urllib.request.AbstractDigestAuthHandler` sends for
 * a `qop="auth"` challenge (its `get_authorization`): parameters in its order, the uri raw.
 */
export function urllibAuthorization(challenge: PeerChallenge, answer: PeerAnswer): string {
  const algorithm = challenge.algorithm;
  const h = (text: string) => hexDigest(algorithm, text);
  const realm = answer.realm ?? challenge.realm;
  const nc = (answer.nc ?? 1).toString(16).padStart(8, "0");
  const cnonce = answer.cnonce ?? "0a4f113b8d1f7e66";
  const ha1 = h(`${answer.username}:${realm}:${answer.password}`);
  const ha2 = h(`${answer.method}:${answer.uri}`);
  const response = h(`${ha1}:${challenge.nonce}:${nc}:${cnonce}:auth:${ha2}`);
  let header = `Digest username="${answer.username}", realm="${realm}", ` +
    `nonce="${challenge.nonce}", uri="${answer.uri}", response="${response}"`;
  if (challenge.opaque !== undefined) header += `, opaque="${challenge.opaque}"`;
  header += `, algorithm="${algorithm}", qop=auth, nc=${nc}, cnonce="${cnonce}"`;
  return header;
}

/** Send an HTTP/1.1 request with this exact request-target over TCP; the status and head. */
export async function rawRequest(
  port: number,
  method: string,
  target: string,
  headers: Readonly<Record<string, string>> = {},
  body = "",
): Promise<{ status: number; head: string; body: string }> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const bytes = new TextEncoder().encode(body);
    let head = `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n`;
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    if (method === "PUT") head += `Content-Length: ${bytes.length}\r\n`;
    const request = new Uint8Array([...new TextEncoder().encode(`${head}\r\n`), ...bytes]);
    for (let written = 0; written < request.length;) {
      written += await connection.write(request.subarray(written));
    }
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(65_536);
    for (;;) {
      const n = await connection.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
    const text = new TextDecoder().decode(
      chunks.reduce((all, c) => new Uint8Array([...all, ...c]), new Uint8Array()),
    );
    const split = text.indexOf("\r\n\r\n");
    const responseHead = split < 0 ? text : text.slice(0, split);
    return {
      status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(responseHead)?.[1] ?? 0),
      head: responseHead,
      body: split < 0 ? "" : text.slice(split + 4),
    };
  } finally {
    connection.close();
  }
}

/** A header of a raw response head, or `undefined`. */
export function headerOf(head: string, name: string): string | undefined {
  const match = new RegExp(`^${name}:[ \\t]*(.*)$`, "im").exec(head);
  return match?.[1]?.trim();
}

/** What {@linkcode digestFetch} sends. */
export interface DigestFetchOptions {
  readonly username: string;
  readonly password: string;
  /** @default "GET" */
  readonly method?: string;
  readonly body?: string;
  readonly contentType?: string;
  /** @default "MD5" */
  readonly algorithm?: string;
}

/**
 * One request as python-xcaplib makes it: without credentials first, then answering the 401's
 * challenge (a fresh nonce, nc 1). Returns the final status and the headers it sent, so a test
 * can send the same request again (a replay).
 */
export async function digestFetch(
  url: string,
  options: DigestFetchOptions,
): Promise<{ status: number; body: string; headers: Record<string, string> }> {
  const method = options.method ?? "GET";
  const first = await fetch(url, { method: "GET" });
  await first.body?.cancel();
  const challenge = digestChallenges(first.headers.get("www-authenticate")).find((c) =>
    c.algorithm === (options.algorithm ?? "MD5")
  );
  if (challenge === undefined) throw new Error(`no challenge from ${url} (${first.status})`);
  const target = new URL(url);
  const headers: Record<string, string> = {
    authorization: urllibAuthorization(challenge, {
      username: options.username,
      password: options.password,
      method,
      uri: target.pathname + target.search,
    }),
    ...(options.contentType === undefined ? {} : { "content-type": options.contentType }),
  };
  const response = await fetch(url, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  return { status: response.status, body: await response.text(), headers };
}
