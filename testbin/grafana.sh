#!/usr/bin/env bash
# Builds the Grafana server (backend only: no frontend bundle) from source
# through the Go module proxy (no GitHub releases, no images), once, into the
# same versioned cache as testbin/k8s.sh and testbin/backends.sh:
#   ${STOREOPS_TESTBIN_DIR:-~/.cache/storeops/testbin}/grafana-<version>/grafana   the binary
#   ${STOREOPS_TESTBIN_DIR:-~/.cache/storeops/testbin}/grafana-<version>/home      its homepath (conf/, public/)
#   ${STOREOPS_TESTBIN_DIR:-~/.cache/storeops/testbin}/grafana-<version>/grafana-dashcheck
#     validates dashboard JSON files against the same version's CUE schema
# build_grafana prints the binary's path, grafana_home the homepath and
# grafana_dashcheck the checker's path (building if needed); grafana_config
# writes a loopback setup and prints its ini; progress goes to stderr. Source it (source testbin/grafana.sh; build_grafana)
# or run it:
#   bash testbin/grafana.sh [build]          # prints GRAFANA_BIN=, GRAFANA_HOME=, GRAFANA_DASHCHECK= lines
#   bash testbin/grafana.sh config DIR HTTP_PORT DASHBOARDS_DIR [PROMETHEUS_URL]
# Why this version, what works (HTTP API) and what not (UI): testbin/README-grafana.md.
set -euo pipefail

# _k8s_log, and _backends_download (go mod download -json, failing with the
# proxy's error); both files run nothing when sourced.
# shellcheck source=testbin/backends.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/backends.sh"

# github.com/grafana/grafana has no Go module versions for its releases (the
# v7+ tags lack a /vN path suffix), so only pseudo-versions of commits exist.
# The module proxy here refuses the version list, @latest, tags, branches and
# the pseudo-versions of release commits (403); it serves the few that other
# published go.mod files require. This one (github.com/grafana/grok requires
# it) is the newest found: main of 2023-06-09, package.json "10.0.0-preview",
# i.e. the Grafana 10.0/10.1 backend. See README-grafana.md, "What the proxy
# refused".
GRAFANA_MODULE_VERSION=${GRAFANA_MODULE_VERSION:-v1.9.2-0.20230609164553-81d85ce8028d}
GRAFANA_VERSION=${GRAFANA_VERSION:-10.0.0-preview-81d85ce} # the cache dir name and the version stamp
# The module's hash (go.sum form), checked after download.
GRAFANA_MODULE_SUM=${GRAFANA_MODULE_SUM:-h1:nEQOIzFVY/zsD915THCfkl+HIvGW+AounbAQ61ejFcs=}
# Grafana's own pin of google/wire (v0.5.0, with golang.org/x/tools v0.7.0)
# panics type-checking Go 1.26's standard library; v0.7.0 (x/tools v0.24.1)
# generates the same injector.
GRAFANA_WIRE_VERSION=${GRAFANA_WIRE_VERSION:-v0.7.0}
# Every compile runs at this niceness (the machine has 2 cores shared with
# other builds).
GRAFANA_NICE=${GRAFANA_NICE:-19}

_grafana_dir() { echo "${STOREOPS_TESTBIN_DIR:-$HOME/.cache/storeops/testbin}/grafana-$GRAFANA_VERSION"; }

# _grafana_wire <out>: builds the wire code generator in a throw-away module.
_grafana_wire() {
  local w
  w=$(mktemp -d "${TMPDIR:-/tmp}/storeops-wire.XXXXXX") || return 1
  (
    trap 'rm -rf "$w"' EXIT
    cd "$w" || exit 1
    printf 'module storeops/testbin/wire\n\ngo 1.26.0\n\nrequire github.com/google/wire %s\n' "$GRAFANA_WIRE_VERSION" >go.mod &&
      printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/google/wire/cmd/wire"\n' >tools.go &&
      go mod tidy >&2 &&
      nice -n "$GRAFANA_NICE" go build -trimpath -o "$1" github.com/google/wire/cmd/wire >&2
  )
}

