/** The client's integration suite against a real Kamailio xcap_server on 127.0.0.1. */
import { clientSuite } from "./_client_suite.ts";
import { kamailioTest } from "./_kamailio.ts";

clientSuite((name, options, fn) =>
  kamailioTest(
    `XCAPClient against Kamailio: ${name}`,
    { auth: options.auth ?? false },
    (server) =>
      fn({
        kind: "kamailio",
        xcapRoot: server.xcapRoot,
        password: server.password,
        stop: server.stop,
      }),
  )
);
