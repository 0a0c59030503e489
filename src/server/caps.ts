/**
 * The `xcap-caps` document (RFC 4825 §12): the server's capabilities, generated from the
 * application usages it serves.
 *
 * Pure: Web APIs only.
 *
 * @module
 */
import type { ApplicationUsage } from "../client/media_types.ts";
import type { ServerApplicationUsage } from "./usages.ts";

import { XCAP_CAPS_NAMESPACE } from "../usages/caps.ts";
import { escapeText } from "../xml/_names.ts";

/**
 * Build the global `xcap-caps` document (RFC 4825 §12.2): the AUIDs served (`xcap-caps` itself
 * first), and the namespaces their documents use (the default namespaces and the namespaces of
 * their document elements), each listed once, in order of first appearance. The extension list
 * is left out: the server implements no XCAP extension.
 *
 * @param applications The application usages served.
 * @returns The document text, ending with a newline.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_SERVER_APPLICATIONS } from "@xcap/xcap/server";
 * import { buildXcapCaps } from "./caps.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const caps = buildXcapCaps(DEFAULT_SERVER_APPLICATIONS);
 * assertStringIncludes(caps, "<auid>resource-lists</auid>");
 * assertStringIncludes(caps, "<namespace>urn:ietf:params:xml:ns:resource-lists</namespace>");
 * ```
 */
export function buildXcapCaps(
  applications: Iterable<ApplicationUsage | ServerApplicationUsage>,
): string {
  const auids = ["xcap-caps"];
  const namespaces = [XCAP_CAPS_NAMESPACE];
  const add = (list: string[], value: string) => {
    if (value !== "" && !list.includes(value)) list.push(value);
  };
  for (const usage of applications) {
    add(auids, usage.auid);
    add(namespaces, usage.defaultNamespace);
    for (const root of (usage as ServerApplicationUsage).rootElements ?? []) {
      add(namespaces, root.namespace);
    }
  }
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<xcap-caps xmlns="${XCAP_CAPS_NAMESPACE}">`,
    "  <auids>",
    ...auids.map((a) => `    <auid>${escapeText(a)}</auid>`),
    "  </auids>",
    "  <namespaces>",
    ...namespaces.map((n) => `    <namespace>${escapeText(n)}</namespace>`),
    "  </namespaces>",
    "</xcap-caps>",
    "",
  ];
  return lines.join("\n");
}
