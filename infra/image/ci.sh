#!/usr/bin/env bash
# CI (.ci/run): builds the image from infra/Dockerfile with podman on a base made here
# (infra/image/base.sh), then test/image runs auth, invitation and web from it against the test
# Postgres and Redis. Everything podman stores for this run lives in a directory of its own,
# removed at the end whatever happened, so no container or image outlives the run.
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/image/podman.sh

store=$(mktemp -d /var/tmp/gatehouse-image-XXXXXX)
cat >"$store/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$store/graph"
runroot = "$store/run"
CONF
export CONTAINERS_STORAGE_CONF="$store/storage.conf"
secrets=$(mktemp -d)
cleanup() {
  podman rm --all --force --time 0 >/dev/null 2>&1 || true
  podman rmi --all --force >/dev/null 2>&1 || true
  rm -rf "$store" "$secrets" 2>/dev/null || echo "image: could not remove $store" >&2
}
trap cleanup EXIT

base=$(sed -n 's/^ARG NODE_IMAGE=//p' infra/Dockerfile)
image=localhost/gatehouse:ci
infra/image/base.sh "$base"

# npm's CA (a TLS-intercepting proxy's) reaches the build's npm and pnpm as build secrets only.
build_secrets=()
cafile=$(npm config get cafile 2>/dev/null || true)
if [ -n "$cafile" ] && [ "$cafile" != null ] && [ -f "$cafile" ]; then
  echo 'cafile=/run/secrets/npm-ca' >"$secrets/npmrc"
  build_secrets=(--secret "id=npmrc,src=$secrets/npmrc" --secret "id=npm-ca,src=$cafile")
fi
started=$(date +%s)
if ! podman build --quiet --pull=never --format docker --network host "${build_secrets[@]}" \
  --file infra/Dockerfile --tag "$image" . >"$store/build.log" 2>&1; then
  tail -n 40 "$store/build.log" >&2
  echo "image: podman build -f infra/Dockerfile failed (above: the last 40 lines)" >&2
  exit 1
fi
echo "image: built $image in $(($(date +%s) - started)) s"

GATEHOUSE_IMAGE=$image GATEHOUSE_BASE_IMAGE=$base pnpm test test/image
