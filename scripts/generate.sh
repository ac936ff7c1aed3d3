#!/usr/bin/env bash
# Regenerates the API code from api/proto: Go messages, gRPC and grpc-gateway
# code into api/gen/go, and the merged partner OpenAPI document into
# api/openapi/trueup.swagger.json.
#
# Usage: scripts/generate.sh [--lint-only] [OUTDIR]
#
# --lint-only runs the checks (buf lint, buf format) and generates nothing.
# Without OUTDIR it regenerates in place. With OUTDIR it copies the inputs
# (buf.yaml, buf.gen.yaml, api/proto, api/openapi/openapi_config.yaml) there and
# generates into OUTDIR instead, leaving the working tree alone; that is how
# scripts/check-generated.sh compares the committed output with a fresh one.
#
# Everything runs offline: buf and the protoc plugins are built from the pinned
# tools module into .bin (rebuilt when tools/go.mod or tools/go.sum change),
# and google/api/*.proto is copied from the Go module cache into .third_party.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
lint_only=0
if [[ "${1:-}" == "--lint-only" ]]; then
  lint_only=1
  shift
fi
if [[ $# -gt 1 || "${1:-}" == -* ]]; then
  echo "usage: scripts/generate.sh [--lint-only] [OUTDIR]" >&2
  exit 2
fi
work="${1:-$root}"
mkdir -p "$work"
work="$(cd "$work" && pwd -P)"

# googleapis_module is the grpc-gateway v1 release whose third_party/googleapis
# holds google/api/annotations.proto and http.proto.
googleapis_module="github.com/grpc-ecosystem/grpc-gateway@v1.16.0"
tools=(buf protoc-gen-go protoc-gen-go-grpc protoc-gen-grpc-gateway protoc-gen-openapiv2)

# build_tools installs the pinned tools into .bin unless they are already there
# and were built from the current tools/go.mod and tools/go.sum.
build_tools() {
  local stamp="$root/.bin/.tools.sum" want missing=0 t
  want="$(cat "$root/tools/go.mod" "$root/tools/go.sum" | cksum)"
  for t in "${tools[@]}"; do
    [[ -x "$root/.bin/$t" ]] || missing=1
  done
  if [[ $missing == 0 && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return
  fi
  echo "generate: building tools into .bin" >&2
  (cd "$root/tools" && GOWORK=off GOBIN="$root/.bin" go install tool)
  printf '%s\n' "$want" >"$stamp"
}

# prepare_third_party puts a writable copy of googleapis under $work/.third_party,
# the second module of buf.yaml. It is rebuilt every run, so it never drifts.
prepare_third_party() {
  local dir
  dir="$(cd "$root/tools" && GOWORK=off go mod download -json "$googleapis_module" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  if [[ -z "$dir" || ! -d "$dir/third_party/googleapis" ]]; then
    echo "generate: cannot find third_party/googleapis of $googleapis_module in the module cache" >&2
    exit 1
  fi
  rm -rf "$work/.third_party/googleapis"
  mkdir -p "$work/.third_party"
  cp -R "$dir/third_party/googleapis" "$work/.third_party/googleapis"
  chmod -R u+w "$work/.third_party/googleapis"
}

# copy_inputs gives an out-of-tree OUTDIR everything buf needs.
copy_inputs() {
  rm -rf "$work/api/proto" "$work/api/openapi"
  mkdir -p "$work/api/openapi"
  cp "$root/buf.yaml" "$root/buf.gen.yaml" "$work/"
  cp -R "$root/api/proto" "$work/api/proto"
  cp "$root/api/openapi/openapi_config.yaml" "$work/api/openapi/"
}

build_tools
export PATH="$root/.bin:$PATH"
if ! [[ "$work" -ef "$root" ]]; then
  copy_inputs
fi
prepare_third_party

cd "$work"
buf lint
buf format --diff --exit-code api/proto || {
  echo "generate: protos are not formatted: run .bin/buf format -w api/proto" >&2
  exit 1
}
if [[ $lint_only == 1 ]]; then
  exit 0
fi
# Remove the previous output first, so code of a deleted or renamed proto does
# not linger. Only generated files go: api/openapi also holds hand-written ones.
rm -rf api/gen
rm -f api/openapi/*.swagger.json
buf generate
