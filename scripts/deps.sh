#!/usr/bin/env bash
# Make sure every Debian package needed to build and test agentkpi is installed.
#   - all present: prints nothing, exits 0 (fast: a single dpkg-query call)
#   - missing + root: apt-get installs them
#   - missing + not root: prints the sudo command to run and exits 1
set -euo pipefail

PACKAGES=(
  build-essential gcc make pkg-config
  libmicrohttpd-dev libpq-dev libjansson-dev uuid-dev
  libcriterion-dev libcurl4-openssl-dev libssl-dev
  postgresql curl
  # make fuzz and the fuzz phase of make test: libFuzzer is part of clang,
  # its runtime (libclang_rt.fuzzer) ships in libclang-rt-14-dev
  clang libclang-rt-14-dev
)

# One dpkg-query call prints "name<TAB>status" for every package it knows;
# unknown packages print nothing (and an error we discard).
installed=$(dpkg-query -W -f='${Package}\t${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)

missing=()
for pkg in "${PACKAGES[@]}"; do
  grep -qx "${pkg}	installed" <<<"$installed" || missing+=("$pkg")
done

[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "deps: missing packages: ${missing[*]}" >&2
  echo "deps: install them with:" >&2
  echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "deps: installing ${missing[*]}" >&2
apt-get update >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
