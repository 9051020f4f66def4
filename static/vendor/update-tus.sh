#!/usr/bin/env bash
# Re-vendors tus-js-client from npm at a pinned version: static/vendor/update-tus.sh 4.3.1
set -euo pipefail
version="${1:?usage: $0 VERSION}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tus-js-client"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "tus-js-client@$version" >/dev/null && tar xzf "tus-js-client-$version.tgz")
cp "$work/package/dist/tus.min.js" "$work/package/LICENSE" "$here/"
sum="$(sha256sum "$here/tus.min.js" | cut -d' ' -f1)"
sed -i -E "s/\*\*[0-9.]+\*\*/**$version**/; s/^sha256\(tus.min.js\) = .*/sha256(tus.min.js) = $sum/" "$here/README.md"
echo "tus-js-client $version vendored; sha256 $sum"
