/**
 * Guessing the application usage (AUID) from a node selector's first step or a document's
 * root element, as python-xcaplib's `xcapclient` does when `--app` is left out. Pure.
 *
 * @module
 */

/**
 * Root element local names and the AUID whose documents have them. `ruleset` is a common-policy
 * document (RFC 4745) that several usages share; it means `pres-rules` (RFC 5025), as in
 * python-xcaplib.
 *
 * @example Usage
 * ```ts
 * import { APPLICATION_BY_ROOT_ELEMENT } from "./guess.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(APPLICATION_BY_ROOT_ELEMENT.get("ruleset"), "pres-rules");
 * assertEquals(APPLICATION_BY_ROOT_ELEMENT.get("resource-lists"), "resource-lists");
 * ```
 */
export const APPLICATION_BY_ROOT_ELEMENT: ReadonlyMap<string, string> = new Map([
  ["resource-lists", "resource-lists"],
  ["rls-services", "rls-services"],
  ["ruleset", "pres-rules"],
  ["pres-rules", "pres-rules"],
  ["presence", "pidf-manipulation"],
  ["pidf-manipulation", "pidf-manipulation"],
  ["dialog-rules", "org.openxcap.dialog-rules"],
  ["watchers", "org.openxcap.watchers"],
  ["xcap-directory", "org.openmobilealliance.xcap-directory"],
  ["xcap-caps", "xcap-caps"],
]);

/**
 * The local name of the document element of an XML text: the first start tag after the XML
 * declaration, comments, processing instructions, a DOCTYPE and whitespace. Not a validator:
 * it only looks far enough to find that name.
 *
 * @param xml The document.
 * @returns The local name (prefix removed), or `undefined` when no start tag comes first.
 *
 * @example Usage
 * ```ts
 * import { rootElementName } from "./guess.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(
 *   rootElementName('<?xml version="1.0"?>\n<!-- mine -->\n<rl:resource-lists xmlns:rl="x"/>'),
 *   "resource-lists",
 * );
 * assertEquals(rootElementName("sip:bob@example.com"), undefined);
 * ```
 */
export function rootElementName(xml: string): string | undefined {
  let i = xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (;;) {
    while (i < xml.length && /\s/.test(xml[i]!)) i++;
    if (xml.startsWith("<?", i)) {
      const end = xml.indexOf("?>", i + 2);
      if (end === -1) return undefined;
      i = end + 2;
    } else if (xml.startsWith("<!--", i)) {
      const end = xml.indexOf("-->", i + 4);
      if (end === -1) return undefined;
      i = end + 3;
    } else if (xml.startsWith("<!DOCTYPE", i)) {
      // Skip to the '>' that closes the DOCTYPE, past an internal subset in brackets.
      let depth = 0;
      let j = i + 9;
      for (; j < xml.length; j++) {
        const c = xml[j];
        if (c === "[") depth++;
        else if (c === "]") depth--;
        else if (c === ">" && depth <= 0) break;
      }
      if (j >= xml.length) return undefined;
      i = j + 1;
    } else if (xml[i] === "<") {
      const match = /^<([^\s/>!?]+)/.exec(xml.slice(i, i + 300));
      if (!match) return undefined;
      const name = match[1]!;
      return name.slice(name.indexOf(":") + 1) || undefined;
    } else {
      return undefined;
    }
  }
}

/**
 * The local name of a node selector's first step (`/rl:resource-lists/...` gives
 * `resource-lists`), or `undefined` for `/*` and selectors that do not start with `/`.
 *
 * @param selector The node selector as typed.
 * @returns The local name of the document element it names.
 *
 * @example Usage
 * ```ts
 * import { selectorRootName } from "./guess.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(selectorRootName('/ruleset/rule[@id="a"]'), "ruleset");
 * assertEquals(selectorRootName("/rl:resource-lists[1]/list"), "resource-lists");
 * assertEquals(selectorRootName("/*"), undefined);
 * ```
 */
export function selectorRootName(selector: string): string | undefined {
  const match = /^\/([^/[\]@*]+)/.exec(selector);
  if (!match) return undefined;
  const name = match[1]!.trim();
  return name.slice(name.indexOf(":") + 1) || undefined;
}

/** What {@linkcode guessApplication} found, and from where. */
export interface ApplicationGuess {
  /** The AUID. */
  readonly auid: string;
  /** Where it came from. */
  readonly source: "selector" | "document";
  /** The root element name it was guessed from. */
  readonly rootElement: string;
}

/**
 * Guess the AUID when `--app` is left out: from the node selector's first step if there is a
 * selector (a PUT body is then a fragment whose root says nothing about the document), else
 * from the root element of the document sent.
 *
 * @param input The node selector and/or the body to send.
 * @returns The guess, or a message saying why there is none.
 *
 * @example Usage
 * ```ts
 * import { guessApplication } from "./guess.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(guessApplication({ selector: "/ruleset/rule" }), {
 *   auid: "pres-rules",
 *   source: "selector",
 *   rootElement: "ruleset",
 * });
 * assertEquals(
 *   guessApplication({ body: '<presence xmlns="urn:ietf:params:xml:ns:pidf"/>' }),
 *   { auid: "pidf-manipulation", source: "document", rootElement: "presence" },
 * );
 * assertEquals(typeof guessApplication({}), "string");
 * ```
 */
export function guessApplication(
  input: { readonly selector?: string; readonly body?: string },
): ApplicationGuess | string {
  const known = [...APPLICATION_BY_ROOT_ELEMENT.keys()].join(", ");
  if (input.selector !== undefined) {
    const root = selectorRootName(input.selector);
    if (root === undefined) {
      return `Cannot tell the application from node selector ${
        JSON.stringify(input.selector)
      }: give --app AUID`;
    }
    const auid = APPLICATION_BY_ROOT_ELEMENT.get(root);
    return auid === undefined
      ? `Cannot tell the application from root element <${root}>: give --app AUID ` +
        `(known root elements: ${known})`
      : Object.freeze({ auid, source: "selector", rootElement: root });
  }
  if (input.body !== undefined) {
    const root = rootElementName(input.body);
    if (root === undefined) {
      return "Cannot tell the application: the document sent has no root element; give --app AUID";
    }
    const auid = APPLICATION_BY_ROOT_ELEMENT.get(root);
    return auid === undefined
      ? `Cannot tell the application from the document's root element <${root}>: give --app ` +
        `AUID (known root elements: ${known})`
      : Object.freeze({ auid, source: "document", rootElement: root });
  }
  return "Give --app AUID or a node selector such as /resource-lists/list";
}
