#!/usr/bin/env bash
# What a cluster could leave on the host, listed so that a list taken before `cluster up` and one taken
# after `cluster down` can be compared.
# Usage: cluster/leftovers.sh snapshot FILE    write the list
#        cluster/leftovers.sh compare BEFORE AFTER
#   compare fails only on entries present AFTER that were not present BEFORE; entries that disappeared
#   (a process that ended, a defunct shim reaped meanwhile) are reported but are not a failure.
# Listed: processes of the cluster's programs or in the kubepods cgroups (zombies left out: they hold
# nothing and their parent reaps them), mount points, network devices, network namespaces, iptables
# chains and the rules of the built-in chains (every iptables backend present), ipsets, nftables tables.
set -euo pipefail

programs='^(etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kube-proxy|kube-router|containerd|containerd-shim-runc-v2|containerd-shim|runc|coredns|pause)$'

snapshot() {
  local pid comm st cmd c t
  for pid in /proc/[0-9]*; do
    st=$(awk '/^State:/ {print $2}' "$pid/status" 2>/dev/null || true)
    [ -z "$st" ] || [ "$st" = Z ] && continue
    comm=$(cat "$pid/comm" 2>/dev/null || true)
    if [[ $comm =~ $programs ]] || grep -q kubepods "$pid/cgroup" 2>/dev/null; then
      cmd=$(tr '\0' ' ' <"$pid/cmdline" 2>/dev/null | cut -c1-200 || true)
      echo "process $comm: $cmd"
    fi
  done
  awk '{print "mount " $5}' /proc/self/mountinfo
  ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print "link " $2}'
  (ls /var/run/netns 2>/dev/null || true) | sed 's/^/netns /'
  for c in iptables-nft ip6tables-nft iptables-legacy ip6tables-legacy; do
    command -v "$c" >/dev/null 2>&1 || continue
    for t in filter nat mangle raw; do
      "$c" -t "$t" -S 2>/dev/null | awk -v p="$c $t" '$1 == "-N" || ($1 == "-A" && $2 ~ /^[A-Z]+$/ && $2 !~ /^(KUBE|CNI)/) {print "iptables " p " " $0}' || true
    done
  done
  if command -v ipset >/dev/null 2>&1; then ipset list -n 2>/dev/null | sed 's/^/ipset /' || true; fi
  if command -v nft >/dev/null 2>&1; then nft list tables 2>/dev/null | sed 's/^/nftables /' || true; fi
}

compare() {
  local before=$1 after=$2 added removed
  added=$(sort -u "$after" | comm -13 <(sort -u "$before") - || true)
  removed=$(sort -u "$before" | comm -23 - <(sort -u "$after") || true)
  if [ -n "$removed" ]; then
    echo "gone since the first list (not a failure):"
    echo "$removed" | sed 's/^/  /'
  fi
  if [ -n "$added" ]; then
    echo "error: left behind by the cluster (absent before it came up):" >&2
    echo "$added" | sed 's/^/  /' >&2
    exit 1
  fi
  echo "nothing left behind: $(sort -u "$after" | wc -l) entries, none new"
}

case ${1:-} in
  snapshot) [ -n "${2:-}" ] || { echo "usage: $0 snapshot FILE" >&2; exit 2; }; mkdir -p "$(dirname "$2")"; snapshot | sort -u >"$2" ;;
  compare) [ -n "${3:-}" ] || { echo "usage: $0 compare BEFORE AFTER" >&2; exit 2; }; compare "$2" "$3" ;;
  *) echo "usage: $0 snapshot FILE | compare BEFORE AFTER" >&2; exit 2 ;;
esac
