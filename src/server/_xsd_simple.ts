/**
 * XML Schema 1.0 simple types (XSD Part 2) for the schema validator (`_xsd.ts`): the built-in
 * types the application usages' schemas use, white space normalization, and derivation by
 * restriction (enumeration, pattern, length facets), union and list.
 *
 * A value is checked after the type's white space normalization (Part 2 §4.3.6). Lexical spaces
 * are checked as Part 2 §3.2–§3.3 define them.
 *
 * Pure: Web APIs only. Not exported from the package.
 *
 * @module
 */
import { isNCName } from "../xml/_names.ts";

/** How a type normalizes white space before it checks a value (XSD Part 2 §4.3.6). */
export type WhiteSpace = "preserve" | "replace" | "collapse";

/** A simple type: a white space rule and a check of the normalized value. */
export interface SimpleType {
  /** Discriminant. */
  readonly kind: "simple";
  /** A name for messages, e.g. `xs:anyURI` or `a restriction of xs:token`. */
  readonly name: string;
  /** The white space normalization applied before `check`. */
  readonly whiteSpace: WhiteSpace;
  /** Whether values are `xs:ID`s (unique in the document). */
  readonly isId: boolean;
  /** Whether every string is valid (no normalization or check needed). */
  readonly acceptsAll: boolean;
  /** Why a normalized value is invalid, or `undefined` when it is valid. */
  check(value: string): string | undefined;
}

/** The XML Schema namespace. */
export const XS = "http://www.w3.org/2001/XMLSchema";

const NEEDS_NORMALIZING = /[\t\n\r]| {2}|^ | $/;

/** Normalize white space as a type asks (XSD Part 2 §4.3.6). */
export function normalizeWhiteSpace(value: string, rule: WhiteSpace): string {
  // Most values have nothing to normalize: no tab, line end, double or outer space.
  if (rule === "preserve" || !NEEDS_NORMALIZING.test(value)) return value;
  const replaced = value.replace(/[\t\n\r]/g, " ");
  return rule === "replace" ? replaced : replaced.replace(/ {2,}/g, " ").trim();
}

/** Normalize, then check: why `raw` is not a value of `type`, or `undefined`. */
export function checkSimpleValue(type: SimpleType, raw: string): string | undefined {
  if (type.acceptsAll) return undefined;
  return type.check(normalizeWhiteSpace(raw, type.whiteSpace));
}

function simple(
  name: string,
  whiteSpace: WhiteSpace,
  check: ((value: string) => string | undefined) | undefined,
  isId = false,
): SimpleType {
  return {
    kind: "simple",
    name,
    whiteSpace,
    isId,
    acceptsAll: check === undefined && !isId,
    check: check ?? (() => undefined),
  };
}

