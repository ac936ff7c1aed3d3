#!/usr/bin/env bash
# Fails when the generated code in the working tree (api/gen and
# api/openapi/*.swagger.json) is not exactly what api/proto generates.
#
# Usage: scripts/check-generated.sh [--committed]
#
# It regenerates into a temporary directory and compares directories, so it
# checks the working tree as it is, before or after a commit, and on a fresh CI
# clone it checks what was committed. --committed additionally requires the
# generated files to be committed (no modified or untracked files under
# api/gen and api/openapi), for CI runs on a dirty checkout.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
committed=0
case "${1:-}" in
  "") ;;
  --committed) committed=1 ;;
  *)
    echo "usage: scripts/check-generated.sh [--committed]" >&2
    exit 2
    ;;
esac

fail() {
  echo "$1" >&2
  echo "generated code out of date: run make generate" >&2
  exit 1
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$root/scripts/generate.sh" "$tmp" >/dev/null

cd "$root"
# api/gen is entirely generated: any difference, missing or extra file counts.
if ! diff -r api/gen "$tmp/api/gen" >"$tmp/diff" 2>&1; then
  head -n 40 "$tmp/diff" >&2
  fail "api/gen differs from a fresh generation."
fi
# api/openapi also holds hand-written files; compare only the generated ones.
(cd api/openapi && find . -maxdepth 1 -name '*.swagger.json' | sort) >"$tmp/have"
(cd "$tmp/api/openapi" && find . -maxdepth 1 -name '*.swagger.json' | sort) >"$tmp/want"
if ! diff "$tmp/want" "$tmp/have" >/dev/null; then
  diff "$tmp/want" "$tmp/have" >&2 || true
  fail "api/openapi holds a different set of *.swagger.json files than a fresh generation."
fi
while read -r f; do
  if ! cmp -s "api/openapi/$f" "$tmp/api/openapi/$f"; then
    diff -u "api/openapi/$f" "$tmp/api/openapi/$f" | head -n 40 >&2 || true
    fail "api/openapi/$f differs from a fresh generation."
  fi
done <"$tmp/want"

if [[ $committed == 1 ]]; then
  if ! git diff --exit-code --stat HEAD -- api/gen api/openapi >&2; then
    fail "generated files differ from the last commit."
  fi
  untracked="$(git status --porcelain --untracked-files=all -- api/gen api/openapi)"
  if [[ -n "$untracked" ]]; then
    echo "$untracked" >&2
    fail "generated files are not committed."
  fi
fi
echo "generated code is up to date"
