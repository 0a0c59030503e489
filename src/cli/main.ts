/**
 * `xcap`: a command-line XCAP client (RFC 4825), the successor of python-xcaplib's
 * `xcapclient`. Run it straight from JSR or install it:
 *
 * ```sh
 * deno run --allow-net --allow-read --allow-write --allow-env jsr:@xcap/xcap/cli get --help
 * deno install -g --allow-net --allow-read --allow-write --allow-env -n xcap jsr:@xcap/xcap/cli
 * xcap --xcap-root https://xcap.example.com/xcap-root --sip-address alice@example.com \
 *   get /resource-lists/list
 * ```
 *
 * Importing this module runs nothing: it exports the pieces of the tool (argument parsing,
 * account files, output formatting, completion scripts, {@linkcode runCli}) for reuse and tests.
 *
 * @module
 */
export {
  type Action,
  ACTIONS,
  type CliArgs,
  type CliOptions,
  type ColorMode,
  OPTIONS,
  type OptionSpec,
  type OptionValueKind,
  parseCliArgs,
  type Shell,
  SHELLS,
  UPDATE_ACTIONS,
  type UsageError,
} from "./args.ts";
export {
  type Account,
  ACCOUNT_FILE_NAME,
  accountSection,
  type ConnectionSettings,
  type IniDocument,
  normalizeSipAddress,
  parseIni,
  readAccount,
  resolveConnection,
  type ResolveConnectionInput,
  type SettingSource,
} from "./config.ts";
export {
  APPLICATION_BY_ROOT_ELEMENT,
  type ApplicationGuess,
  guessApplication,
  rootElementName,
  selectorRootName,
} from "./guess.ts";
export {
  type CliError,
  escapeControlCharacters,
  EXIT_CODES,
  exitCodeFor,
  failureToJson,
  formatFailure,
  formatSuccess,
  type JsonFailure,
  jsonForTerminal,
  type JsonSuccess,
  type LocalFileError,
  type PreconditionNotMetError,
  prettyPrintXml,
  readCapabilities,
  shouldColor,
  statusText,
  type SuccessReport,
  type XcapCapabilities,
} from "./output.ts";
export { type ActionRequest, CHECK_AND_WRITE_ATTEMPTS, performAction } from "./actions.ts";
export { completionScript } from "./completion.ts";
export { actionHelp, generalHelp, VERSION } from "./help.ts";
export {
  applySecretInput,
  challengeRealm,
  EMPTY_SECRET_INPUT,
  promptSecret,
  type SecretInput,
} from "./prompt.ts";
export { type CliIo, MAX_ACCOUNT_FILE_BYTES, runCli } from "./run.ts";
export { denoCliIo } from "./deno_io.ts";

import { denoCliIo } from "./deno_io.ts";
import { runCli } from "./run.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args, denoCliIo()));
}
