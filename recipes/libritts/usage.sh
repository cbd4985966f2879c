# Sourced by the recipe scripts: `usage SCRIPT` prints the script's header comment (up to the
# first line that is not a comment) and its options, read from the `name=default  # meaning`
# lines between `set -euo pipefail` and the line that sources this file.
usage() {
  sed -n '2,/^[^#]/p' "$1" | grep '^#' | sed 's/^# \{0,1\}//'
  echo; echo "Options (default):"
  sed -n '/^set -euo/,/^source/p' "$1" | grep -E '^[a-z_]+=' |
    awk -F'#' '{ split($1, kv, "="); gsub(/_/, "-", kv[1]); gsub(/ +$/, "", kv[2]);
                 printf "  --%-15s %-36s %s\n", kv[1], "(" kv[2] ")", $2 }'
}
