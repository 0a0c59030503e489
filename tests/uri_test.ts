import { assert, assertEquals, assertMatch, assertStrictEquals } from "@std/assert";
import {
  formatNodeSelector,
  type NodeSelector,
  parseNodeSelector,
  selectorPrefixes,
  type SelectorStep,
  selectorStep,
  type TerminalSelector,
} from "../src/client/selector.ts";
import {
  buildXcapUri,
  type ParsedXcapUri,
  parseXcapUri,
  type XcapTarget,
} from "../src/client/uri.ts";

const ROOT = "http://xcap.example.com/root";
const JOE = { xcapRoot: ROOT, auid: "resource-lists", xui: "sip:joe@example.com" } as const;

function built(options: XcapTarget): string {
  const result = buildXcapUri(options);
  assert(result.isOk(), result.isErr() ? result.error.message : "");
  return result.value;
}

function buildError(options: XcapTarget): { argument: string; message: string } {
  const result = buildXcapUri(options);
  assert(result.isErr(), `expected an error, got ${result.isOk() && result.value}`);
  assertEquals(result.error._tag, "InvalidArgument");
  return { argument: result.error.argument, message: result.error.message };
}

function parseError(url: string | URL, root = "/r"): { argument: string; message: string } {
  const result = parseXcapUri(url, root);
  assert(result.isErr(), `expected an error for ${String(url)}`);
  assertEquals(result.error._tag, "InvalidArgument");
  return { argument: result.error.argument, message: result.error.message };
}

// ------------------------------------------------------------------------------------------
// buildXcapUri: exact strings
// ------------------------------------------------------------------------------------------

Deno.test("buildXcapUri() builds the RFC 4825 §6 style example exactly", () => {
  assertEquals(
    built({
      ...JOE,
      node: '/resource-lists/list[@name="friends"]/entry[@uri="sip:bob@example.com"]/display-name',
    }),
    "http://xcap.example.com/root/resource-lists/users/sip:joe@example.com/index/~~" +
      "/resource-lists/list%5B@name=%22friends%22%5D/entry%5B@uri=%22sip:bob@example.com%22%5D" +
      "/display-name",
  );
});

Deno.test("buildXcapUri() builds a document URI without node selector", () => {
  assertEquals(
    built(JOE),
    "http://xcap.example.com/root/resource-lists/users/sip:joe@example.com/index",
  );
  assertEquals(
    built({ ...JOE, filename: "dir/sub/doc.xml" }),
    "http://xcap.example.com/root/resource-lists/users/sip:joe@example.com/dir/sub/doc.xml",
  );
});

Deno.test("buildXcapUri() accepts a root with or without path and trailing slash", () => {
  const tail = "/resource-lists/users/sip:joe@example.com/index";
  assertEquals(
    built({ ...JOE, xcapRoot: "http://h:8080/xcap-root" }),
    "http://h:8080/xcap-root" + tail,
  );
  assertEquals(
    built({ ...JOE, xcapRoot: "http://h:8080/xcap-root/" }),
    "http://h:8080/xcap-root" + tail,
  );
  assertEquals(built({ ...JOE, xcapRoot: "http://h:8080" }), "http://h:8080" + tail);
  assertEquals(built({ ...JOE, xcapRoot: "https://H:443/a//" }), "https://h/a" + tail);
  assertEquals(built({ ...JOE, xcapRoot: "http://[::1]:8080/x" }), "http://[::1]:8080/x" + tail);
});

Deno.test("buildXcapUri() builds global tree URIs", () => {
  assertEquals(
    built({ xcapRoot: ROOT, auid: "xcap-caps", global: true }),
    "http://xcap.example.com/root/xcap-caps/global/index",
  );
  assertEquals(
    built({ xcapRoot: ROOT, auid: "org.openmobilealliance.groups", global: true, filename: "a/b" }),
    "http://xcap.example.com/root/org.openmobilealliance.groups/global/a/b",
  );
});

Deno.test("buildXcapUri() encodes the XUI as one segment, keeping : and @", () => {
  assertEquals(
    built({ ...JOE, xui: "sip:alice@example.com" }),
    "http://xcap.example.com/root/resource-lists/users/sip:alice@example.com/index",
  );
  assertEquals(
    built({ ...JOE, xui: "a/b?c#d%e[f] g~é😀" }),
    "http://xcap.example.com/root/resource-lists/users/" +
      "a%2Fb%3Fc%23d%25e%5Bf%5D%20g~%C3%A9%F0%9F%98%80/index",
  );
  assertEquals(
    built({ ...JOE, xui: '../"<>\\^`{|}' }),
    "http://xcap.example.com/root/resource-lists/users/..%2F%22%3C%3E%5C%5E%60%7B%7C%7D/index",
  );
  assertEquals(
    built({ ...JOE, xui: "tel:+1-555;phone-context=x!$&'()*,=" }),
    "http://xcap.example.com/root/resource-lists/users/tel:+1-555;phone-context=x!$&'()*,=/index",
  );
});

