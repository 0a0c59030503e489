/**
 * XCAP (RFC 4825) for Deno.
 *
 * @module
 */
export * from "./src/errors.ts";
export * from "./src/types.ts";
export * from "./src/selector.ts";
export * from "./src/uri.ts";
export * from "./src/auth.ts";
export * from "./src/response.ts";
export * from "./src/xcap_error.ts";
export * from "./src/application.ts";
export * from "./src/etag.ts";
export * from "./src/request.ts";
export * from "./src/executor.ts";
export * from "./src/client.ts";
export * from "./src/xml/document.ts";
export * from "./src/xml/select.ts";
export * from "./src/xml/edit.ts";
export * from "./src/diff.ts";
export * from "./src/caps.ts";
export * from "./src/usages/registry.ts";
export * from "./src/usages/resource_lists.ts";
export * from "./src/usages/rls_services.ts";
export * from "./src/usages/pres_rules.ts";
export * from "./src/usages/pidf.ts";
export * from "./src/usages/xcap_directory.ts";
export * from "./src/usages/openxcap.ts";
export * from "./src/update.ts";
export * from "./src/uniqueness.ts";
