#!/usr/bin/env bash
# Install what the browser test and the PDF need, when it is missing (a CI machine starts fresh):
#   * Debian's chromium (and two font families for the text), through apt-get;
#   * poppler-utils (pdftotext, which tests/test_pdf.py reads the PDF's words and their places with);
#   * Node.js and npm through apt-get if there is no `node` at all (the pinned
#     playwright-core needs Node 18 or newer, Debian 12's nodejs is 18);
#   * playwright-core (to drive chromium) and mathjax 3 (served to the pages instead of the
#     CDN, since the test machine is offline), pinned in package-lock.json, into the cache
#     folder given as the first argument (default .cache/browser, ignored by git).
# Running it again does nothing that is already done.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cache="${1:-.cache/browser}"
chromium="${CHROMIUM:-/usr/bin/chromium}"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        echo "install.sh: '$*' needs root (and sudo asks for a password or is missing); run" \
             "'make test' as root, or install the package yourself and set CHROMIUM=/path/to/chromium" >&2
        exit 1
    fi
}

apt_install() {
    echo "install.sh: installing $* with apt-get"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

if ! [ -x "$chromium" ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "install.sh: no chromium at $chromium and no apt-get to install it; set CHROMIUM=/path/to/chromium" >&2
        exit 1
    fi
    # Debian packages a real chromium; Ubuntu's apt 'chromium' is a stub for a snap, which does not
    # run in containers and installs elsewhere
    if ! grep -qi '^ID=debian' /etc/os-release 2>/dev/null; then
        echo "install.sh: no chromium at $chromium, and this is not Debian, whose apt package this script" \
             "installs; install Chromium or Chrome yourself and set CHROMIUM=/path/to/it" >&2
        exit 1
    fi
    apt_install chromium fonts-liberation fonts-dejavu-core
    if ! [ -x "$chromium" ]; then
        echo "install.sh: installed Debian's chromium, but there is still no $chromium (set CHROMIUM=)" >&2
        exit 1
    fi
fi

if ! command -v pdftotext >/dev/null 2>&1; then
    apt_install poppler-utils
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 18 ]; then
    echo "install.sh: Node.js $(node --version) is too old; playwright-core 1.61 needs Node 18 or newer" >&2
    exit 1
fi

mkdir -p "$cache"
if ! cmp -s "$here/package-lock.json" "$cache/package-lock.json" || ! [ -d "$cache/node_modules/playwright-core" ] \
        || ! [ -d "$cache/node_modules/mathjax" ] || ! [ -d "$cache/node_modules/axe-core" ]; then
    cp "$here/package.json" "$here/package-lock.json" "$cache/"
    (cd "$cache" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
fi
