#!/usr/bin/env bash
# Installs what the project needs on a fresh machine: Java and Maven (for the local Kafka
# broker), uv, and the locked Python environment in .venv. Safe to run again: it only does
# what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${INSPRAAK_CACHE_DIR:-$HOME/.cache/inspraak}"
UV_VERSION=0.13.8

need_apt=()
command -v java >/dev/null 2>&1 || need_apt+=(default-jre-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "bootstrap: installing ${need_apt[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x "$CACHE/tools/bin/uv" ] || ! "$CACHE/tools/bin/uv" --version | grep -q "$UV_VERSION"; then
  echo "bootstrap: installing uv $UV_VERSION"
  python3 -m venv "$CACHE/tools"
  "$CACHE/tools/bin/pip" install -q "uv==$UV_VERSION"
fi

"$CACHE/tools/bin/uv" sync --frozen --quiet
