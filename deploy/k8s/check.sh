#!/usr/bin/env bash
# Renders every overlay under deploy/k8s/overlays with `kubectl kustomize` (offline:
# no cluster needed) and fails when one does not render or breaks a rule these
# manifests promise. Run by `make test` when kubectl is installed.
#
# Without kubectl the check is skipped (exit 0) so laptops without it can still
# run `make test`; set TRUEUP_K8S_CHECK_REQUIRED=1 (e.g. in CI) to fail instead.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v kubectl >/dev/null 2>&1; then
	if [[ "${TRUEUP_K8S_CHECK_REQUIRED:-}" == 1 ]]; then
		echo "check.sh: kubectl not found and TRUEUP_K8S_CHECK_REQUIRED=1" >&2
		exit 1
	fi
	echo "check.sh: kubectl not found; skipping the Kubernetes manifest check" >&2
	exit 0
fi

status=0 # of the whole run
bad=0    # of the overlay being checked
fail() {
	echo "FAIL $1: $2" >&2
	status=1
	bad=1
}

shopt -s nullglob
overlays=(overlays/*/)
if ((${#overlays[@]} == 0)); then
	echo "check.sh: no overlays found under $(pwd)/overlays" >&2
	exit 1
fi

for dir in "${overlays[@]}"; do
	name=$(basename "$dir")
	if ! out=$(kubectl kustomize "$dir" 2>&1); then
		fail "$name" "kubectl kustomize failed:"
		echo "$out" >&2
		continue
	fi
	bad=0
	# Secrets are created by the platform team; a rendered Secret means a value
	# is about to be committed to git.
	if grep -q '^kind: Secret$' <<<"$out"; then
		fail "$name" "renders a Secret; reference Secrets by name instead (see README.md)"
	fi
	# Every overlay must say which image it runs: a bare `trueup` means its
	# `images:` entry is missing or misspelt.
	if grep -Eq '^[[:space:]]+image: trueup$' <<<"$out"; then
		fail "$name" "image 'trueup' has no tag; add an images: entry"
	fi
	if grep -Eq '^[[:space:]]+image: [^[:space:]]+:latest$' <<<"$out"; then
		fail "$name" "an image uses the mutable :latest tag"
	fi
	# Every container (init or not) keeps the hardened securityContext.
	hardened=$(grep -c 'readOnlyRootFilesystem: true' <<<"$out" || true)
	images=$(grep -Ec '^[[:space:]]+image: ' <<<"$out" || true)
	if ((hardened != images)); then
		fail "$name" "$images containers but $hardened with readOnlyRootFilesystem: true"
	fi
	if ((bad == 0)); then
		echo "ok   $name ($(grep -c '^kind: ' <<<"$out") objects)"
	fi
done
exit "$status"
