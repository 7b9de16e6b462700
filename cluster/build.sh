#!/usr/bin/env bash
# Builds the single-node cluster's programs from their upstream Go modules, at the versions pinned in
# cluster/versions.env, into a cache folder keyed by name and version:
#   ${CLUSTER_CACHE:-${XDG_CACHE_HOME:-~/.cache}/flights-mlops/cluster}/bin/<name>-<version>/
# A folder is reused only when every program it should hold is there, executable, and reports the pinned
# version; otherwise it is rebuilt. A second run builds nothing.
# The Go module and build caches of a build live in a folder of their own and are deleted once every
# program is built (a cold build leaves 8–9 GB there), unless CLUSTER_KEEP_GO_CACHES=1.
# Usage: cluster/build.sh            build or reuse everything; prints the bin folders as NAME=path lines
#   CLUSTER_BUILD_JOBS  parallel compile jobs (go build -p; default 2); builds run under `nice -n 10`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=cluster/versions.env
. cluster/versions.env
cache=${CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flights-mlops/cluster}
bin_root=$cache/bin
go_root=$cache/go-build
jobs=${CLUSTER_BUILD_JOBS:-2}
mkdir -p "$bin_root"

need() {
  local cmd=$1 pkg=$2
  if [ "$cmd" = "-" ] || command -v "$cmd" >/dev/null 2>&1; then
    [ "$cmd" != "-" ] && return 0
    dpkg -s "$pkg" >/dev/null 2>&1 && return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing $pkg (apt)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
  else
    echo "error: $pkg is missing; install it (Debian/Ubuntu: sudo apt-get install $pkg)" >&2
    exit 1
  fi
}

# version_ok DIR "PROG..." "COMMAND ARGS" EXPECTED: every program executable, the command's output holds EXPECTED.
version_ok() {
  local dir=$1 progs=$2 cmd=$3 expected=$4 p
  for p in $progs; do [ -f "$dir/$p" ] && [ -x "$dir/$p" ] || return 1; done
  [ -z "$cmd" ] && return 0
  local said
  # shellcheck disable=SC2086
  said=$(cd "$dir" && timeout 20 ./$cmd 2>&1) || return 1
  # (not piped into grep -q: under pipefail the program's SIGPIPE would fail a matching check)
  grep -qF -- "$expected" <<<"$said"
}

# gobuild NAME VERSION MODULE@VERSION "PACKAGES" [go build args...]: builds PACKAGES of a wrapper module
# that requires MODULE@VERSION into bin/NAME-VERSION. Extra `replace` and `godebug` lines come from the
# REPLACES and GODEBUG variables; CGO_ENABLED from CGO (default 0).
gobuild() {
  local name=$1 version=$2 modver=$3 pkgs=$4; shift 4
  local out=$bin_root/$name-$version work=$go_root/work/$name-$version start=$SECONDS r
  rm -rf "$work" "$out.tmp"
  mkdir -p "$work" "$out.tmp"
  (
    cd "$work"
    export GOMODCACHE=$go_root/mod GOCACHE=$go_root/cache GOPATH=$go_root/path GOFLAGS=-mod=mod GOTOOLCHAIN=local
    export CGO_ENABLED=${CGO:-0}
    go mod init local/build >/dev/null 2>&1
    for r in ${REPLACES:-}; do go mod edit -replace="$r"; done
    [ -n "${GODEBUG_LINE:-}" ] && go mod edit -godebug="$GODEBUG_LINE"
    nice -n 10 go get "$modver" >"$work/get.log" 2>&1 || { cat "$work/get.log" >&2; exit 1; }
    # shellcheck disable=SC2086
    nice -n 10 go build -p "$jobs" -trimpath -o "$out.tmp/" "$@" $pkgs
  )
  rm -rf "$out"
  mv "$out.tmp" "$out"
  rm -rf "$work"
  echo "built $name $version in $((SECONDS - start))s"
  built=$((built + 1))
}

built=0
declare -A dirs

# Kubernetes: its root go.mod points every k8s.io staging module at ./staging, so pin them to the tag.
k8s_dir=$bin_root/kubernetes-$KUBERNETES_VERSION
if version_ok "$k8s_dir" "kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy" \
  "kubelet --version" "Kubernetes $KUBERNETES_VERSION" &&
  version_ok "$k8s_dir" "" "kube-apiserver --version" "Kubernetes $KUBERNETES_VERSION"; then
  echo "reused kubernetes $KUBERNETES_VERSION ($k8s_dir)"
else
  staging="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
    cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api cri-client
    csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms kube-aggregator
    kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics mount-utils
    pod-security-admission sample-apiserver sample-cli-plugin sample-controller"
  minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
  ld=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  REPLACES=$(for m in $staging; do printf 'k8s.io/%s=k8s.io/%s@%s ' "$m" "$m" "$KUBERNETES_STAGING_VERSION"; done) \
    GODEBUG_LINE=default=go1.24 \
    gobuild kubernetes "$KUBERNETES_VERSION" "k8s.io/kubernetes@$KUBERNETES_VERSION" \
    "k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
     k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy" \
    -tags selinux,notest -ldflags "-s -w$ld"
fi
dirs[kubernetes]=$k8s_dir

etcd_dir=$bin_root/etcd-$ETCD_VERSION
if version_ok "$etcd_dir" "etcd" "etcd --version" "etcd Version: ${ETCD_VERSION#v}"; then
  echo "reused etcd $ETCD_VERSION ($etcd_dir)"
