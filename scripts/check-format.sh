#!/usr/bin/env bash
# Fails when a C source or header is not formatted with the repository's
# .clang-format (fix with: clang-format -i FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find src apps include tests -name '*.[ch]')
[ -n "$files" ] || { echo "no sources found" >&2; exit 1; }
bad=0
for f in $files; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f (run: clang-format -i $f)"
    bad=1
  fi
done
n=$(echo "$files" | wc -w)
[ $bad -eq 0 ] && echo "clang-format: $n files formatted"
exit $bad