function lexical(re: RegExp, what: string): (value: string) => string | undefined {
  return (value) => re.test(value) ? undefined : `not ${what}`;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function checkDate(year: string, month: string, day: string): string | undefined {
  const m = Number(month);
  const d = Number(day);
  if (m < 1 || m > 12) return `month ${month} is out of range`;
  const y = Number(year);
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const max = m === 2 && !leap ? 28 : DAYS_IN_MONTH[m - 1]!;
  if (d < 1 || d > max) return `day ${day} is out of range`;
  return undefined;
}

function checkTime(h: string, mi: string, s: string, fraction: string | undefined) {
  const hour = Number(h);
  if (hour === 24) {
    // 24:00:00 is the end of the day (XSD Part 2 §3.2.7).
    return Number(mi) === 0 && Number(s) === 0 && !/[1-9]/.test(fraction ?? "")
      ? undefined
      : "24 is only allowed as 24:00:00";
  }
  if (hour > 23) return `hour ${h} is out of range`;
  if (Number(mi) > 59) return `minute ${mi} is out of range`;
  if (Number(s) > 59) return `second ${s} is out of range`;
  return undefined;
}

function checkZone(zone: string | undefined): string | undefined {
  if (zone === undefined || zone === "Z") return undefined;
  const [h, m] = zone.slice(1).split(":").map(Number) as [number, number];
  if (m > 59 || h * 60 + m > 14 * 60) return `time zone ${zone} is out of range`;
  return undefined;
}

const DATE_TIME =
  /^(-?(?:[1-9]\d{3,}|0\d{3}))-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$/;
const DATE = /^(-?(?:[1-9]\d{3,}|0\d{3}))-(\d\d)-(\d\d)(Z|[+-]\d\d:\d\d)?$/;
const TIME = /^(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$/;

function checkDateTime(value: string): string | undefined {
  const m = DATE_TIME.exec(value);
  if (m === null) return "not an xs:dateTime (YYYY-MM-DDThh:mm:ss with an optional zone)";
  if (/^-?0+$/.test(m[1]!)) return "year 0000 is not allowed";
  return checkDate(m[1]!, m[2]!, m[3]!) ?? checkTime(m[4]!, m[5]!, m[6]!, m[7]) ??
    checkZone(m[8]);
}

function integerIn(min: bigint | undefined, max: bigint | undefined, what: string) {
  return (value: string): string | undefined => {
    if (!/^[+-]?\d+$/.test(value)) return `not ${what}`;
    const n = BigInt(value);
    if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
      return `out of the range of ${what}`;
    }
    return undefined;
  };
}

const NAME =
  /^[:A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}][-.0-9:A-Z_a-z\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u200C-\u200D\u203F-\u2040\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}]*$/u;
const NMTOKEN =
  /^[-.0-9:A-Z_a-z\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u200C-\u200D\u203F-\u2040\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}]+$/u;

// RFC 3986 §3 and §4.1: a URI-reference, with the ABNF written out as regular expressions.
const PCT = "%[0-9A-Fa-f]{2}";
const UNRESERVED = "A-Za-z0-9\\-._~";
const SUB_DELIMS = "!$&'()*+,;=";
const PCHAR = `(?:[${UNRESERVED}${SUB_DELIMS}:@]|${PCT})`;
const SEGMENT = `${PCHAR}*`;
const SEGMENT_NZ = `${PCHAR}+`;
const SEGMENT_NZ_NC = `(?:[${UNRESERVED}${SUB_DELIMS}@]|${PCT})+`;
const QUERY = `(?:${PCHAR}|[/?])*`;
const AUTHORITY = `(?:(?:[${UNRESERVED}${SUB_DELIMS}:]|${PCT})*@)?` +
  `(?:\\[[0-9A-Za-z:.${UNRESERVED}${SUB_DELIMS}]+\\]|(?:[${UNRESERVED}${SUB_DELIMS}]|${PCT})*)` +
  "(?::[0-9]*)?";
const PATH_ABEMPTY = `(?:/${SEGMENT})*`;
const PATH_ABSOLUTE = `/(?:${SEGMENT_NZ}(?:/${SEGMENT})*)?`;
const URI_REFERENCE = new RegExp(
  `^(?:[A-Za-z][A-Za-z0-9+.-]*:(?://${AUTHORITY}${PATH_ABEMPTY}|${PATH_ABSOLUTE}|` +
    `${SEGMENT_NZ}(?:/${SEGMENT})*|)|(?://${AUTHORITY}${PATH_ABEMPTY}|${PATH_ABSOLUTE}|` +
    `${SEGMENT_NZ_NC}(?:/${SEGMENT})*|))(?:\\?${QUERY})?(?:#${QUERY})?$`,
);

/**
 * The everyday URI, checked quickly: `scheme:` not followed by `//` (no authority to parse),
 * then only characters a path or query may hold as they are.
 */
const PLAIN_URI = /^[A-Za-z][A-Za-z0-9+.-]*:(?!\/\/)[A-Za-z0-9\-._~!$&()*+,;=:@/?]*$/;

/**
 * `xs:anyURI` (XSD Part 2 §3.2.17): a URI reference once the characters URIs cannot hold
 * (spaces, non-ASCII, `<>"{}|\\^\``) are escaped as XLink §5.4 says, checked against RFC 3986
 * (as libxml2 does, and so OpenXCAP): `%zz` or `1a:b` are not URIs, `sip:bob@example.com` and
 * `a b` are.
 */
