/**
 * The seed's usage flow (python-xcaplib's XCAP API page, as `examples/usage.ts` runs it), written
 * once for every runtime the runtime tests drive: Deno (`deno serve`), workerd, Chromium and Node.
 *
 * It imports nothing at run time: it is handed the client module (`mod.ts`, or the bundle built
 * from it) and reports what it observed as plain JSON, which the Deno test compares with
 * {@linkcode expectedFlow}. Outside Deno it runs as the JavaScript `deno bundle` makes of it.
 *
 * @module
 */
import type * as Xcap from "../../mod.ts";

/** The client entry, as the flow uses it. */
export type ClientModule = Pick<typeof Xcap, "XCAPClient">;

/** Where the flow runs against, and as whom. */
export interface FlowTarget {
  /** The XCAP root. */
  readonly xcapRoot: string;
  /** The user. */
  readonly xui: string;
  /** The user's password, when the server wants Digest. */
  readonly password?: string;
  /** The resource-lists document to start from (`examples/resource-lists.xml`). */
  readonly document: string;
  /** Send every request with credentials mode `"include"` (a browser then checks CORS credentials). */
  readonly includeCredentials?: boolean;
}

/** What one step of the flow observed. */
export interface FlowStep {
  /** The step, in the seed's words. */
  readonly step: string;
  /** The status of a success. */
  readonly status?: number;
  /** The body of a success, when the step reads one. */
  readonly body?: string;
  /** The Content-Type of a success, when the step reads one. */
  readonly contentType?: string;
  /** How the step's ETag relates to the ones before, when that is the point of the step. */
  readonly etag?: "new" | "same as the put" | "changed";
  /** The error, when the step failed. */
  readonly error?: {
    readonly tag: string;
    readonly status?: number;
    readonly condition?: { readonly tag: string; readonly ancestor?: string };
    readonly message: string;
  };
}

/** What a runtime reports back. */
export interface FlowReport {
  /** The runtime and its version, as the runtime itself tells. */
  readonly runtime: string;
  /** The steps, in order. */
  readonly steps: readonly FlowStep[];
}

const BOB = '/resource-lists/list/entry[@uri="sip:bob@example.com"]';
const CAROL_UNDER_MISSING_LIST =
  '/resource-lists/list[@name="family"]/entry[@uri="sip:carol@example.com"]';

/** What each step reports when everything works: the flow against an RFC 4825 server. */
export function expectedFlow(target: Pick<FlowTarget, "xcapRoot" | "xui" | "document">) {
  const documentUri = `${target.xcapRoot}/resource-lists/users/${target.xui}/index`;
  return [
    { step: "put the document", status: 201, etag: "new" },
    {
      step: "get the document",
      status: 200,
      body: target.document,
      contentType: "application/resource-lists+xml",
      etag: "same as the put",
    },
    {
      step: "get an element",
      status: 200,
      body: "<display-name>Bob</display-name>",
      contentType: "application/xcap-el+xml",
    },
    {
      step: "get an attribute",
      status: 200,
      body: "sip:bob@example.com",
      contentType: "application/xcap-att+xml",
    },
    { step: "replace an element if the document is unchanged", status: 200, etag: "changed" },
    {
      step: "get the replaced element",
      status: 200,
      body: '<entry uri="sip:bob@example.com"><display-name>The Bob</display-name></entry>',
      contentType: "application/xcap-el+xml",
    },
    {
      step: "replace again with the old etag",
      error: { tag: "PreconditionFailed", status: 412 },
    },
    {
      step: "put an element under a list that does not exist",
      error: {
        tag: "Conflict",
        status: 409,
        condition: { tag: "no-parent", ancestor: `${documentUri}/~~/resource-lists` },
      },
    },
    { step: "delete the element if the document is unchanged", status: 200, etag: "changed" },
    { step: "get the deleted element", error: { tag: "NotFound", status: 404 } },
  ];
}

/**
 * Run the flow with `xcap.XCAPClient` against `target`.
 *
 * @param xcap The client module.
 * @param target The server, the user, the document.
 * @param runtime The runtime and its version, to report.
 * @returns What every step observed; it never throws.
 */
