/**
 * Why a `fetch` failed, in words. Runtimes wrap the reason: Deno throws `TypeError("fetch
 * failed")` whose `cause` says "… tcp connect error: Connection refused (os error 111)"; Node's
 * undici puts a `code` (`ECONNREFUSED`, `ENOTFOUND`, `UND_ERR_SOCKET`) on the cause. This reads
 * the whole cause chain and names the reason.
 *
 * @module
 */

interface Link {
  readonly message: string;
  readonly code: string;
}

/** The messages and codes of an error and its causes, outermost first (at most 8 deep). */
function causeChain(error: unknown): Link[] {
  const links: Link[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    try {
      const object = typeof current === "object" ? current as Record<string, unknown> : undefined;
      const message = object !== undefined && typeof object["message"] === "string"
        ? object["message"]
        : String(current);
      const code = object !== undefined && typeof object["code"] === "string" ? object["code"] : "";
      links.push({ message, code });
      current = object?.["cause"];
    } catch {
      break;
    }
  }
  return links;
}

/** `host:port` of a URL, with the scheme's default port filled in. */
function endpoint(url: URL): string {
  const port = url.port ||
    (url.protocol === "https:" ? "443" : url.protocol === "http:" ? "80" : "");
  return port === "" ? url.host : `${url.hostname}:${port}`;
}

/**
 * The innermost message, without Deno's "error sending request for url (...): client error
 * (Connect): " wrapping, which repeats the URL the caller's message already names.
 */
function innermost(links: readonly Link[]): string {
  const message = links.length === 0 ? "unknown failure" : links[links.length - 1]!.message;
  return message
    .replace(/^error sending request (?:for url \([^)]*\)|from \S+ for \S+ \([^)]*\))?:\s*/, "")
    .replace(/^client error \([A-Za-z]+\):\s*/, "")
    .trim() || message;
}

/**
 * Say why a request failed: "connection refused to 127.0.0.1:9", "cannot resolve host
 * example.invalid (…)", "connection closed before the response was complete", "connection reset
 * by …", "TLS failure with …: …", or the innermost message of the cause chain.
 *
 * @param error What `fetch` (or reading the body) threw.
 * @param url The request URL.
 * @param phase Whether the failure came before the response head or while reading the body.
 */
export function describeFetchFailure(
  error: unknown,
  url: string,
  phase: "request" | "body",
): string {
  const links = causeChain(error);
  const text = links.map((l) => l.message).join(" | ");
  const codes = new Set(links.map((l) => l.code));
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  const where = parsed === undefined ? "the server" : endpoint(parsed);
  const has = (pattern: RegExp, ...names: string[]) =>
    pattern.test(text) || names.some((n) => codes.has(n));

  if (parsed === undefined && /invalid url/i.test(text)) {
    return `the URL ${JSON.stringify(url)} is invalid`;
  }
  if (has(/connection refused/i, "ECONNREFUSED")) return `connection refused to ${where}`;
  if (
    has(
      /dns error|failed to lookup address|name or service not known|nodename nor servname|no address associated/i,
      "ENOTFOUND",
      "EAI_AGAIN",
    )
  ) {
    const reason = /failed to lookup address information:\s*([^|]+)/i.exec(text)?.[1]?.trim();
    return `cannot resolve host ${parsed?.hostname ?? where}` + (reason ? ` (${reason})` : "");
  }
  if (has(/connection reset/i, "ECONNRESET")) return `connection reset by ${where}`;
  if (
    has(
      /connection closed before message completed|error reading a body from connection|incomplete message|unexpected eof|other side closed|socket hang up/i,
      "UND_ERR_SOCKET",
      "ECONNABORTED",
    )
  ) {
    return "connection closed before the response was complete";
  }
  if (has(/network is unreachable|no route to host/i, "ENETUNREACH", "EHOSTUNREACH")) {
    return `${where} is unreachable`;
  }
  if (has(/\btls\b|certificate|ssl/i)) return `TLS failure with ${where}: ${innermost(links)}`;
  if (has(/timed out/i, "ETIMEDOUT")) return `connecting to ${where} timed out`;
  return phase === "body" ? `reading the body failed: ${innermost(links)}` : innermost(links);
}
