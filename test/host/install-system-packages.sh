#!/usr/bin/env bash
# Installs the Debian packages the test host and `npm start` need, when they are missing:
# chromium (drives the VS Code workbench in tests), ripgrep (VS Code's search binary, which
# code-server would otherwise download), libkrb5-dev (to build code-server's native modules),
# fonts-noto-color-emoji (so the UI test's screenshot shows the 👍 / 👎 of the explanation view).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v rg >/dev/null 2>&1 || need+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || need+=(fonts-noto-color-emoji)
if [ ${#need[@]} -eq 0 ]; then
  echo "system packages: chromium, ripgrep, libkrb5-dev and fonts-noto-color-emoji are present"
  exit 0
fi
echo "system packages: installing ${need[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${need[@]}" >/dev/null
