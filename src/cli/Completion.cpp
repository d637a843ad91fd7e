// The scripts know the command words and flags; proxy names are asked of
// the server at completion time (`faultline list` prints them first on each
// line when not on a terminal), so they are always current.
#include "cli/Completion.h"

#include <utility>

#include "model/ToxicType.h"

namespace faultline::cli {
namespace {

constexpr const char* kBash = R"BASH(# bash completion for faultline; load with: source <(faultline completion bash)
_faultline() {
  local cur prev words cword
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  local commands="list ls inspect create toggle delete toxic down up latency timeout reset-peer bandwidth clear status completion"
  local globals="--host --json --help --version"

  # The first word that is not a flag (or a flag's value) is the command.
  local i cmd="" sub=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in
      -h|--host) ((i++)) ;;
      -*) ;;
      *) if [[ -z "$cmd" ]]; then cmd="${COMP_WORDS[i]}"; elif [[ -z "$sub" && ( "$cmd" == toxic || "$cmd" == t ) ]]; then sub="${COMP_WORDS[i]}"; fi ;;
    esac
  done

  case "$prev" in
    -h|--host) return ;;
    -t|--type) COMPREPLY=($(compgen -W "@TOXIC_TYPES@" -- "$cur")); return ;;
    -a|--attribute) compopt -o nospace 2>/dev/null; COMPREPLY=($(compgen -W "@TOXIC_ATTRIBUTES@" -- "$cur")); return ;;
    --direction) COMPREPLY=($(compgen -W "up down both" -- "$cur")); return ;;
  esac

  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W "$commands $globals" -- "$cur")); return
  fi
  local flags="--help"
  case "$cmd" in
    list|l|li|ls|inspect|i|ins|status) flags="--json --help" ;;
    create|c|new) flags="--listen --upstream --json --help" ;;
    latency) flags="--jitter --direction --toxicity --help" ;;
    timeout|reset-peer|bandwidth) flags="--direction --toxicity --help" ;;
    completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")); return ;;
    toxic|t)
      if [[ -z "$sub" ]]; then COMPREPLY=($(compgen -W "add update remove list types" -- "$cur")); return; fi
      case "$sub" in
        add|a) flags="--type --toxicName --toxicity --attribute --upstream --downstream --json --help" ;;
        update|u) flags="--toxicName --toxicity --attribute --json --help" ;;
        *) flags="--toxicName --json --help" ;;
      esac ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  else
    local proxies
    proxies="$(faultline list 2>/dev/null | cut -f1)"
    COMPREPLY=($(compgen -W "$proxies" -- "$cur"))
  fi
}
complete -F _faultline faultline
)BASH";

constexpr const char* kZsh = R"ZSH(#compdef faultline
# zsh completion for faultline; load with: source <(faultline completion zsh)
_faultline_proxies() {
  local -a proxies
  proxies=(${(f)"$(faultline list 2>/dev/null | cut -f1)"})
  _describe 'proxy' proxies
}

_faultline() {
  local -a commands directions
  commands=(
    'list:list proxies' 'inspect:show a proxy and its toxics' 'create:create a proxy'
    'toggle:enable or disable a proxy' 'delete:delete a proxy' 'toxic:add, update, remove or list toxics'
    'down:disable a proxy (refuse connections)' 'up:enable a proxy' 'latency:add or update latency'
    'timeout:add or update a timeout' 'reset-peer:reset connections' 'bandwidth:limit bandwidth'
    'clear:remove all toxics of a proxy' 'status:every proxy and toxic' 'completion:print a completion script'
  )
  directions=(up down both)
  _arguments -C \
    '(-h --host)'{-h,--host}'[API URL]:url:' \
    '--json[print the API JSON]' \
    '--help[show help]' \
    '--version[show the version]' \
    '1:command:->command' \
    '*::arg:->args'
  case $state in
    command) _describe 'command' commands ;;
    args)
      case $words[1] in
        toxic|t)
          if (( CURRENT == 2 )); then
            _values 'toxic command' add update remove list types
          else
            _arguments \
              '(-t --type)'{-t,--type}'[toxic type]:type:(@TOXIC_TYPES@)' \
              '(-n --toxicName)'{-n,--toxicName}'[toxic name]:name:' \
              '--toxicity[probability 0..1]:toxicity:' \
              '*'{-a,--attribute}'[key=value]:attribute:(@TOXIC_ATTRIBUTES@)' \
              '(-u --upstream -d --downstream)'{-u,--upstream}'[upstream]' \
              '(-u --upstream -d --downstream)'{-d,--downstream}'[downstream]' \
              '--json[print the API JSON]' \
              '*:proxy:_faultline_proxies'
          fi ;;
        create|c|new)
          _arguments '(-l --listen)'{-l,--listen}'[listen address]:address:' \
            '(-u --upstream)'{-u,--upstream}'[upstream address]:address:' '1:name:' ;;
        latency|timeout|reset-peer|bandwidth)
          _arguments '--jitter[jitter]:duration:' "--direction[direction]:direction:(${directions})" \
            '--toxicity[probability 0..1]:toxicity:' '1:proxy:_faultline_proxies' '2:value:' ;;
        completion) _values 'shell' bash zsh ;;
        list|l|li|ls|status) _arguments '--json[print the API JSON]' ;;
        *) _arguments '--json[print the API JSON]' '1:proxy:_faultline_proxies' ;;
      esac ;;
  esac
}

compdef _faultline faultline
)ZSH";

// The toxic types and their attribute names come from the schema, so a new
// toxic type completes without touching this file.
std::string with_toxic_words(std::string script) {
  std::string types, attributes;
  for (const auto& type : all_toxic_types()) {
    types += (types.empty() ? "" : " ") + type.name;
    for (const auto& a : type.attributes)
      if (attributes.find(a.name + "=") == std::string::npos) attributes += (attributes.empty() ? "" : " ") + a.name + "=";
  }
  for (const auto& [marker, words] : {std::pair<std::string, std::string>{"@TOXIC_TYPES@", types}, {"@TOXIC_ATTRIBUTES@", attributes}})
    for (size_t at; (at = script.find(marker)) != std::string::npos;) script.replace(at, marker.size(), words);
  return script;
}

}  // namespace

std::string completion_script(const std::string& shell) {
  if (shell == "bash") return with_toxic_words(kBash);
  if (shell == "zsh") return with_toxic_words(kZsh);
  return "";
}

}  // namespace faultline::cli
