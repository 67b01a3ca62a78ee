#!/usr/bin/env bash
# run_cases.sh: table-driven tests of the greenml command line.
#
#   bash tests/cli/run_cases.sh GREENML_BINARY tests/cli/cases.txt
#
# Each non-comment line of the table is
#
#   ARGS | EXPECTED_EXIT | REGEX | REGEX ...
#
# Fields are separated by " | " (a pipe with a space on each side), so a
# regex may use alternation written without spaces ("a|b"). ARGS is split
# with shell quoting rules (eval 'set -- ARGS'; nothing else is expanded at
# that point, so single-quoted '$$' reaches the command as it is). The
# runner runs `greenml ARGS` with a 60 s timeout and checks the exit status
# and that the combined stdout and stderr match every REGEX (grep -E, one
# line at a time; no REGEX: only the status is checked). A REGEX written
# !REGEX must match no line.
#
# Every case runs in its own directory (relative paths in ARGS land there)
# with a private HOME and XDG_DATA_HOME, an empty fake sysfs and devfs (no
# RAPL, no MSR, no DMI table: the CPU and DRAM are modelled on any machine),
# the real procfs (CPU utilisation and the command's resources) and an NVML
# library path that does not exist.
#
# Prints "ok - ..." or "not ok - ..." per case and "N passed, M failed" at
# the end; exits 1 when a case failed, 2 on bad usage.
set -u

if [ $# -ne 2 ]; then
  echo "usage: $0 GREENML_BINARY CASES_FILE" >&2
  exit 2
fi
GREENML=$1
CASES=$2
case $GREENML in /*) ;; *) GREENML=$PWD/$GREENML ;; esac
if [ ! -x "$GREENML" ]; then
  echo "$0: '$GREENML' is not an executable" >&2
  exit 2
fi
if [ ! -r "$CASES" ]; then
  echo "$0: cannot read '$CASES'" >&2
  exit 2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/greenml-cli-cases.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

# Variables from the caller's environment that would change what greenml
# does (running this suite under `greenml measure` sets GREENML_MARK).
unset GREENML_MARK GREENML_FAKE_NVML_SCRIPT GREENML_FAKE_NVML_INIT \
  GREENML_SYSFS GREENML_PROCFS GREENML_DEVFS GREENML_NVML_LIB

SEP=' | '
passed=0
failed=0
n=0
lineno=0

# One line of output, at most 400 characters, for a "not ok" message.
squash() {
  tr '\n\t' '  ' <"$1" | cut -c1-400
}

trim() {
  local s=$1
  s=${s#"${s%%[![:space:]]*}"}
  s=${s%"${s##*[![:space:]]}"}
  printf '%s' "$s"
}

while IFS= read -r line || [ -n "$line" ]; do
  lineno=$((lineno + 1))
  case $(trim "$line") in '' | '#'*) continue ;; esac
  n=$((n + 1))

  # ARGS | EXIT | REGEX...; a line may start with "| " for empty ARGS.
  case $line in
    '|'*) line=" $line" ;;
  esac
  if [[ $line != *"$SEP"* ]]; then
    echo "not ok - $n: line $lineno: no ' | ' separator in '$line'"
    failed=$((failed + 1))
    continue
  fi
  args=$(trim "${line%%"$SEP"*}")
  rest=${line#*"$SEP"}
  if [[ $rest == *"$SEP"* ]]; then
    want=$(trim "${rest%%"$SEP"*}")
    regexes=${rest#*"$SEP"}
  else
    want=$(trim "$rest")
    regexes=
  fi
  if ! [[ $want =~ ^[0-9]+$ ]]; then
    echo "not ok - $n: line $lineno: expected exit '$want' is not a number"
    failed=$((failed + 1))
    continue
  fi
  label="greenml $args"

  dir=$TMP/case$n
  mkdir -p "$dir/home" "$dir/xdg" "$dir/sys" "$dir/dev" "$dir/run"
  # The arguments, split like a shell would (quotes only).
  if ! eval "set -- $args" 2>"$dir/eval.err"; then
    echo "not ok - $n: $label (cannot split ARGS: $(squash "$dir/eval.err"))"
    failed=$((failed + 1))
    continue
  fi
  (
    cd "$dir/run" || exit 125
    HOME=$dir/home XDG_DATA_HOME=$dir/xdg GREENML_SYSFS=$dir/sys \
      GREENML_DEVFS=$dir/dev GREENML_PROCFS=/proc \
      GREENML_NVML_LIB=$dir/no-such-libnvidia-ml.so.1 \
      timeout 60 "$GREENML" "$@" </dev/null >"$dir/out" 2>&1
  )
  got=$?

  why=
  if [ "$got" -ne "$want" ]; then
    why="expected exit $want got $got"
  else
    # Every REGEX field must match some line of the output.
    while [ -n "$regexes" ]; do
      if [[ $regexes == *"$SEP"* ]]; then
        re=${regexes%%"$SEP"*}
        regexes=${regexes#*"$SEP"}
      else
        re=$regexes
        regexes=
      fi
      re=$(trim "$re")
      [ -n "$re" ] || continue
      if [[ $re == '!'* ]]; then
        re=${re#!}
        grep -Eq -e "$re" "$dir/out" 2>/dev/null
        case $? in
          1) continue ;;
          0) why="expected no output matching /$re/" ;;
          *) why="bad regex /$re/" ;;
        esac
        break
      fi
      grep -Eq -e "$re" "$dir/out" 2>/dev/null
      case $? in
        0) ;;
        1)
          why="expected exit $want got $got; expected output matching /$re/"
          break
          ;;
        *)
          why="bad regex /$re/"
          break
          ;;
      esac
    done
  fi
  if [ -z "$why" ]; then
    echo "ok - $n: $label"
    passed=$((passed + 1))
  else
    echo "not ok - $n: $label ($why; stderr: $(squash "$dir/out"))"
    failed=$((failed + 1))
  fi
done <"$CASES"

if [ "$n" -eq 0 ]; then
  echo "not ok - no cases in '$CASES'"
  failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