Deno.test("buildXcapUri() takes filename characters literally, so %2F stays one name", () => {
  assertEquals(
    built({ ...JOE, filename: "dir/a%2Fb?#[x] é.xml" }),
    "http://xcap.example.com/root/resource-lists/users/sip:joe@example.com/dir/" +
      "a%252Fb%3F%23%5Bx%5D%20%C3%A9.xml",
  );
  assertEquals(
    built({ ...JOE, filename: "%2e%2e" }),
    "http://xcap.example.com/root/resource-lists/users/sip:joe@example.com/%252e%252e",
  );
});

Deno.test("buildXcapUri() percent-encodes node selector characters not allowed in a path", () => {
  assertEquals(
    built({ ...JOE, node: '/a[@b="sp ace#q?p%é{}|\\^`"]' }),
    "http://xcap.example.com/root/resource-lists/users/sip:joe@example.com/index/~~" +
      "/a%5B@b=%22sp%20ace%23q%3Fp%25%C3%A9%7B%7D%7C%5C%5E%60%22%5D",
  );
  assertEquals(
    built({ ...JOE, node: "/a[@b='&lt;&amp;>']" }),
    "http://xcap.example.com/root/resource-lists/users/sip:joe@example.com/index/~~" +
      "/a%5B@b=%22&lt;&amp;%3E%22%5D",
  );
});

Deno.test("buildXcapUri() writes / inside attribute values as %2F and keeps ~~ encoded", () => {
  assertEquals(
    built({ ...JOE, node: '/a[@href="http://x/~~/y"]/b' }),
    "http://xcap.example.com/root/resource-lists/users/sip:joe@example.com/index/~~" +
      "/a%5B@href=%22http:%2F%2Fx%2F~~%2Fy%22%5D/b",
  );
});

Deno.test("buildXcapUri() writes a node selector in canonical form", () => {
  const expected = "http://xcap.example.com/root/resource-lists/users/sip:joe@example.com/index" +
    "/~~/a%5B2%5D%5B@b=%22v%22%5D/@c";
  assertEquals(built({ ...JOE, node: "/a[002][@b='v']/@c" }), expected);
  assertEquals(
    built({ ...JOE, node: parseNodeSelector('/a[2][@b="v"]/@c')._unsafeUnwrap() }),
    expected,
  );
  assertEquals(
    built({ ...JOE, node: `/a[@b='"']` }),
    "http://xcap.example.com/root/resource-lists/users/sip:joe@example.com/index/~~/a%5B@b='%22'%5D",
  );
  assertEquals(
    built({ ...JOE, node: "/a/namespace::*" }),
    "http://xcap.example.com/root/resource-lists/users/sip:joe@example.com/index/~~/a/namespace::*",
  );
});

Deno.test("buildXcapUri() adds xmlns() bindings only for the prefixes the selector uses", () => {
  assertEquals(
    built({
      ...JOE,
      node: '/rl:resource-lists/rl:list[@name="f"]/x:ext/@xml:lang',
      namespaces: {
        x: "urn:example:ext",
        rl: "urn:ietf:params:xml:ns:resource-lists",
        unused: "urn:unused",
        xml: "http://www.w3.org/XML/1998/namespace",
      },
    }),
    "http://xcap.example.com/root/resource-lists/users/sip:joe@example.com/index/~~" +
      "/rl:resource-lists/rl:list%5B@name=%22f%22%5D/x:ext/@xml:lang" +
      "?xmlns(rl=urn:ietf:params:xml:ns:resource-lists)xmlns(x=urn:example:ext)",
  );
  // No node selector, no query.
  assertEquals(
    built({ ...JOE, namespaces: { rl: "urn:rl" } }),
    "http://xcap.example.com/root/resource-lists/users/sip:joe@example.com/index",
  );
});

Deno.test("buildXcapUri() escapes namespace URIs for the query and for xmlns()", () => {
  assertEquals(
    built({ ...JOE, node: "/é:a", namespaces: { "é": "http://x/ns#a(b)^c d+e&f%20'g" } }),
    "http://xcap.example.com/root/resource-lists/users/sip:joe@example.com/index/~~/%C3%A9:a" +
      "?xmlns(%C3%A9=http://x/ns%23a%5E(b%5E)%5E%5Ec%20d%2Be%26f%2520%27g)",
  );
});

// ------------------------------------------------------------------------------------------
// buildXcapUri: rejections
// ------------------------------------------------------------------------------------------

