#!/usr/bin/env bash
# Re-vendors axe-core from npm at a pinned version: tests/vendor/update-axe.sh 4.14.1
set -euo pipefail
version="${1:?usage: $0 VERSION}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/axe-core"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "axe-core@$version" >/dev/null && tar xzf "axe-core-$version.tgz")
cp "$work/package/axe.min.js" "$work/package/LICENSE" "$work/package/LICENSE-3RD-PARTY.txt" "$here/"
sum="$(sha256sum "$here/axe.min.js" | cut -d' ' -f1)"
sed -i -E "s/\*\*[0-9.]+\*\*/**$version**/; s/^sha256\(axe.min.js\) = .*/sha256(axe.min.js) = $sum/" "$here/README.md"
echo "axe-core $version vendored; sha256 $sum"
