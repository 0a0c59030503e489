/**
 * What every example starts with: the XCAP server to talk to and a client for it.
 *
 * With an `http(s)://` argument the examples use that XCAP root (Kamailio, OpenXCAP, …);
 * without one they start the embedded server in-process on 127.0.0.1. `--xui ADDRESS` and
 * `--password PASSWORD` set the user.
 *
 * @module
 */
import { XCAPClient, type XcapClientOptions } from "../mod.ts";
import { startXcapServer, type XcapServer } from "../src/server/mod.ts";

/** The server an example runs against. */
export interface ExampleTarget {
  /** The XCAP root. */
  readonly xcapRoot: string;
  /** The user. */
  readonly xui: string;
  /** Client options (the password, when given). */
  readonly options: XcapClientOptions;
  /** A client for `xui` on `xcapRoot`. */
  readonly client: XCAPClient;
  /** Stop the embedded server, if one was started. */
  close(): Promise<void>;
}

/** The value after `name` on the command line. */
export function flag(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i === -1 ? undefined : Deno.args[i + 1];
}

/** The task names of the examples, by file, for `--help`. */
const TASKS: Readonly<Record<string, string>> = {
  "usage.ts": "demo",
  "buddy_list.ts": "buddy-list",
  "presence_rules.ts": "presence-rules",
};

function help(): string {
  const file = Deno.mainModule.slice(Deno.mainModule.lastIndexOf("/") + 1);
  const task = TASKS[file] === undefined ? `deno run examples/${file}` : `deno task ${TASKS[file]}`;
  return `usage: ${task} [URL] [--xui ADDRESS] [--password PASSWORD]

Runs the example against the XCAP root URL, any http(s) one (Kamailio, OpenXCAP, ...), or,
without a URL, against an embedded XCAP server started in-process on 127.0.0.1.

  URL                  the XCAP root, e.g. http://127.0.0.1:5080/xcap-root
  --xui ADDRESS        the user whose documents it writes (default sip:alice@example.com)
  --password PASSWORD  answer the server's authentication challenge with this password
  -h, --help           show this help
`;
}

/** Parse the command line, start the embedded server when no URL is given, print the target. */
export async function openExampleTarget(describe = ""): Promise<ExampleTarget> {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(help());
    Deno.exit(0);
  }
  const url = Deno.args.find((a) => /^https?:\/\//.test(a));
  let server: XcapServer | undefined;
  if (url === undefined) {
    const started = await startXcapServer({ hostname: "127.0.0.1", port: 0 });
    if (started.isErr()) {
      console.error(started.error.message);
      Deno.exit(1);
    }
    server = started.value;
  }
  const xcapRoot = url ?? server!.xcapRoot;
  const xui = flag("--xui") ?? "sip:alice@example.com";
  const password = flag("--password");
  const options: XcapClientOptions = password === undefined ? {} : { password };
  console.log(
    `XCAP root ${xcapRoot}${server ? " (embedded server, in-process)" : ""}, XUI ${xui}${describe}`,
  );
  return {
    xcapRoot,
    xui,
    options,
    client: new XCAPClient(xcapRoot, xui, options),
    close: async () => await server?.close(),
  };
}