Deno.test("buildXcapUri() rejects a bad XCAP root", () => {
  assertEquals(buildError({ ...JOE, xcapRoot: "xcap" }), {
    argument: "xcapRoot",
    message: 'Cannot build XCAP URI: xcapRoot "xcap" is not an absolute URL',
  });
  assertEquals(
    buildError({ ...JOE, xcapRoot: "ftp://h/" }).message,
    'Cannot build XCAP URI: xcapRoot "ftp://h/" must be an http: or https: URL',
  );
  assertEquals(
    buildError({ ...JOE, xcapRoot: "http://h/x?y" }).message,
    'Cannot build XCAP URI: xcapRoot "http://h/x?y" must not have a query or fragment',
  );
  assertEquals(
    buildError({ ...JOE, xcapRoot: "http://h/x?" }).message,
    'Cannot build XCAP URI: xcapRoot "http://h/x?" must not have a query or fragment',
  );
  assertEquals(
    buildError({ ...JOE, xcapRoot: "http://h/x#f" }).message,
    'Cannot build XCAP URI: xcapRoot "http://h/x#f" must not have a query or fragment',
  );
  assertEquals(
    buildError({ ...JOE, xcapRoot: "http://u:p@h/" }).message,
    'Cannot build XCAP URI: xcapRoot "http://…@h/" must not contain credentials',
  );
});

Deno.test("buildXcapUri() rejects AUIDs that could escape their segment", () => {
  const message = (auid: string) => buildError({ ...JOE, auid });
  assertEquals(message(""), {
    argument: "auid",
    message: 'Cannot build XCAP URI: auid "" is empty',
  });
  assertEquals(message(".").message, 'Cannot build XCAP URI: auid "." is a dot segment');
  assertEquals(message("..").message, 'Cannot build XCAP URI: auid ".." is a dot segment');
  assertEquals(
    message("~~").message,
    'Cannot build XCAP URI: auid "~~" is "~~", the node selector separator',
  );
  for (const auid of ["a/b", "a%2Fb", "a b", "a?b", "a#b", "é"]) {
    assertEquals(
      message(auid).message,
      `Cannot build XCAP URI: auid ${JSON.stringify(auid)} may only contain letters, digits ` +
        "and - _ ~ . ! $ & ' ( ) * + , ; = : @",
    );
  }
});

Deno.test("buildXcapUri() rejects a missing, empty, dot or control-character XUI", () => {
  assertEquals(buildError({ xcapRoot: ROOT, auid: "a" }), {
    argument: "xui",
    message: "Cannot build XCAP URI: xui is required unless global is true",
  });
  assertEquals(buildError({ ...JOE, global: true }), {
    argument: "xui",
    message: "Cannot build XCAP URI: xui must not be given for the global tree (global: true)",
  });
  const message = (xui: string) => buildError({ ...JOE, xui }).message;
  assertEquals(message(""), 'Cannot build XCAP URI: xui "" is empty');
  assertEquals(message("."), 'Cannot build XCAP URI: xui "." is a dot segment');
  assertEquals(message(".."), 'Cannot build XCAP URI: xui ".." is a dot segment');
  assertEquals(
    message("~~"),
    'Cannot build XCAP URI: xui "~~" is "~~", the node selector separator',
  );
  assertEquals(message("a\nb"), 'Cannot build XCAP URI: xui "a\\nb" contains a control character');
  assertEquals(
    message("\ud800"),
    'Cannot build XCAP URI: xui "\\ud800" has a lone UTF-16 surrogate',
  );
});

Deno.test("buildXcapUri() rejects filenames whose names would change the path structure", () => {
  const message = (filename: string) => buildError({ ...JOE, filename });
  assertEquals(message(""), {
    argument: "filename",
    message: 'Cannot build XCAP URI: filename "": path segment 1 "" is empty',
  });
  assertEquals(
    message("/index").message,
    'Cannot build XCAP URI: filename "/index": path segment 1 "" is empty',
  );
  assertEquals(
    message("a//b").message,
    'Cannot build XCAP URI: filename "a//b": path segment 2 "" is empty',
  );
  assertEquals(
    message("a/").message,
    'Cannot build XCAP URI: filename "a/": path segment 2 "" is empty',
  );
  assertEquals(
    message("..").message,
    'Cannot build XCAP URI: filename "..": path segment 1 ".." is a dot segment',
  );
  assertEquals(
    message("a/../b").message,
    'Cannot build XCAP URI: filename "a/../b": path segment 2 ".." is a dot segment',
  );
  assertEquals(
    message("./a").message,
    'Cannot build XCAP URI: filename "./a": path segment 1 "." is a dot segment',
  );
  assertEquals(
    message("a/~~/b").message,
    'Cannot build XCAP URI: filename "a/~~/b": path segment 2 "~~" is "~~", the node selector ' +
      "separator",
  );
  assertEquals(
    message("a\u0000").message,
    'Cannot build XCAP URI: filename "a\\u0000": path segment 1 "a\\u0000" contains a control ' +
      "character",
  );
});

