#!/usr/bin/env bash
# Installs what the browser example and its end-to-end test need:
#   - Debian's `chromium` (apt-get; needs root, as CI and the dev machines are),
#   - examples/web/node_modules from the committed package-lock.json
#     (Autobahn|JS's browser build and playwright-core, pinned; `npm ci`).
#
# Idempotent: a stamp in node_modules records the lock file's hash, so a
# second run returns at once. Playwright downloads no browser of its own:
# the test drives /usr/bin/chromium.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
web="${repo_root}/examples/web"
stamp="${web}/node_modules/.lock.stamp"

if ! command -v chromium >/dev/null 2>&1; then
    if [[ "$(id -u)" != 0 ]]; then
        echo "setup-web: chromium is missing and this is not root: run 'apt-get install chromium' as root" >&2
        exit 1
    fi
    echo "setup-web: installing Debian's chromium (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

for tool in node npm; do
    if ! command -v "${tool}" >/dev/null 2>&1; then
        if [[ "$(id -u)" != 0 ]]; then
            echo "setup-web: ${tool} is missing: install Node.js 18+ and npm" >&2
            exit 1
        fi
        echo "setup-web: installing Debian's nodejs and npm (apt-get)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
    fi
done

want="$(sha256sum "${web}/package-lock.json" | cut -d' ' -f1)"
if [[ -f "${stamp}" && "$(cat "${stamp}")" == "${want}" ]]; then
    echo "setup-web: ${web}/node_modules is up to date (lock ${want:0:12})"
    exit 0
fi
# PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: playwright-core downloads nothing
# anyway; the variable keeps it so should a future version try.
(cd "${web}" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
echo "${want}" > "${stamp}"
echo "setup-web: installed ${web}/node_modules (lock ${want:0:12}); chromium $(chromium --version 2>/dev/null || echo '?')"