# Builds inside a copy of the module's source tree, which is the main module
# there: its go.mod (with all its replace directives) and go.sum apply as
# upstream builds it, and `wire gen` can write pkg/server/wire_gen.go, which
# upstream generates at build time (make gen-go) and does not commit. Lock,
# temp dir and atomic rename as _k8s_build; the binary is moved in last.
build_grafana() {
  local cache=${STOREOPS_TESTBIN_DIR:-$HOME/.cache/storeops/testbin}
  local dir
  dir=$(_grafana_dir)
  if [[ ! -x $dir/grafana ]]; then
    command -v go >/dev/null || { _k8s_log "go is required (the Go toolchain, >= 1.26)"; return 1; }
    command -v cc >/dev/null || { _k8s_log "a C compiler is required (cgo: github.com/mattn/go-sqlite3)"; return 1; }
    mkdir -p "$cache"
    (
      exec 9>"$cache/.grafana-$GRAFANA_VERSION.lock" && flock 9 || exit 1
      [[ -x $dir/grafana ]] && exit 0
      export GOFLAGS="-mod=mod -buildvcs=false" GOWORK=off CGO_ENABLED=1 GOTOOLCHAIN=${GOTOOLCHAIN:-local}
      mod="github.com/grafana/grafana@$GRAFANA_MODULE_VERSION"
      work=$(mktemp -d "$cache/.grafana-build.XXXXXX") || exit 1
      trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
      _k8s_log "building grafana $GRAFANA_VERSION from source ($mod pkg/cmd/grafana); 20-60 minutes, once"
      start=$SECONDS
      sum=$(_backends_download "$mod" Sum) || exit 1
      if [[ $sum != "$GRAFANA_MODULE_SUM" ]]; then
        _k8s_log "$mod has hash $sum, pinned: $GRAFANA_MODULE_SUM"
        exit 1
      fi
      src=$(_backends_download "$mod" Dir) || exit 1
      info=$(_backends_download "$mod" Info) || exit 1
      rev=$(sed -n 's/.*"Hash": *"\([0-9a-f]*\)".*/\1/p' "$info")
      date=$(sed -n 's/.*"Time": *"\([^"]*\)".*/\1/p' "$info")
      stamp=$(date -d "$date" +%s) || exit 1
      cp -R "$src" "$work/src" && chmod -R u+w "$work/src" || exit 1
      _grafana_wire "$work/wire" || { _k8s_log "building wire $GRAFANA_WIRE_VERSION failed"; exit 1; }
      cd "$work/src" || exit 1
      # As `make gen-go` (WIRE_TAGS=oss).
      nice -n "$GRAFANA_NICE" "$work/wire" gen -tags oss ./pkg/server >&2 || exit 1
      # As build.go stamps (main.version/commit/buildBranch/buildstamp); no
      # build tags, as `make build-server`.
      nice -n "$GRAFANA_NICE" go build -trimpath \
        -ldflags="-s -w -X main.version=$GRAFANA_VERSION -X main.commit=${rev:0:12} -X main.buildBranch=main -X main.buildstamp=$stamp" \
        -o "$work/grafana" ./pkg/cmd/grafana >&2 || exit 1
      # grafana-dashcheck: validates dashboard JSON files against this
      # version's CUE dashboard kind schema (what the validateDashboardsOnSave
      # feature toggle was meant to run; broken in this commit).
      mkdir -p pkg/cmd/storeops-dashcheck && _grafana_dashcheck_go >pkg/cmd/storeops-dashcheck/main.go || exit 1
      nice -n "$GRAFANA_NICE" go build -trimpath -ldflags="-s -w" -o "$work/grafana-dashcheck" ./pkg/cmd/storeops-dashcheck >&2 || exit 1
      # The homepath: conf/ (defaults.ini) and public/ (views, emails, core
      # plugins' plugin.json, img) from the same source; public/build (the
      # webpack bundle) does not exist.
      mkdir -p "$work/home" && cp -R conf public "$work/home/" || exit 1
      mkdir -p "$dir" || exit 1
      rm -rf "$dir/home" && mv "$work/home" "$dir/home" || exit 1
      mv -f "$work/grafana-dashcheck" "$dir/grafana-dashcheck" || exit 1
      mv -f "$work/grafana" "$dir/grafana" || exit 1
      _k8s_log "built $dir/grafana in $((SECONDS - start))s"
    ) || { _k8s_log "building grafana $GRAFANA_VERSION failed"; return 1; }
  fi
  echo "$dir/grafana"
}