Deno.test("buildXcapUri() rejects invalid node selectors under the option name node", () => {
  assertEquals(buildError({ ...JOE, node: "/a[" }), {
    argument: "node",
    message: 'Cannot parse node selector "/a[": unbalanced bracket at offset 3',
  });
  assertEquals(buildError({ ...JOE, node: { steps: [] } }), {
    argument: "node",
    message: "Cannot format node selector: it has no steps (at least one element step is needed)",
  });
  assertEquals(buildError({ ...JOE, node: "a" }).argument, "node");
});

Deno.test("buildXcapUri() rejects a selector prefix with no namespace binding", () => {
  assertEquals(buildError({ ...JOE, node: "/p:a" }), {
    argument: "namespaces",
    message:
      'Cannot build XCAP URI: the node selector uses the prefix "p" but namespaces has no binding for it',
  });
  assertEquals(
    buildError({ ...JOE, node: '/a[@q:b="c"]', namespaces: { p: "urn:p" } }).message,
    'Cannot build XCAP URI: the node selector uses the prefix "q" but namespaces has no binding for it',
  );
  // An inherited property is not a binding.
  assertEquals(
    buildError({ ...JOE, node: "/__proto__:a", namespaces: {} }).message,
    'Cannot build XCAP URI: the node selector uses the prefix "__proto__" but namespaces has no ' +
      "binding for it",
  );
  // The prefix xml is bound by definition.
  assertEquals(
    built({ ...JOE, node: "/a/@xml:lang" }),
    "http://xcap.example.com/root/resource-lists/users/sip:joe@example.com/index/~~/a/@xml:lang",
  );
});

Deno.test("buildXcapUri() rejects invalid namespace bindings", () => {
  const message = (namespaces: unknown) =>
    buildError({ ...JOE, namespaces: namespaces as Record<string, string> });
  assertEquals(message({ "a:b": "urn:x" }), {
    argument: "namespaces",
    message: 'Cannot build XCAP URI: namespace prefix "a:b" is not an NCName',
  });
  assertEquals(
    message({ "1a": "urn:x" }).message,
    'Cannot build XCAP URI: namespace prefix "1a" is not an NCName',
  );
  assertEquals(
    message({ xmlns: "urn:x" }).message,
    'Cannot build XCAP URI: the prefix "xmlns" is reserved and cannot be bound',
  );
  assertEquals(
    message({ xml: "urn:x" }).message,
    'Cannot build XCAP URI: the prefix "xml" can only be bound to ' +
      "http://www.w3.org/XML/1998/namespace",
  );
  assertEquals(
    message({ p: "" }).message,
    'Cannot build XCAP URI: namespace URI for prefix "p" must be a non-empty string',
  );
  assertEquals(
    message({ p: 1 }).message,
    'Cannot build XCAP URI: namespace URI for prefix "p" must be a non-empty string',
  );
  assertEquals(
    message({ p: "\udc00" }).message,
    'Cannot build XCAP URI: namespace URI for prefix "p" has a lone surrogate',
  );
  assertEquals(
    message(["urn:x"]).message,
    "Cannot build XCAP URI: namespaces must be an object of prefix to namespace URI",
  );
});

Deno.test("buildXcapUri() returns errors, not exceptions, for values of the wrong type", () => {
  const cases: unknown[] = [
    null,
    { ...JOE, xcapRoot: 1 },
    { ...JOE, auid: 1 },
    { ...JOE, xui: 1 },
    { ...JOE, global: "yes" },
    { ...JOE, filename: 1 },
    { ...JOE, node: 1 },
  ];
  for (const options of cases) {
    const result = buildXcapUri(options as XcapTarget);
    assert(result.isErr(), JSON.stringify(options));
    assertEquals(result.error._tag, "InvalidArgument");
  }
});

// ------------------------------------------------------------------------------------------
// parseXcapUri
// ------------------------------------------------------------------------------------------

Deno.test("parseXcapUri() parses the RFC 4825 §6 style example", () => {
  const url = "http://xcap.example.com/root/resource-lists/users/sip:joe@example.com/index/~~" +
    "/resource-lists/list%5b@name=%22friends%22%5d/entry%5b@uri=%22sip:bob@example.com%22%5d";
  assertEquals(parseXcapUri(url, "/root")._unsafeUnwrap(), {
    auid: "resource-lists",
    tree: "users",
    xui: "sip:joe@example.com",
    documentPath: "index",
    nodeText: '/resource-lists/list[@name="friends"]/entry[@uri="sip:bob@example.com"]',
    node: parseNodeSelector(
      '/resource-lists/list[@name="friends"]/entry[@uri="sip:bob@example.com"]',
    )._unsafeUnwrap(),
    namespaces: {},
  });
});

