/**
 * Shell completion scripts for `xcap`, generated from the option table: actions, options,
 * option values (`--app` AUIDs, `-c users|global`, `--color`), files for `-i`, `-o` and
 * `--config`, and document root elements for the node selector. Pure.
 *
 * @module
 */
import { ACTIONS, OPTIONS, type OptionSpec, type Shell, SHELLS } from "./args.ts";
import { APPLICATION_BY_ROOT_ELEMENT } from "./guess.ts";
import { KNOWN_APPLICATIONS } from "../client/media_types.ts";

function longNames(option: OptionSpec): string[] {
  return [option.name, ...(option.aliases ?? [])].map((n) => `--${n}`);
}

function valuesOf(option: OptionSpec): readonly string[] {
  if (option.kind === "auid") return [...KNOWN_APPLICATIONS.keys()];
  if (option.kind === "choice") return option.choices ?? [];
  return [];
}

const ROOT_SELECTORS = [...APPLICATION_BY_ROOT_ELEMENT.keys()].map((r) => `/${r}`);

function bash(program: string): string {
  const fn = `_${program.replace(/[^A-Za-z0-9_]/g, "_")}_completions`;
  const allOptions = OPTIONS.flatMap((o) => [...(o.short ? [`-${o.short}`] : []), ...longNames(o)]);
  const withValue = OPTIONS.filter((o) => o.value !== undefined);
  const cases = withValue.map((o) => {
    const names = [...(o.short ? [`-${o.short}`] : []), ...longNames(o)].join("|");
    const values = valuesOf(o);
    const body = o.kind === "file"
      ? `COMPREPLY=($(compgen -f -- "$cur"))`
      : values.length > 0
      ? `COMPREPLY=($(compgen -W "${values.join(" ")}" -- "$cur"))`
      : "COMPREPLY=()";
    return `        ${names}) ${body}; return ;;`;
  }).join("\n");
  return `# bash completion for ${program} (XCAP client). Load with:
#   source <(${program} completions bash)
${fn}() {
    local cur prev word i action=""
    cur="\${COMP_WORDS[COMP_CWORD]}"
    prev="\${COMP_WORDS[COMP_CWORD-1]}"
    case "$prev" in
${cases}
    esac
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="\${COMP_WORDS[i]}"
        case "$word" in
            ${ACTIONS.join("|")}|help|completions) action="$word"; break ;;
        esac
    done
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "${allOptions.join(" ")}" -- "$cur"))
    elif [[ -z "$action" ]]; then
        COMPREPLY=($(compgen -W "${ACTIONS.join(" ")} help completions" -- "$cur"))
    elif [[ "$action" == completions ]]; then
        COMPREPLY=($(compgen -W "${SHELLS.join(" ")}" -- "$cur"))
    elif [[ "$action" == help ]]; then
        COMPREPLY=($(compgen -W "${ACTIONS.join(" ")}" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "${ROOT_SELECTORS.join(" ")}" -- "$cur"))
        compopt -o nospace 2>/dev/null
    fi
}
complete -F ${fn} ${program}
`;
}

function zshQuote(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/'/g, "'\\''").replace(/\[/g, "\\[").replace(
    /\]/g,
    "\\]",
  )
    .replace(/:/g, "\\:");
}