export async function runUsageFlow(
  xcap: ClientModule,
  target: FlowTarget,
  runtime: string,
): Promise<FlowReport> {
  const fetchWithCredentials: typeof fetch = (input, init) =>
    fetch(input, { ...init, credentials: "include" });
  const client = new xcap.XCAPClient(target.xcapRoot, target.xui, {
    ...(target.password === undefined ? {} : { password: target.password }),
    ...(target.includeCredentials === true ? { fetch: fetchWithCredentials } : {}),
  });
  const steps: FlowStep[] = [];
  type Outcome = Awaited<ReturnType<typeof client.get>>;
  const record = (
    step: string,
    outcome: Outcome,
    show: { body?: boolean; etag?: (etag: string | undefined) => FlowStep["etag"] } = {},
  ): string | undefined => {
    if (outcome.isErr()) {
      const e = outcome.error;
      const condition = e._tag === "Conflict" && e.condition !== undefined
        ? {
          tag: e.condition.tag,
          ...("ancestor" in e.condition && e.condition.ancestor !== undefined
            ? { ancestor: e.condition.ancestor }
            : {}),
        }
        : undefined;
      steps.push({
        step,
        error: {
          tag: e._tag,
          ...("status" in e ? { status: e.status } : {}),
          ...(condition === undefined ? {} : { condition }),
          message: e.message,
        },
      });
      return undefined;
    }
    const r = outcome.value;
    const etag = show.etag?.(r.etag);
    steps.push({
      step,
      status: r.status,
      ...(show.body === true ? { body: r.body } : {}),
      ...(show.body === true && r.contentType !== undefined ? { contentType: r.contentType } : {}),
      ...(etag === undefined ? {} : { etag }),
    });
    return r.etag;
  };
  try {
    const put = record("put the document", await client.put("resource-lists", target.document), {
      etag: (e) => e === undefined ? undefined : "new",
    });
    const stored = record("get the document", await client.get("resource-lists"), {
      body: true,
      etag: (e) => e !== undefined && e === put ? "same as the put" : undefined,
    });
    record(
      "get an element",
      await client.get("resource-lists", "/resource-lists/list/entry/display-name"),
      { body: true },
    );
    record(
      "get an attribute",
      await client.get("resource-lists", "/resource-lists/list/entry/@uri"),
      { body: true },
    );
    const bob = '<entry uri="sip:bob@example.com"><display-name>The Bob</display-name></entry>';
    const replaced = record(
      "replace an element if the document is unchanged",
      await client.put("resource-lists", bob, BOB, stored === undefined ? {} : { etag: stored }),
      { etag: (e) => e !== undefined && e !== stored ? "changed" : undefined },
    );
    record("get the replaced element", await client.get("resource-lists", BOB), { body: true });
    record(
      "replace again with the old etag",
      await client.put(
        "resource-lists",
        '<entry uri="sip:bob@example.com"><display-name>Bobby</display-name></entry>',
        BOB,
        stored === undefined ? {} : { etag: stored },
      ),
    );
    record(
      "put an element under a list that does not exist",
      await client.put(
        "resource-lists",
        '<entry uri="sip:carol@example.com"/>',
        CAROL_UNDER_MISSING_LIST,
      ),
    );
    record(
      "delete the element if the document is unchanged",
      await client.delete("resource-lists", BOB, replaced === undefined ? {} : { etag: replaced }),
      { etag: (e) => e !== undefined && e !== replaced ? "changed" : undefined },
    );
    record("get the deleted element", await client.get("resource-lists", BOB));
  } catch (e) {
    // The client promises never to throw; if it does, the report says so.
    steps.push({
      step: "the client threw",
      error: { tag: "Thrown", message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) },
    });
  }
  return { runtime, steps };
}

/** What a client saw of a server that does not allow its page's origin. */
export interface RefusedProbe {
  /** The outcome of a GET of the document (a request a browser sends without preflight). */
  readonly get: string;
  /** The outcome of a PUT of the document (one that needs a preflight first). */
  readonly put: string;
}

/**
 * Read and write a document on a server that does not share its answers with this page's origin:
 * in a browser both must fail as network errors (the CORS check), whatever the server answered.
 *
 * @param xcap The client module.
 * @param target The server, the user, the document.
 * @returns The outcome of each: the error's tag, or the status of a success.
 */
export async function probeRefused(xcap: ClientModule, target: FlowTarget): Promise<RefusedProbe> {
  const client = new xcap.XCAPClient(target.xcapRoot, target.xui);
  const get = await client.get("resource-lists");
  const put = await client.put("resource-lists", target.document);
  return {
    get: get.isErr() ? get.error._tag : `status ${get.value.status}`,
    put: put.isErr() ? put.error._tag : `status ${put.value.status}`,
  };
}
