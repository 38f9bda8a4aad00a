#!/usr/bin/env bash
# Builds the mesos-go compatibility scheduler fully offline, in GOPATH mode,
# against Debian's golang-github-mesos-mesos-go-dev sources.
#
#   test/compat/build.sh <output-binary>
#
# Needs: golang-go (>= 1.19) and golang-github-mesos-mesos-go-dev
# (/usr/share/gocode). No network: GOPROXY=off, GOFLAGS cleared, modules off.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: build.sh <output-binary>}"
if ! command -v go >/dev/null 2>&1; then
  echo "go not found: install golang-go golang-github-mesos-mesos-go-dev" >&2
  exit 3
fi
if [ ! -d /usr/share/gocode/src/github.com/mesos/mesos-go/api/v1/lib ]; then
  echo "mesos-go not found under /usr/share/gocode: install golang-go golang-github-mesos-mesos-go-dev" >&2
  exit 3
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$here/go/src/cygnetcompat"
env GOPATH="$here/go:/usr/share/gocode" \
    GO111MODULE=off GOPROXY=off GOFLAGS= GOSUMDB=off GOTOOLCHAIN=local \
    GOCACHE="${GOCACHE_DIR:-$tmp/gocache}" CGO_ENABLED=0 \
    go build -o "$out" .
