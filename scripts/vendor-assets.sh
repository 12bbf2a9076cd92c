#!/usr/bin/env bash
# Fetches the pages' third-party browser assets from npm at pinned versions and copies the built
# files with their licences into static/vendor/. The results are committed: nothing is fetched at
# run time or in CI. Run this only to change a version.
#   htmx.org  — progressive enhancement of the pages (served by the service)
#   axe-core  — accessibility checks, injected by the browser tests only (not served)
set -euo pipefail
cd "$(dirname "$0")/.."

HTMX_VERSION=2.0.11
AXE_VERSION=4.14.1

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm init -y > /dev/null && npm install --no-audit --no-fund --ignore-scripts \
    "htmx.org@$HTMX_VERSION" "axe-core@$AXE_VERSION" > /dev/null)

mkdir -p static/vendor
cp "$work/node_modules/htmx.org/dist/htmx.min.js" static/vendor/htmx.min.js
cp "$work/node_modules/htmx.org/LICENSE" static/vendor/htmx.LICENSE
cp "$work/node_modules/axe-core/axe.min.js" static/vendor/axe.min.js
cp "$work/node_modules/axe-core/LICENSE" static/vendor/axe-core.LICENSE
cat > static/vendor/VERSIONS <<VERSIONS
htmx.org $HTMX_VERSION (0BSD)
axe-core $AXE_VERSION (MPL-2.0)
VERSIONS
echo "vendored htmx.org $HTMX_VERSION and axe-core $AXE_VERSION into static/vendor/"
