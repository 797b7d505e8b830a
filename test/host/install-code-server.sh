#!/usr/bin/env bash
# Installs code-server (VS Code 1.100.3 built for a browser) into a cache folder outside the
# clone, without any download other than the npm registry. code-server's own postinstall refuses
# to run as root and fetches ripgrep from GitHub, so its steps are done here by hand.
# Usage: install-code-server.sh DEST   (DEST/.complete-N marks a finished install)
set -euo pipefail
dest=${1:?destination folder}
version=4.100.3
# Bump when this script changes what it installs, so cached installs are redone.
layout=2
if [ -f "$dest/.complete-$layout" ]; then exit 0; fi

for bin in rg; do
  command -v "$bin" >/dev/null || { echo "missing $bin: apt-get install ripgrep" >&2; exit 2; }
done
[ -f /usr/include/krb5.h ] || [ -f /usr/include/gssapi/gssapi.h ] || { echo "missing Kerberos headers: apt-get install libkrb5-dev" >&2; exit 2; }

rm -rf "$dest.partial"
mkdir -p "$dest.partial"
cd "$dest.partial"
echo "[code-server] installing code-server@$version into $dest (first run only)"
printf '{"name":"coderoute-test-host","private":true}\n' > package.json
npm install --no-audit --no-fund --ignore-scripts --loglevel=error "code-server@$version"
cs="$PWD/node_modules/code-server"
(
  cd "$cs/lib/vscode"
  npm install --no-audit --no-fund --omit=dev --ignore-scripts --loglevel=error
  npm_config_yes=true npm rebuild --loglevel=error kerberos node-pty @parcel/watcher @vscode/spdlog native-watchdog
  mkdir -p node_modules/@vscode/ripgrep/bin
  cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
  ln -sfn node_modules node_modules.asar
  # The built-in extensions share one dependency (TypeScript, for the TS/JS language features
  # that give tests real diagnostics); its postinstall only deletes files, so it is skipped.
  (cd extensions && npm install --no-audit --no-fund --omit=dev --ignore-scripts --loglevel=error)
)
# argon2 is hoisted to the top node_modules; its build needs no download (falls back to node-gyp).
npm rebuild --loglevel=error argon2
cd /
rm -rf "$dest"
mv "$dest.partial" "$dest"
touch "$dest/.complete-$layout"
echo "[code-server] installed"
