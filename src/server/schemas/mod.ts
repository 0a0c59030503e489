/**
 * The XML schemas of the application usages the server validates against (RFC 4825 §5.3,
 * §8.2.5), carried as TypeScript string modules so that they ship inside the package (JSR and
 * URL imports have no schema files beside them) and load on every runtime without file system
 * access. Keyed by the `schemaLocation` their `xs:import`/`xs:include` elements use.
 *
 * Not exported from the package.
 *
 * @module
 */
import { COMMON_POLICY_XSD } from "./common_policy.ts";
import { PIDF_XSD } from "./pidf.ts";
import { PIDF_COMMON_SCHEMA_XSD } from "./pidf_common_schema.ts";
import { PIDF_DATA_MODEL_XSD } from "./pidf_data_model.ts";
import { PRESENCE_RULES_XSD } from "./presence_rules.ts";
import { RESOURCE_LISTS_XSD } from "./resource_lists.ts";
import { RLS_SERVICES_XSD } from "./rls_services.ts";
import { XCAP_CAPS_XSD } from "./xcap_caps.ts";
import { XCAP_DIRECTORY_XSD } from "./xcap_directory.ts";
import { XML_XSD } from "./xml.ts";

/**
 * Schema texts by file name. `pidf-data-model.xsd` includes `pidf-common-schema.xsd` under the
 * name RFC 4479 gives it, `common-schema.xsd`.
 */
export const SCHEMA_FILES: Readonly<Record<string, string>> = Object.freeze({
  "xml.xsd": XML_XSD,
  "resource-lists.xsd": RESOURCE_LISTS_XSD,
  "rls-services.xsd": RLS_SERVICES_XSD,
  "common-policy.xsd": COMMON_POLICY_XSD,
  "presence-rules.xsd": PRESENCE_RULES_XSD,
  "pidf.xsd": PIDF_XSD,
  "pidf-data-model.xsd": PIDF_DATA_MODEL_XSD,
  "pidf-common-schema.xsd": PIDF_COMMON_SCHEMA_XSD,
  "common-schema.xsd": PIDF_COMMON_SCHEMA_XSD,
  "xcap-caps.xsd": XCAP_CAPS_XSD,
  "xcap-directory.xsd": XCAP_DIRECTORY_XSD,
});
