#!/usr/bin/env bash
# Installs the real code the classifier evaluation reads (test/eval/evalSources.ts): Debian
# packages that ship sources, and npm tarballs unpacked into the test cache. Idempotent; the
# evaluation reads them in place and never copies them into the repository or the package.
set -euo pipefail
cache="${CODEROUTE_TEST_CACHE:-$HOME/.cache/coderoute}/eval-sources/npm"

debs=(golang-1.19-src libruby3.1 librust-regex-dev librust-serde-dev librust-tokio-dev librust-clap-dev
      librust-rayon-dev librust-indexmap-dev php-symfony-console php-league-commonmark php-guzzlehttp-psr7
      googletest nettle-dev bash-completion unzip)
missing=()
for p in "${debs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-sources: missing Debian packages (run as root to install): ${missing[*]}" >&2
  else
    echo "install-sources: apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "${missing[@]}" >/dev/null || { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
  fi
fi

# npm tarballs, pinned so every run reads the same code.
npms=("edge-js@26.1.0 edge-js" "@tanstack/react-router@1.170.46 tanstack-react-router" "@tanstack/react-query@5.108.4 tanstack-react-query")
for entry in "${npms[@]}"; do
  read -r spec folder <<<"$entry"
  dest="$cache/$folder"
  [[ -f "$dest/.complete" ]] && continue
  rm -rf "$dest" && mkdir -p "$dest"
  tarball=$(cd "$dest" && npm pack --silent "$spec" 2>/dev/null | tail -1)
  tar xzf "$dest/$tarball" -C "$dest" && rm -f "$dest/$tarball" && touch "$dest/.complete"
  echo "install-sources: unpacked $spec"
done