Deno.test("parseXcapUri() parses global documents in folders, ignoring a fragment", () => {
  assertEquals(
    parseXcapUri("http://h/xcap-root/a/global/d/e.xml#frag", "/xcap-root/")._unsafeUnwrap(),
    {
      auid: "a",
      tree: "global",
      documentPath: "d/e.xml",
      namespaces: {},
    },
  );
});

Deno.test("parseXcapUri() accepts an origin-relative path, a URL object and any root form", () => {
  const expected: ParsedXcapUri = {
    auid: "a",
    tree: "users",
    xui: "x",
    documentPath: "i",
    namespaces: {},
  };
  assertEquals(parseXcapUri("/r/a/users/x/i", "/r")._unsafeUnwrap(), expected);
  assertEquals(parseXcapUri(new URL("http://h/r/a/users/x/i"), "/r/")._unsafeUnwrap(), expected);
  assertEquals(parseXcapUri("http://h/a/users/x/i", "")._unsafeUnwrap(), expected);
  assertEquals(parseXcapUri("http://h/a/users/x/i", "/")._unsafeUnwrap(), expected);
});

Deno.test("parseXcapUri() decodes each part exactly once", () => {
  const parsed = parseXcapUri(
    "/r/%72l/users/sip%3Aa%252F%2Fb/dir%2520x/d%C3%A9.xml/~~/a%5B@b=%22%2525%22%5D",
    "/r",
  )._unsafeUnwrap();
  assertEquals(parsed.auid, "rl");
  assertEquals(parsed.xui, "sip:a%2F/b");
  assertEquals(parsed.documentPath, "dir%20x/dé.xml");
  assertEquals(parsed.nodeText, '/a[@b="%25"]');
  assertEquals(parsed.node?.steps[0]?.attribute?.value, "%25");
});

Deno.test("parseXcapUri() splits at the first ~~ even when values hold %2F or ~~", () => {
  const encoded = parseXcapUri("/r/a/users/x/i/~~/b%5B@c=%22%2F~~%2F%22%5D/d", "/r")
    ._unsafeUnwrap();
  // A client that did not encode "/" inside the value: the first "~~" still separates.
  const raw = parseXcapUri('/r/a/users/x/i/~~/b[@c="/~~/"]/d', "/r")._unsafeUnwrap();
  for (const parsed of [encoded, raw]) {
    assertEquals(parsed.documentPath, "i");
    assertEquals(parsed.nodeText, '/b[@c="/~~/"]/d');
    assertEquals(parsed.node, parseNodeSelector('/b[@c="/~~/"]/d')._unsafeUnwrap());
  }
});

Deno.test("parseXcapUri() reads xmlns() bindings with XPointer escaping and whitespace", () => {
  const parsed = parseXcapUri(
    "/r/a/users/x/i/~~/p:b/q:c?xmlns(p=urn:a(b)c)%20xmlns(q=%5E)x%5E%5E%5E()xmlns(z=urn:z)",
    "/r",
  )._unsafeUnwrap();
  assertEquals(parsed.namespaces, { p: "urn:a(b)c", q: ")x^(", z: "urn:z" });
  assertEquals(parseXcapUri("/r/a/users/x/i?", "/r")._unsafeUnwrap().namespaces, {});
});

Deno.test("parseXcapUri() keeps a __proto__ prefix as an ordinary binding", () => {
  const parsed = parseXcapUri("/r/a/users/x/i/~~/__proto__:b?xmlns(__proto__=urn:p)", "/r");
  assertEquals(parsed._unsafeUnwrap().namespaces["__proto__"], "urn:p");
  assertEquals(Object.keys(parsed._unsafeUnwrap().namespaces), ["__proto__"]);
});