# The source of grafana-dashcheck FILE...: prints "ok FILE" or "INVALID FILE:
# <CUE errors>" for each, exits 1 if any is invalid. The kind's schema wants the
# dashboard under "spec" (kindsys resource shape); the file's JSON is wrapped.
_grafana_dashcheck_go() {
  cat <<'EOF'
package main

import (
	"fmt"
	"os"

	"github.com/grafana/grafana/pkg/cuectx"
	"github.com/grafana/grafana/pkg/registry/corekind"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: grafana-dashcheck DASHBOARD.json...")
		os.Exit(2)
	}
	kind := corekind.NewBase(cuectx.GrafanaThemaRuntime()).Dashboard()
	rc := 0
	for _, f := range os.Args[1:] {
		b, err := os.ReadFile(f)
		if err == nil {
			_, _, err = kind.JSONValueMux(append(append([]byte(`{"spec":`), b...), '}'))
		}
		if err != nil {
			fmt.Printf("INVALID %s: %v\n", f, err)
			rc = 1
			continue
		}
		fmt.Printf("ok %s\n", f)
	}
	os.Exit(rc)
}
EOF
}

# grafana_dashcheck: the path of grafana-dashcheck (building if needed).
grafana_dashcheck() {
  build_grafana >/dev/null || return 1
  echo "$(_grafana_dir)/grafana-dashcheck"
}

grafana_home() {
  build_grafana >/dev/null || return 1
  echo "$(_grafana_dir)/home"
}

# grafana_config <dir> <http_port> <dashboards_dir> [prometheus_url]: a
# loopback setup under <dir>: data (sqlite grafana.db), logs, plugins and
# provisioning/ directories, a file dashboard provider "storeops" reading
# <dashboards_dir> every second (folder "storeops", no UI edits), and with
# [prometheus_url] a default Prometheus datasource (uid "prometheus", name
# "Prometheus"). Prints the ini (admin/admin, anonymous Viewer, no phoning
# home). Start:
#   grafana server --homepath "$GRAFANA_HOME" --config <dir>/grafana.ini
# ready when GET /api/health answers 200 (database "ok").
grafana_config() {
  local dir=$1 port=$2 dash=$3 prom=${4:-} d
  for d in data logs plugins provisioning/dashboards provisioning/datasources provisioning/plugins \
    provisioning/notifiers provisioning/alerting provisioning/access-control; do
    mkdir -p "$dir/$d" || return 1
  done
  cat >"$dir/provisioning/dashboards/storeops.yaml" <<EOF || return 1
apiVersion: 1
providers:
  - name: storeops
    orgId: 1
    folder: storeops
    type: file
    disableDeletion: true
    allowUiUpdates: false
    updateIntervalSeconds: 1
    options:
      path: $dash
EOF
  if [[ -n $prom ]]; then
    cat >"$dir/provisioning/datasources/prometheus.yaml" <<EOF || return 1
apiVersion: 1
datasources:
  - name: Prometheus
    uid: prometheus
    type: prometheus
    access: proxy
    url: $prom
    isDefault: true
EOF
  fi
  cat <<EOF
[paths]
data = $dir/data
logs = $dir/logs
plugins = $dir/plugins
provisioning = $dir/provisioning
[server]
http_addr = 127.0.0.1
http_port = $port
[database]
type = sqlite3
path = grafana.db
[security]
admin_user = admin
admin_password = admin
[auth.anonymous]
enabled = true
org_role = Viewer
[analytics]
reporting_enabled = false
check_for_updates = false
check_for_plugin_updates = false
feedback_links_enabled = false
[news]
news_feed_enabled = false
[log]
mode = console
level = info
EOF
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  case "${1:-build}" in
    build) bin=$(build_grafana) && echo "GRAFANA_BIN=$bin" && echo "GRAFANA_HOME=$(_grafana_dir)/home" &&
      echo "GRAFANA_DASHCHECK=$(_grafana_dir)/grafana-dashcheck" ;;
    config) shift; [[ $# -eq 3 || $# -eq 4 ]] ||
      { echo "usage: $0 config <dir> <http_port> <dashboards_dir> [prometheus_url]" >&2; exit 2; }
      grafana_config "$@" ;;
    *) echo "usage: $0 [build] | config DIR HTTP_PORT DASHBOARDS_DIR [PROMETHEUS_URL]" >&2; exit 2 ;;
  esac
  # bash parses this whole block before running it; exiting here means an edit
  # of this file during a long build cannot make bash read on at a stale offset.
  exit 0
fi