function zsh(program: string): string {
  const specs = OPTIONS.map((o) => {
    const names = [...(o.short ? [`-${o.short}`] : []), ...longNames(o)];
    const help = zshQuote(o.help);
    const values = valuesOf(o);
    const action = o.value === undefined
      ? ""
      : o.kind === "file"
      ? `:${zshQuote(o.value)}:_files`
      : values.length > 0
      ? `:${zshQuote(o.value)}:(${values.join(" ")})`
      : `:${zshQuote(o.value)}: `;
    const repeat = o.repeatable ? "*" : "";
    return names.map((n) => `    '${repeat}${n}[${help}]${action}'`).join(" \\\n");
  }).join(" \\\n");
  return `#compdef ${program}
# zsh completion for ${program} (XCAP client). Load with:
#   source <(${program} completions zsh)     or save as _${program} in your $fpath
_${program.replace(/[^A-Za-z0-9_]/g, "_")}() {
  local -a actions
  actions=(${ACTIONS.map((a) => `'${a}'`).join(" ")} 'help' 'completions')
  _arguments -s \\
${specs} \\
    '1:action:(${ACTIONS.join(" ")} help completions)' \\
    '2:node selector or shell:->second'
  case $state in
    second)
      case $line[1] in
        completions) compadd ${SHELLS.join(" ")} ;;
        help) compadd ${ACTIONS.join(" ")} ;;
        *) compadd -S '' ${ROOT_SELECTORS.join(" ")} ;;
      esac ;;
  esac
}
compdef _${program.replace(/[^A-Za-z0-9_]/g, "_")} ${program}
`;
}

function fishQuote(text: string): string {
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

function fish(program: string): string {
  const noAction = `not __fish_seen_subcommand_from ${ACTIONS.join(" ")} help completions`;
  const lines = [
    `# fish completion for ${program} (XCAP client). Load with:`,
    `#   ${program} completions fish | source`,
    `complete -c ${program} -f`,
    ...ACTIONS.map((a) => `complete -c ${program} -n ${fishQuote(noAction)} -a ${a}`),
    `complete -c ${program} -n ${fishQuote(noAction)} -a help -d ${
      fishQuote("help for an action")
    }`,
    `complete -c ${program} -n ${fishQuote(noAction)} -a completions -d ${
      fishQuote("print a completion script")
    }`,
    `complete -c ${program} -n ${fishQuote("__fish_seen_subcommand_from completions")} -a ${
      fishQuote(SHELLS.join(" "))
    }`,
    `complete -c ${program} -n ${fishQuote("__fish_seen_subcommand_from help")} -a ${
      fishQuote(ACTIONS.join(" "))
    }`,
    `complete -c ${program} -n ${
      fishQuote(`__fish_seen_subcommand_from ${ACTIONS.join(" ")}`)
    } -a ${fishQuote(ROOT_SELECTORS.join(" "))}`,
  ];
  for (const o of OPTIONS) {
    for (const long of [o.name, ...(o.aliases ?? [])]) {
      const parts = [`complete -c ${program}`];
      if (o.short && long === o.name) parts.push(`-s ${o.short}`);
      parts.push(`-l ${long}`);
      if (o.value !== undefined) {
        parts.push(o.kind === "file" ? "-r -F" : "-r");
        const values = valuesOf(o);
        if (values.length > 0) parts.push(`-a ${fishQuote(values.join(" "))}`);
      }
      parts.push(`-d ${fishQuote(o.help)}`);
      lines.push(parts.join(" "));
    }
  }
  return `${lines.join("\n")}\n`;
}

/**
 * A completion script for `xcap` in bash, zsh or fish. It completes actions, options, the
 * values of `--app`, `-c`, `--color` and `completions`, file names after `-i`, `-o` and
 * `--config`, and the known document root elements (`/resource-lists`, `/ruleset`...) where a
 * node selector goes.
 *
 * @param shell The shell.
 * @param options `program`: the command name to complete (as installed with
 * `deno install -n NAME`). @default {"xcap"}
 * @returns The script.
 *
 * @example Usage
 * ```ts
 * import { completionScript } from "./completion.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * assertStringIncludes(completionScript("bash"), "complete -F _xcap_completions xcap");
 * assertStringIncludes(completionScript("fish"), "-l xcap-root");
 * assertStringIncludes(completionScript("zsh", { program: "xc" }), "#compdef xc");
 * ```
 */
export function completionScript(
  shell: Shell,
  options: { readonly program?: string } = {},
): string {
  const program = options.program ?? "xcap";
  switch (shell) {
    case "bash":
      return bash(program);
    case "zsh":
      return zsh(program);
    case "fish":
      return fish(program);
  }
}