Deno.test("parseXcapUri() rejects dot segments, empty segments and encoded slashes", () => {
  const cases: [string, string][] = [
    ["/r/a/users/x/%2e%2e/index", 'document path segment 1 "%2e%2e" is a dot segment'],
    ["/r/a/users/x/../index", 'document path segment 1 ".." is a dot segment'],
    ["/r/a/users/x/d/./index", 'document path segment 2 "." is a dot segment'],
    ["/r/a/users/x/%2E", 'document path segment 1 "%2E" is a dot segment'],
    ["/r/a/users/x/a%2Fb", 'document path segment 1 "a%2Fb" contains an encoded "/"'],
    ["/r/a/users/x/a%2fb", 'document path segment 1 "a%2fb" contains an encoded "/"'],
    ["/r/a/users/x/a//b", 'document path segment 2 "" is empty'],
    ["/r/a/users/x/a/", 'document path segment 2 "" is empty'],
    [
      "/r/a/users/x/%7E%7E",
      'document path segment 1 "%7E%7E" is "~~", the node selector separator',
    ],
    ["/r/a/users/x/a%00", 'document path segment 1 "a%00" contains a control character'],
    ["/r/a/users/x", "the document selector has no document name"],
    ["/r/a/users/x/~~/b", "the document selector has no document name"],
    ["/r/a/global", "the document selector has no document name"],
    ["/r/a/users/..", 'XUI ".." is a dot segment'],
    ["/r/a/users//i", 'XUI "" is empty'],
    ["/r/a/users/%00/i", 'XUI "\\u0000" contains a control character'],
    ["/r/a/users", 'no XUI after "users"'],
    ["/r/../users/x/i", 'AUID ".." is a dot segment'],
    ["/r//users/x/i", 'AUID "" is empty'],
    [
      "/r/a%2Fb/users/x/i",
      'AUID "a/b" may only contain letters, digits and - _ ~ . ! $ & \' ( ) * + , ; = : @',
    ],
    ["/r/a/people/x/i", 'the segment after the AUID must be "users" or "global", not "people"'],
    ["/r/a", 'the segment after the AUID must be "users" or "global", not ""'],
    ["/other/a/users/x/i", 'the path is not under the XCAP root "/r/"'],
    ["/r", 'the path is not under the XCAP root "/r/"'],
    ["/rr/a/users/x/i", 'the path is not under the XCAP root "/r/"'],
    ["xcap", "it is not an absolute URL or a path"],
  ];
  for (const [url, reason] of cases) {
    assertEquals(parseError(url), {
      argument: "url",
      message: `Cannot parse XCAP URI ${JSON.stringify(url)}: ${reason}`,
    });
  }
});

Deno.test("parseXcapUri() rejects malformed percent-escapes without throwing", () => {
  const cases: [string, string][] = [
    ["/r/a/users/x/%zz", 'document path segment 1: malformed percent-escape "%zz"'],
    ["/r/a/users/x/%", 'document path segment 1: malformed percent-escape "%"'],
    ["/r/a/users/x/a%4", 'document path segment 1: malformed percent-escape "%4"'],
    ["/r/a/users/x/%E9", 'document path segment 1: percent-escapes in "%E9" are not valid UTF-8'],
    ["/r/a/users/%C0%AF/i", 'XUI: percent-escapes in "%C0%AF" are not valid UTF-8'],
    ["/r/%G1/users/x/i", 'AUID: malformed percent-escape "%G1"'],
    ["/r/a/users/x/i/~~/b%ZZ", 'node selector: malformed percent-escape "%ZZ"'],
    ["/r/a/users/x/i?xmlns(p=%FF)", 'query: percent-escapes in "xmlns(p=%FF)" are not valid UTF-8'],
  ];
  for (const [url, reason] of cases) {
    assertEquals(
      parseError(url).message,
      `Cannot parse XCAP URI ${JSON.stringify(url)}: ${reason}`,
    );
  }
});

Deno.test("parseXcapUri() rejects empty and invalid node selectors", () => {
  const cases: [string, string][] = [
    ["/r/a/users/x/i/~~", 'the node selector after "~~" is empty'],
    ["/r/a/users/x/i/~~/", 'invalid node selector "/": empty step at offset 1'],
    ["/r/a/users/x/i/~~/b%5B", 'invalid node selector "/b[": unbalanced bracket at offset 3'],
    [
      "/r/a/users/x/i/~~/b/text()",
      'invalid node selector "/b/text()": unexpected character "(" at offset 7; extension ' +
      "selectors, XPath axes and functions are not supported",
    ],
  ];
  for (const [url, reason] of cases) {
    assertEquals(
      parseError(url).message,
      `Cannot parse XCAP URI ${JSON.stringify(url)}: ${reason}`,
    );
  }
});

Deno.test("parseXcapUri() rejects malformed queries and unbound prefixes", () => {
  const cases: [string, string][] = [
    [
      "/r/a/users/x/i/~~/p:b",
      'the node selector uses the prefix "p", which no xmlns() part of the query binds',
    ],
    [
      "/r/a/users/x/i?foo=bar",
      'query: expected "xmlns(" at offset 0 (only xmlns() namespace bindings are allowed)',
    ],
    ["/r/a/users/x/i?xmlns(p=a)xmlns(p=b)", 'query: the prefix "p" is bound more than once'],
    ["/r/a/users/x/i?xmlns(p=a", 'query: the xmlns() part at offset 0 is not closed with ")"'],
    ["/r/a/users/x/i?xmlns(p=a(b)", 'query: the xmlns() part at offset 0 is not closed with ")"'],
    [
      "/r/a/users/x/i?xmlns(p=a^b)",
      'query: "^" at offset 9 must be followed by ^, ( or ) (XPointer escaping)',
    ],
    ["/r/a/users/x/i?xmlns(p=)", 'query: the namespace for prefix "p" is empty'],
    [
      "/r/a/users/x/i?xmlns(1p=a)",
      'query: the xmlns() part at offset 0 needs "prefix=namespace" with an NCName prefix',
    ],
    [
      "/r/a/users/x/i?xmlns(pa)",
      'query: the xmlns() part at offset 0 needs "prefix=namespace" with an NCName prefix',
    ],
    ["/r/a/users/x/i?xmlns(xmlns=a)", 'query: the prefix "xmlns" is reserved and cannot be bound'],
    [
      "/r/a/users/x/i?xmlns(xml=a)",
      'query: the prefix "xml" can only be bound to http://www.w3.org/XML/1998/namespace',
    ],
  ];
  for (const [url, reason] of cases) {
    assertEquals(
      parseError(url).message,
      `Cannot parse XCAP URI ${JSON.stringify(url)}: ${reason}`,
    );
  }
});

