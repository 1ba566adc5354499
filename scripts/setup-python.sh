#!/usr/bin/env bash
# Create (or refresh) <repo>/.venv with the pinned Python packages used by the
# WAMP interoperability tests: Crossbar.io (reference router) and
# Autobahn|Python (reference client).
#
# Idempotent: a stamp file inside the venv records a hash of the requirements
# file plus the interpreter version; when both are unchanged the script exits
# immediately, so CI and test harnesses can call it unconditionally.
#
# Environment:
#   PYTHON   interpreter used to create the venv (default: python3)
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "${script_dir}/.." && pwd)"
venv="${repo_root}/.venv"
requirements="${script_dir}/python-requirements.txt"
stamp="${venv}/.requirements.stamp"
python="${PYTHON:-python3}"

if ! command -v "${python}" >/dev/null 2>&1; then
    echo "setup-python: '${python}' not found; install Python 3.11+" >&2
    exit 1
fi

# The stamp covers the interpreter too: a venv built by another Python version
# has stale compiled extensions (cffi, msgpack, ...) and must be rebuilt.
py_version="$("${python}" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
req_hash="$(sha256sum "${requirements}" | cut -d' ' -f1)"
want_stamp="${req_hash} python-${py_version}"

if [[ -x "${venv}/bin/python" && -f "${stamp}" && "$(cat "${stamp}")" == "${want_stamp}" ]]; then
    echo "setup-python: ${venv} is up to date (requirements ${req_hash:0:12})"
    exit 0
fi

action="updated"
# Recreate from scratch when the venv is missing, broken (no python), or was
# made by a different interpreter version; otherwise install over it so only
# changed pins are downloaded.
venv_version=""
if [[ -x "${venv}/bin/python" ]]; then
    venv_version="$("${venv}/bin/python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || true)"
fi
if [[ "${venv_version}" != "${py_version}" ]]; then
    rm -rf "${venv}"
    "${python}" -m venv "${venv}"
    action="created"
fi

# -qq keeps pip silent except for errors (its resolver prints harmless
# "does not provide the extra" warnings for this dependency tree).
# Remove the stamp first so an interrupted install is retried next time.
rm -f "${stamp}"
"${venv}/bin/python" -m pip install -qq --disable-pip-version-check \
    --no-input -r "${requirements}"
echo "${want_stamp}" > "${stamp}"

echo "setup-python: ${action} ${venv} (requirements ${req_hash:0:12}, python ${py_version})"
