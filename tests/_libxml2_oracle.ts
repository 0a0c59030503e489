/**
 * libxml2 (compiled to WebAssembly, npm `libxml2-wasm`) as an independent XSD validator: the
 * oracle the schema validation tests compare the server's own validator with. Test-only: the
 * server never loads it.
 *
 * The schemas come from the server's own copies (`src/server/schemas/`), handed to libxml2
 * through an input provider (WebAssembly has no file system to resolve `xs:import` from).
 *
 * @module
 */
import {
  XmlBufferInputProvider,
  XmlDocument,
  xmlRegisterInputProvider,
  XsdValidator,
} from "npm:libxml2-wasm@0.7.2";
import { SCHEMA_FILES } from "../src/server/schemas/mod.ts";

const UTF8 = new TextEncoder();
let registered = false;

/** A compiled libxml2 schema validator; `dispose()` frees its WebAssembly memory. */
export interface Libxml2Oracle {
  /** libxml2's first complaint about `text` (not well-formed or invalid), or `undefined`. */
  validate(text: string): string | undefined;
  /** Free the schema. */
  dispose(): void;
}

/**
 * Compile `roots` (file names of `SCHEMA_FILES`) into one libxml2 schema: a driver schema that
 * imports each of them.
 */
export function libxml2Oracle(roots: readonly string[]): Libxml2Oracle {
  if (!registered) {
    const buffers: Record<string, Uint8Array> = {};
    for (const [name, text] of Object.entries(SCHEMA_FILES)) buffers[name] = UTF8.encode(text);
    xmlRegisterInputProvider(new XmlBufferInputProvider(buffers));
    registered = true;
  }
  const imports = roots.map((file) => {
    const ns = /targetNamespace="([^"]+)"/.exec(SCHEMA_FILES[file]!)?.[1];
    return `<xs:import namespace="${ns}" schemaLocation="${file}"/>`;
  }).join("");
  const driver = XmlDocument.fromString(
    `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">${imports}</xs:schema>`,
    { url: "driver.xsd" },
  );
  let validator: XsdValidator;
  try {
    validator = XsdValidator.fromDoc(driver);
  } finally {
    driver.dispose();
  }
  return {
    validate(text) {
      let doc: XmlDocument;
      try {
        doc = XmlDocument.fromString(text);
      } catch (e) {
        return `not well-formed: ${e instanceof Error ? e.message : String(e)}`;
      }
      try {
        validator.validate(doc);
        return undefined;
      } catch (e) {
        return e instanceof Error ? e.message : String(e);
      } finally {
        doc.dispose();
      }
    },
    dispose() {
      validator.dispose();
    },
  };
}