Deno.test("parseXcapUri() rejects a malformed xcapRootPath", () => {
  assertEquals(parseError("/r/a/users/x/i", "r"), {
    argument: "xcapRootPath",
    message: 'Cannot parse XCAP URI "/r/a/users/x/i": xcapRootPath "r" must be "" or a path ' +
      'starting with "/" without query or fragment',
  });
  assertEquals(parseError("/r/a/users/x/i", "/r?x").argument, "xcapRootPath");
});

Deno.test("parseXcapUri() reads a string path as sent, a URL object as normalized", () => {
  // As a string, ".." is refused; a URL object has already resolved it.
  assertEquals(
    parseError("http://h/r/a/users/x/d/../i").message,
    'Cannot parse XCAP URI "http://h/r/a/users/x/d/../i": document path segment 2 ".." is a dot segment',
  );
  assertEquals(
    parseXcapUri(new URL("http://h/r/a/users/x/d/../i"), "/r")._unsafeUnwrap().documentPath,
    "i",
  );
});

// ------------------------------------------------------------------------------------------
// Round trip: parseXcapUri(buildXcapUri(x)) gives x back
// ------------------------------------------------------------------------------------------

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const TEXT_CHARS = [
  ..."aZ09:@/?#%[] ~.-_!$&'()*+,;=\"<>\\^`{|}",
  "é",
  "😀",
  "\u00a0",
  "\u2028",
  "中",
];
const AUID_CHARS = [..."abcXYZ019-_~.!$&'()*+,;=:@"];
const PREFIXES = ["a", "rl", "x1", "é", "p.q"];
const NAMES = ["entry", "list", "é", "_x", "a-b.c", "中"];
const VALUE_CHARS = [..."a /[]~%#?=@&<>\"';*", "\t", "é", "😀", "~~", "/~~/", "%2F"];

function generate(random: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const text = (chars: readonly string[], min: number, max: number) => {
    let s = "";
    const length = min + Math.floor(random() * (max - min + 1));
    for (let i = 0; i < length; i++) s += pick(chars);
    return s;
  };
  const name = (bad: (s: string) => boolean, make: () => string) => {
    for (;;) {
      const s = make();
      if (!bad(s)) return s;
    }
  };
  const badSegment = (s: string) => s === "" || s === "." || s === ".." || s === "~~";
  const qname = () =>
    random() < 0.4 ? { prefix: pick(PREFIXES), local: pick(NAMES) } : { local: pick(NAMES) };

  const roots: [string, string][] = [
    ["http://xcap.example.com", ""],
    ["https://h:8443/xcap-root/", "/xcap-root"],
    ["http://127.0.0.1:8080/a/b", "/a/b"],
    ["http://[::1]:9/x", "/x"],
  ];
  const [xcapRoot, rootPath] = pick(roots);
  const auid = name(badSegment, () => text(AUID_CHARS, 1, 10));
  const global = random() < 0.2;
  const xui = global ? undefined : name(badSegment, () => text(TEXT_CHARS, 1, 12));
  const folders = random() < 0.3 ? undefined : Array.from(
    { length: 1 + Math.floor(random() * 3) },
    () => name(badSegment, () => text(TEXT_CHARS.filter((c) => c !== "/"), 1, 8)),
  );
  let node: NodeSelector | undefined;
  if (random() < 0.7) {
    const steps: SelectorStep[] = [];
    const count = 1 + Math.floor(random() * 3);
    for (let i = 0; i < count; i++) {
      const s: { name?: object; position?: number; attribute?: object } = {};
      if (random() < 0.85) s.name = qname();
      if (random() < 0.4) s.position = 1 + Math.floor(random() * 30);
      if (random() < 0.6) s.attribute = { name: qname(), value: text(VALUE_CHARS, 0, 6) };
      steps.push(s as SelectorStep);
    }
    const r = random();
    const terminal: TerminalSelector | undefined = r < 0.25
      ? { kind: "attribute", name: qname() }
      : r < 0.35
      ? { kind: "namespace" }
      : undefined;
    node = terminal === undefined ? { steps } : { steps, terminal };
  }
  const namespaces: Record<string, string> = {};
  for (const prefix of PREFIXES) {
    if (random() < 0.8) namespaces[prefix] = "urn:" + text(TEXT_CHARS, 1, 10);
  }
  return {
    xcapRoot,
    rootPath,
    auid,
    global,
    xui,
    folders,
    node,
    namespaces,
    asText: random() < 0.5,
  };
}

