# Sourced by the recipe scripts. A script's options are its `name=default  # meaning` lines
# between `set -euo pipefail` and the line that sources this file; `--some-name VALUE` sets
# `some_name`.
#
#   parse_options "$0" "$@"   # sets the options given; -h/--help prints usage and exits 0;
#                             # an unknown option or argument exits 2
option_names() { sed -n '/^set -euo/,/^source/p' "$1" | grep -oE '^[a-z_]+=' | tr -d '='; }

usage() {
  sed -n '2,/^[^#]/p' "$1" | grep '^#' | sed 's/^# \{0,1\}//'
  echo; echo "Options (default):"
  sed -n '/^set -euo/,/^source/p' "$1" | grep -E '^[a-z_]+=' |
    awk -F'#' '{ split($1, kv, "="); gsub(/_/, "-", kv[1]); gsub(/ +$/, "", kv[2]);
                 printf "  --%-15s %-36s %s\n", kv[1], "(" kv[2] ")", $2 }'
}

parse_options() {
  local script=$1 known option
  shift
  known=" $(option_names "$script" | tr '\n' ' ') "
  while [ $# -gt 0 ]; do
    case "$1" in
      -h|--help) usage "$script"; exit 0 ;;
      --*) option=${1#--}; option=${option//-/_}
           if [[ "$known" != *" $option "* ]]; then
             echo "unknown option: $1 (see --help)" >&2; exit 2
           fi
           printf -v "$option" '%s' "$2" ;;
      *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift 2
  done
}
