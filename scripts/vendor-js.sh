#!/usr/bin/env bash
# Copies the browser libraries the dashboard serves from npm into Dashboard/wwwroot/lib (the dashboard has no
# JavaScript build): tus-js-client, the official client of the tus resumable-upload protocol, for dataset uploads.
# Run it to upgrade; the copies are committed so that a build needs no npm.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tus_version=4.3.1
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "tus-js-client@$tus_version" >/dev/null && tar xzf "tus-js-client-$tus_version.tgz")
target="$root/Dashboard/wwwroot/lib/tus-js-client"
mkdir -p "$target"
cp "$work/package/dist/tus.min.js" "$work/package/LICENSE" "$target/"
echo "tus-js-client $tus_version (npm), MIT licence: dist/tus.min.js and LICENSE as published." > "$target/VERSION"
echo "tus-js-client $tus_version copied to $target"
