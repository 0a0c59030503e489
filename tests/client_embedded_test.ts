/** The client's integration suite against the embedded server, over real HTTP on 127.0.0.1. */
import { clientSuite, HOST } from "./_client_suite.ts";
import { startXcapServer } from "../src/server/mod.ts";

const PASSWORD = "secret";

clientSuite((name, options, fn) =>
  Deno.test(`XCAPClient against the embedded server: ${name}`, async () => {
    const server = (await startXcapServer({
      ...(options.auth
        ? { users: { [`sip:alice@${HOST}`]: PASSWORD, [`sip:bob@${HOST}`]: PASSWORD } }
        : {}),
    }))._unsafeUnwrap();
    try {
      await fn({
        kind: "embedded",
        xcapRoot: server.xcapRoot,
        password: PASSWORD,
        stop: server.close,
      });
    } finally {
      await server.close();
    }
  })
);
