#!/usr/bin/env bash
# Installs Grafana's LogQL and TraceQL grammars (package-lock.json) into
# testbin/lezer/node_modules with `npm ci`, once: it skips when node_modules
# was installed from the same lock. Prints the directory (for check.mjs).
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

for tool in node npm; do
  command -v "$tool" >/dev/null || {
    echo "lezer: $tool not found: install Node.js 20+ and npm (Debian: apt-get install nodejs npm)" >&2
    exit 1
  }
done
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
  echo "lezer: Node.js $(node --version) is too old: install Node.js 20+ and npm" >&2
  exit 1
fi

stamp="$dir/node_modules/.storeops-lock.sha256"
want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
# One install at a time (tests run in parallel); the others wait, then skip.
exec 9>"$dir/.install.lock"
flock 9
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  # @grafana/lezer-logql 0.4.2 declares node >=24 but parses fine on 20.
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >&2
  echo "$want" >"$stamp"
fi
echo "$dir"
