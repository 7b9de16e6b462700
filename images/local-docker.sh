#!/usr/bin/env bash
# Starts (or stops) a Docker daemon and an image registry for local builds and CI, both on loopback only.
# Usage: images/local-docker.sh start|stop|status
#   DOCKER_STATE   folder for the daemon's and registry's data and pid files (default: ~/.cache/flights-mlops/docker)
#   REGISTRY_ADDR  where the registry listens (default: 127.0.0.1:5000)
# A daemon that already answers is used as it is and left running on stop; only what this script
# started is stopped. The daemon runs without the default bridge: containers and builds use the host's
# network namespace (--network host) or none, so nothing listens beyond 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
state=${DOCKER_STATE:-${XDG_CACHE_HOME:-$HOME/.cache}/flights-mlops/docker}
registry_addr=${REGISTRY_ADDR:-127.0.0.1:5000}
mkdir -p "$state"
state=$(cd "$state" && pwd)

need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing $2 (apt)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null
  else
    echo "error: $1 is missing; install it (Debian/Ubuntu: sudo apt-get install $2)" >&2
    exit 1
  fi
}

wait_for() {
  local what=$1; shift
  for _ in $(seq 1 60); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "error: $what did not become ready; see its log in $state" >&2
  exit 1
}

start() {
  need curl curl
  need docker docker.io
  need docker-registry docker-registry
  if docker info >/dev/null 2>&1; then
    echo "docker: using the running daemon"
  else
    need dockerd docker.io
    dockerd --bridge=none --iptables=false --ip-masq=false --data-root "$state/data" \
      --exec-root "$state/exec" --pidfile "$state/dockerd.pid" >"$state/dockerd.log" 2>&1 &
    wait_for dockerd docker info
    echo "docker: started a daemon (data in $state/data)"
  fi
  if curl -fsS "http://$registry_addr/v2/" >/dev/null 2>&1; then
    echo "registry: using the one at $registry_addr"
  else
    cat >"$state/registry.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $state/registry
http:
  addr: $registry_addr
YAML
    docker-registry serve "$state/registry.yml" >"$state/registry.log" 2>&1 &
    echo $! >"$state/registry.pid"
    wait_for registry curl -fsS "http://$registry_addr/v2/"
    echo "registry: started at $registry_addr"
  fi
}

stop_pidfile() {
  local file=$1
  [ -f "$file" ] || return 0
  local pid; pid=$(cat "$file")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  fi
  rm -f "$file"
}

case ${1:-} in
  start) start ;;
  stop) stop_pidfile "$state/registry.pid"; stop_pidfile "$state/dockerd.pid"; echo "stopped what was started" ;;
  status) docker info --format 'docker {{.ServerVersion}}' && curl -fsS "http://$registry_addr/v2/" && echo "registry up" ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
