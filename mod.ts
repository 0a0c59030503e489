/**
 * XCAP (RFC 4825) for Deno.
 *
 * @module
 */
export * from "./src/client/errors.ts";
export * from "./src/client/types.ts";
export * from "./src/client/selector.ts";
export * from "./src/client/uri.ts";
export * from "./src/client/auth.ts";
export * from "./src/client/response.ts";
export * from "./src/client/conflict_report.ts";
export * from "./src/client/media_types.ts";
export * from "./src/client/etag.ts";
export * from "./src/client/request.ts";
export * from "./src/client/executor.ts";
export * from "./src/client/client.ts";
export * from "./src/xml/document.ts";
export * from "./src/xml/select.ts";
export * from "./src/xml/edit.ts";
export * from "./src/diff/xcap_diff.ts";
export * from "./src/usages/caps.ts";
export * from "./src/usages/registry.ts";
export * from "./src/usages/resource_lists.ts";
export * from "./src/usages/rls_services.ts";
export * from "./src/usages/pres_rules.ts";
export * from "./src/usages/pidf.ts";
export * from "./src/usages/xcap_directory.ts";
export * from "./src/usages/openxcap.ts";
export * from "./src/usages/update.ts";
export * from "./src/usages/uniqueness.ts";
