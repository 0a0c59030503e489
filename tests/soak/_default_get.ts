/**
 * One `XCAPClient.get()` with no options at all, for `default_timeout_soak.ts`: prints the
 * outcome and ends when the request does.
 *
 * @module
 */
import { XCAPClient } from "../../mod.ts";

const result = await new XCAPClient(Deno.args[0]!, "sip:alice@example.com").get("resource-lists");
console.log(result.isErr() ? `${result.error._tag}: ${result.error.message}` : "ok");