function anyUri(value: string): string | undefined {
  if (PLAIN_URI.test(value)) return undefined;
  // deno-lint-ignore no-control-regex
  const escaped = value.replace(/[\u0000-\u0020\u007f-\u{10ffff}<>"{}|\\^`']/gu, "_");
  return URI_REFERENCE.test(escaped) ? undefined : "not a URI reference (RFC 3986)";
}

function ncName(value: string): string | undefined {
  return isNCName(value) ? undefined : "not an NCName (a name without a colon)";
}

/** The built-in simple types by local name (XSD Part 2 §3), as far as the usages need them. */
export const BUILT_IN_SIMPLE_TYPES: ReadonlyMap<string, SimpleType> = new Map(
  [
    simple("xs:anySimpleType", "preserve", undefined),
    simple("xs:string", "preserve", undefined),
    simple("xs:normalizedString", "replace", undefined),
    simple("xs:token", "collapse", undefined),
    simple("xs:anyURI", "collapse", anyUri),
    simple(
      "xs:language",
      "collapse",
      lexical(/^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$/, "a language tag"),
    ),
    simple("xs:Name", "collapse", lexical(NAME, "an XML name")),
    simple("xs:NMTOKEN", "collapse", lexical(NMTOKEN, "an XML name token")),
    simple("xs:NCName", "collapse", ncName),
    simple("xs:ID", "collapse", ncName, true),
    simple("xs:IDREF", "collapse", ncName),
    simple(
      "xs:boolean",
      "collapse",
      lexical(/^(true|false|1|0)$/, "a boolean (true, false, 1, 0)"),
    ),
    simple("xs:decimal", "collapse", lexical(/^[+-]?(\d+(\.\d*)?|\.\d+)$/, "a decimal number")),
    simple("xs:integer", "collapse", integerIn(undefined, undefined, "an integer")),
    simple("xs:nonNegativeInteger", "collapse", integerIn(0n, undefined, "an integer ≥ 0")),
    simple("xs:positiveInteger", "collapse", integerIn(1n, undefined, "an integer ≥ 1")),
    simple(
      "xs:int",
      "collapse",
      integerIn(-2147483648n, 2147483647n, "a 32-bit integer"),
    ),
    simple("xs:unsignedInt", "collapse", integerIn(0n, 4294967295n, "an unsigned 32-bit integer")),
    simple("xs:dateTime", "collapse", checkDateTime),
    simple("xs:date", "collapse", (value) => {
      const m = DATE.exec(value);
      if (m === null) return "not an xs:date (YYYY-MM-DD with an optional zone)";
      return checkDate(m[1]!, m[2]!, m[3]!) ?? checkZone(m[4]);
    }),
    simple("xs:time", "collapse", (value) => {
      const m = TIME.exec(value);
      if (m === null) return "not an xs:time (hh:mm:ss with an optional zone)";
      return checkTime(m[1]!, m[2]!, m[3]!, m[4]) ?? checkZone(m[5]);
    }),
  ].map((t) => [t.name.slice(3), t]),
);

/** The facets of a restriction step that this validator supports. */
export interface Facets {
  readonly enumeration: readonly string[];
  /** The patterns of this step (any one must match). */
  readonly patterns: readonly string[];
  readonly length?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly whiteSpace?: WhiteSpace;
}

/**
 * An XSD regular expression (Part 2 Appendix F) as a JavaScript one: implicitly anchored, `^`
 * and `$` literal, `\i` and `\c` the XML name classes. Block escapes (`\p{IsBasicLatin}`) and
 * class subtraction have no JavaScript form: those patterns are refused.
 */
export function xsdPattern(pattern: string): RegExp {
  let out = "";
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "\\") {
      const next = pattern[i + 1];
      if (next === undefined) throw new Error(`pattern "${pattern}" ends with a backslash`);
      i++;
      if (next === "i") out += inClass ? ":A-Z_a-z\\u00C0-\\u02FF" : "[:A-Z_a-z\\u00C0-\\u02FF]";
      else if (next === "c") {
        out += inClass
          ? "-.0-9:A-Z_a-z\\u00B7\\u00C0-\\u02FF"
          : "[-.0-9:A-Z_a-z\\u00B7\\u00C0-\\u02FF]";
      } else if (next === "p" || next === "P") {
        const close = pattern.indexOf("}", i);
        const body = pattern.slice(i + 2, close);
        if (body.startsWith("Is")) {
          throw new Error(`pattern "${pattern}": block escapes are not supported`);
        }
        out += `\\${next}{${body}}`;
        i = close;
      } else out += `\\${next}`;
      continue;
    }
    if (inClass) {
      if (ch === "-" && pattern[i + 1] === "[") {
        throw new Error(`pattern "${pattern}": class subtraction is not supported`);
      }
      if (ch === "]") inClass = false;
      out += ch;
      continue;
    }
    if (ch === "[") inClass = true;
    out += ch === "^" || ch === "$" ? `\\${ch}` : ch;
  }
  return new RegExp(`^(?:${out})$`, "u");
}

