#!/usr/bin/env bash
# Fails when a tracked file is build output: an executable binary (ELF,
# Mach-O or PE magic), a file with the executable bit that is not a
# script (#!), or anything over 512 KiB. Fixtures that must be large or
# binary are named in ALLOW below, one path a line, with the reason.
# Run from the root of the repository (CI: .ci/run).
set -euo pipefail
trap 'echo "treecheck: failed at line $LINENO"' ERR
limit=$((512 * 1024))
ALLOW=(
  # path/of/fixture   # why it must be tracked
)
allowed() {
  local a
  for a in "${ALLOW[@]+"${ALLOW[@]}"}"; do [ "$a" = "$1" ] && return 0; done
  return 1
}
bad=0
fail() { echo "treecheck: $1"; bad=$((bad + 1)); }
checked=0
# mode, object, stage, path (git's index, so the executable bit is git's).
while IFS= read -r -d '' entry; do
  meta=${entry%%$'\t'*}
  path=${entry#*$'\t'}
  mode=${meta%% *}
  [ "$mode" = 160000 ] && continue # a submodule, not a file
  [ -f "$path" ] || continue        # deleted in the work tree
  checked=$((checked + 1))
  allowed "$path" && continue
  size=$(wc -c <"$path")
  [ "$size" -gt "$limit" ] && fail "$path is $size bytes, over 512 KiB"
  magic=$(head -c 4 "$path" | od -An -tx1 | tr -d ' \n')
  case "$magic" in
  7f454c46) fail "$path is an ELF binary" ;;
  feedface | feedfacf | cefaedfe | cffaedfe | cafebabe | bebafeca) fail "$path is a Mach-O binary" ;;
  4d5a*)
    # MZ: a PE image when the offset at 0x3c points at "PE\0\0".
    off=$( (od -An -tu4 -j 60 -N 4 "$path" 2>/dev/null || true) | tr -d ' ')
    if [ -n "$off" ] && [ "$off" -lt "$size" ] &&
      [ "$(od -An -tx1 -j "$off" -N 4 "$path" | tr -d ' \n')" = 50450000 ]; then
      fail "$path is a PE (Windows) binary"
    fi
    ;;
  esac
  if [ "$mode" = 100755 ] && [ "$(head -c 2 "$path")" != '#!' ]; then
    fail "$path is executable (mode 100755) but not a script (no #!)"
  fi
done < <(git ls-files -s -z)
if [ "$checked" -eq 0 ]; then
  echo "treecheck: no tracked files found (not run from the repository?)"
  exit 1
fi
echo "treecheck: $checked tracked files, $bad problem(s)"
[ "$bad" -eq 0 ]