else
  gobuild etcd "$ETCD_VERSION" "go.etcd.io/etcd/server/v3@$ETCD_VERSION" go.etcd.io/etcd/server/v3 \
    -ldflags "-s -w"
  # go build names the program after the module path's last element before /v3.
  for f in v3 server; do if [ -f "$etcd_dir/$f" ]; then mv "$etcd_dir/$f" "$etcd_dir/etcd"; fi; done
fi
dirs[etcd]=$etcd_dir

ctd_dir=$bin_root/containerd-$CONTAINERD_VERSION
if version_ok "$ctd_dir" "containerd containerd-shim-runc-v2 ctr" "containerd --version" " $CONTAINERD_VERSION "; then
  echo "reused containerd $CONTAINERD_VERSION ($ctd_dir)"
else
  gobuild containerd "$CONTAINERD_VERSION" "github.com/containerd/containerd/v2@$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/containerd github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2
     github.com/containerd/containerd/v2/cmd/ctr" \
    -tags "urfave_cli_no_docs no_btrfs" \
    -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION"
fi
dirs[containerd]=$ctd_dir

runc_dir=$bin_root/runc-$RUNC_VERSION
if version_ok "$runc_dir" "runc" "runc --version" "runc version ${RUNC_VERSION#v}"; then
  echo "reused runc $RUNC_VERSION ($runc_dir)"
else
  need gcc gcc
  need pkg-config pkg-config
  need - libseccomp-dev
  CGO=1 gobuild runc "$RUNC_VERSION" "github.com/opencontainers/runc@$RUNC_VERSION" github.com/opencontainers/runc \
    -tags "seccomp urfave_cli_no_docs" -buildmode=pie -ldflags "-s -w -X main.version=${RUNC_VERSION#v}"
fi
dirs[runc]=$runc_dir

cni_dir=$bin_root/cni-plugins-$CNI_PLUGINS_VERSION
if version_ok "$cni_dir" "bridge host-local loopback portmap" "bridge --version" "$CNI_PLUGINS_VERSION"; then
  echo "reused cni-plugins $CNI_PLUGINS_VERSION ($cni_dir)"
else
  m=github.com/containernetworking/plugins
  gobuild cni-plugins "$CNI_PLUGINS_VERSION" "$m@$CNI_PLUGINS_VERSION" \
    "$m/plugins/main/bridge $m/plugins/ipam/host-local $m/plugins/main/loopback $m/plugins/meta/portmap" \
    -ldflags "-s -w -X $m/pkg/utils/buildversion.BuildVersion=$CNI_PLUGINS_VERSION"
fi
dirs[cni-plugins]=$cni_dir

coredns_dir=$bin_root/coredns-$COREDNS_VERSION
if version_ok "$coredns_dir" "coredns" "coredns -version" "CoreDNS-${COREDNS_VERSION#v}"; then
  echo "reused coredns $COREDNS_VERSION ($coredns_dir)"
else
  gobuild coredns "$COREDNS_VERSION" "github.com/coredns/coredns@$COREDNS_VERSION" github.com/coredns/coredns \
    -ldflags "-s -w"
fi
dirs[coredns]=$coredns_dir

kr_dir=$bin_root/kube-router-$KUBE_ROUTER_VERSION
if version_ok "$kr_dir" "kube-router" "kube-router --version" "$KUBE_ROUTER_VERSION"; then
  echo "reused kube-router $KUBE_ROUTER_VERSION ($kr_dir)"
else
  m=github.com/cloudnativelabs/kube-router/v2
  gobuild kube-router "$KUBE_ROUTER_VERSION" "$m@$KUBE_ROUTER_VERSION" "$m/cmd/kube-router" \
    -ldflags "-s -w -X $m/pkg/version.Version=$KUBE_ROUTER_VERSION"
fi
dirs[kube-router]=$kr_dir

# The sandbox ("pause") program is our own (cluster/pause): keyed by a hash of its source.
pause_version=$(cat cluster/pause/go.mod cluster/pause/main.go | sha256sum | cut -c1-12)
pause_dir=$bin_root/pause-$pause_version
if version_ok "$pause_dir" "pause" "" ""; then
  echo "reused pause $pause_version ($pause_dir)"
else
  start=$SECONDS
  rm -rf "$pause_dir.tmp" && mkdir -p "$pause_dir.tmp"
  (cd cluster/pause && CGO_ENABLED=0 GOCACHE=$go_root/cache GOTOOLCHAIN=local \
    nice -n 10 go build -trimpath -ldflags "-s -w" -o "$pause_dir.tmp/pause" .)
  rm -rf "$pause_dir" && mv "$pause_dir.tmp" "$pause_dir"
  echo "built pause $pause_version in $((SECONDS - start))s"
  built=$((built + 1))
fi
dirs[pause]=$pause_dir

if [ -d "$go_root" ] && [ "${CLUSTER_KEEP_GO_CACHES:-0}" != 1 ]; then
  chmod -R u+w "$go_root" 2>/dev/null || true
  rm -rf "$go_root"
  echo "removed the Go module and build caches of the build ($go_root)"
fi
echo "cluster programs: $built built"
for name in "${!dirs[@]}"; do echo "$name=${dirs[$name]}"; done | sort >"$bin_root/current.env"
echo "PAUSE_VERSION=$pause_version" >>"$bin_root/current.env"