/** A type derived from `base` by restriction with `facets` (XSD Part 2 §4.1.2.1). */
export function restrictSimpleType(name: string, base: SimpleType, facets: Facets): SimpleType {
  const patterns = facets.patterns.map(xsdPattern);
  const enumeration = facets.enumeration.map((v) =>
    normalizeWhiteSpace(v, facets.whiteSpace ?? base.whiteSpace)
  );
  const noFacets = patterns.length === 0 && enumeration.length === 0 &&
    facets.length === undefined && facets.minLength === undefined &&
    facets.maxLength === undefined;
  const whiteSpace = facets.whiteSpace ?? base.whiteSpace;
  return {
    kind: "simple",
    name,
    whiteSpace,
    isId: base.isId,
    acceptsAll: base.acceptsAll && noFacets,
    check(value) {
      const problem = base.check(value);
      if (problem !== undefined) return problem;
      const length = [...value].length;
      if (facets.length !== undefined && length !== facets.length) {
        return `its length is ${length}, not ${facets.length}`;
      }
      if (facets.minLength !== undefined && length < facets.minLength) {
        return `it is shorter than ${facets.minLength} characters`;
      }
      if (facets.maxLength !== undefined && length > facets.maxLength) {
        return `it is longer than ${facets.maxLength} characters`;
      }
      if (patterns.length > 0 && !patterns.some((p) => p.test(value))) {
        return `it does not match the pattern ${facets.patterns.join(" | ")}`;
      }
      if (enumeration.length > 0 && !enumeration.includes(value)) {
        return `it is not one of ${enumeration.map((e) => JSON.stringify(e)).join(", ")}`;
      }
      return undefined;
    },
  };
}

/** A union of member types (XSD Part 2 §2.5.1.3): valid when one member accepts the value. */
export function unionSimpleType(name: string, members: readonly SimpleType[]): SimpleType {
  return {
    kind: "simple",
    name,
    whiteSpace: "preserve",
    isId: false,
    acceptsAll: members.some((m) => m.acceptsAll),
    check(value) {
      const problems: string[] = [];
      for (const member of members) {
        const problem = checkSimpleValue(member, value);
        if (problem === undefined) return undefined;
        problems.push(`${member.name}: ${problem}`);
      }
      return `no member type accepts it (${problems.join("; ")})`;
    },
  };
}

/** A list of `item` values separated by white space (XSD Part 2 §2.5.1.2). */
export function listSimpleType(name: string, item: SimpleType): SimpleType {
  return {
    kind: "simple",
    name,
    whiteSpace: "collapse",
    isId: false,
    acceptsAll: item.acceptsAll,
    check(value) {
      if (value === "") return undefined;
      for (const part of value.split(" ")) {
        const problem = checkSimpleValue(item, part);
        if (problem !== undefined) return `item ${JSON.stringify(part)}: ${problem}`;
      }
      return undefined;
    },
  };
}