Deno.test("parseXcapUri(buildXcapUri(x)) gives back auid, xui, document, selector, namespaces", () => {
  const random = lcg(4825);
  let built = 0;
  for (let i = 0; i < 3000; i++) {
    const x = generate(random);
    const prefixes = x.node === undefined ? [] : selectorPrefixes(x.node);
    const missing = prefixes.some((p) => !(p in x.namespaces));
    const options: XcapTarget = {
      xcapRoot: x.xcapRoot,
      auid: x.auid,
      namespaces: x.namespaces,
      ...(x.global ? { global: true } : { xui: x.xui! }),
      ...(x.folders === undefined ? {} : { filename: x.folders.join("/") }),
      ...(x.node === undefined
        ? {}
        : { node: x.asText ? formatNodeSelector(x.node)._unsafeUnwrap() : x.node }),
    };
    const uri = buildXcapUri(options);
    if (missing) {
      assert(uri.isErr(), `case ${i} should miss a binding`);
      assertEquals(uri.error.argument, "namespaces");
      continue;
    }
    assert(uri.isOk(), `case ${i}: ${uri.isErr() && uri.error.message}`);
    built++;
    // Only printable ASCII, nothing a URL parser would re-encode.
    assertMatch(uri.value, /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?%[\]]+$/);
    assertStrictEquals(new URL(uri.value).href, uri.value, `case ${i}`);

    const expectedNamespaces = Object.fromEntries(prefixes.map((p) => [p, x.namespaces[p]!]));
    const expected = {
      auid: x.auid,
      tree: x.global ? "global" : "users",
      ...(x.global ? {} : { xui: x.xui }),
      documentPath: x.folders?.join("/") ?? "index",
      ...(x.node === undefined
        ? {}
        : { node: x.node, nodeText: formatNodeSelector(x.node)._unsafeUnwrap() }),
      namespaces: expectedNamespaces,
    };
    for (const input of [uri.value, new URL(uri.value)]) {
      const parsed = parseXcapUri(input, x.rootPath);
      assert(parsed.isOk(), `case ${i}: ${uri.value}: ${parsed.isErr() && parsed.error.message}`);
      assertEquals(parsed.value, expected, `case ${i}: ${uri.value}`);
    }
  }
  assert(built > 2000, `only ${built} URIs were built`);
});

Deno.test("parseXcapUri(buildXcapUri(x)) round-trips hand-picked tricky inputs", () => {
  const cases: XcapTarget[] = [
    { ...JOE, xui: "sip:a/b@x", filename: "a%2Fb/%2e%2e/~/..x" },
    { ...JOE, xui: "%2F", filename: "?#[]" },
    { ...JOE, node: '/a[@b="/~~/"]/c[@d=\'"\']/@e' },
    { ...JOE, node: '/a[@b="&quot;&apos;&amp;&lt;&#x9;"]' },
    { ...JOE, node: "/p:a/namespace::*", namespaces: { p: "urn:(x)^y#%20+&" } },
    { xcapRoot: "http://h", auid: "a", global: true, filename: "é/😀", node: "/*[1]" },
  ];
  for (const options of cases) {
    const uri = built(options);
    const parsed = parseXcapUri(uri, new URL(uri).pathname.startsWith("/root") ? "/root" : "")
      ._unsafeUnwrap();
    assertEquals(parsed.auid, options.auid);
    assertEquals(parsed.xui, options.xui);
    assertEquals(parsed.documentPath, options.filename ?? "index");
    if (typeof options.node === "string") {
      assertEquals(parsed.node, parseNodeSelector(options.node)._unsafeUnwrap());
    }
    if (options.namespaces !== undefined) assertEquals(parsed.namespaces, options.namespaces);
  }
});

Deno.test("buildXcapUri() and selectorStep() compose without hand-written strings", () => {
  const selector = {
    steps: [
      selectorStep("rl:resource-lists")._unsafeUnwrap(),
      selectorStep("rl:list", { attribute: ["name", "a/b"] })._unsafeUnwrap(),
    ],
  };
  const uri = built({
    ...JOE,
    node: selector,
    namespaces: { rl: "urn:ietf:params:xml:ns:resource-lists" },
  });
  assertEquals(
    uri,
    "http://xcap.example.com/root/resource-lists/users/sip:joe@example.com/index/~~" +
      "/rl:resource-lists/rl:list%5B@name=%22a%2Fb%22%5D" +
      "?xmlns(rl=urn:ietf:params:xml:ns:resource-lists)",
  );
  assertEquals(parseXcapUri(uri, "/root")._unsafeUnwrap().node, selector);
});
