#!/usr/bin/env bash
# Installs the Debian packages the test host and `npm start` need, when they are missing:
# chromium (drives the VS Code workbench in tests), ripgrep (VS Code's search binary, which
# code-server would otherwise download), libkrb5-dev (to build code-server's native modules).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v rg >/dev/null 2>&1 || need+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
if [ ${#need[@]} -eq 0 ]; then
  echo "system packages: chromium, ripgrep and libkrb5-dev are present"
  exit 0
fi
echo "system packages: installing ${need[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${need[@]}" >/dev/null
