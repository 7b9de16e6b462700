#!/usr/bin/env bash
# A single-node Kubernetes on this machine, run as host processes (no node container, so no privileged
# container is needed): etcd, kube-apiserver, kube-controller-manager, kube-scheduler, containerd + runc,
# kubelet, kube-proxy (iptables), kube-router's network-policy controller, and CoreDNS as a pod.
# Usage: cluster/cluster.sh up|down|env|status
#   up      build or reuse the programs (cluster/build.sh), start whatever is not running, wait until the
#           node is Ready and DNS answers; prints the kubeconfig. Running it again changes nothing.
#   down    stop everything `up` started, remove pods, mounts, the bridge, veths, network namespaces,
#           iptables rules/chains and ipsets the cluster created, and the cluster's state (certificates, etcd).
#   env     print `export KUBECONFIG=...` (and the registry) for the running cluster
#   status  list the cluster's processes and nodes
#   push-image IMAGE  push a local Docker image to the registry and print it by digest (what pods should use)
# Needs root, and the registry on 127.0.0.1:5000 (`make docker-up`): images reach the cluster through it.
# Addresses: the API server and kubelet listen on the bridge this script creates (10.244.0.1); every other
# port is on 127.0.0.1. Runtime logs go to build/cluster-logs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# shellcheck source=cluster/versions.env
. cluster/versions.env

state=$root/build/cluster
logs=$root/build/cluster-logs
# Sockets and runtime state: a short path on tmpfs (unix socket paths are limited to 108 bytes).
run=/run/flights-mlops-cluster
cache=${CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flights-mlops/cluster}
registry=${CLUSTER_REGISTRY:-127.0.0.1:5000}

node=mlops-node
bridge=mlops0
node_ip=10.244.0.1
pod_cidr=10.244.0.0/24
cluster_cidr=10.244.0.0/16
service_cidr=10.96.0.0/16
api_service_ip=10.96.0.1
dns_ip=10.96.0.10
etcd_port=23790
api="https://$node_ip:6443"
# Fixed upstream: kubelet's links to container logs, libcni's cache of results (files named after the network).
fixed_dirs="/var/log/containers /var/lib/cni"
programs="etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy kube-router"

need() {
  local cmd=$1 pkg=$2
  command -v "$cmd" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing $pkg (apt)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
  else
    echo "error: $cmd is missing; install it (Debian/Ubuntu: sudo apt-get install $pkg)" >&2
    exit 1
  fi
}

log() { printf '[cluster %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

wait_for() {
  local what=$1 tries=$2; shift 2
  for _ in $(seq 1 "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  echo "error: $what did not become ready in ${tries}s; see $logs" >&2
  exit 1
}

load_bins() {
  [ -f "$cache/bin/current.env" ] || { echo "error: run cluster/build.sh first" >&2; exit 1; }
  # shellcheck disable=SC1091
  while IFS='=' read -r k v; do
    case $k in
      kubernetes) K8S=$v ;; etcd) ETCD=$v ;; containerd) CTD=$v ;; runc) RUNC=$v ;;
      cni-plugins) CNI=$v ;; coredns) COREDNS=$v ;; kube-router) KR=$v ;; pause) PAUSE=$v ;;
      PAUSE_VERSION) PAUSE_VERSION=$v ;;
    esac
  done <"$cache/bin/current.env"
  export PATH=$CTD:$RUNC:$PATH
}

running() { [ -f "$state/pids/$1.pid" ] && kill -0 "$(cat "$state/pids/$1.pid")" 2>/dev/null; }

# launch NAME COMMAND...: start a host process in its own session unless it already runs.
launch() {
  local name=$1; shift
  if running "$name"; then log "$name already running (pid $(cat "$state/pids/$name.pid"))"; return 0; fi
  setsid "$@" >>"$logs/$name.log" 2>&1 </dev/null &
  echo $! >"$state/pids/$name.pid"
  log "started $name (pid $!, log build/cluster-logs/$name.log)"
}

kc() { kubectl --kubeconfig "$state/admin.kubeconfig" "$@"; }

# ---------------------------------------------------------------- certificates and kubeconfigs
cert() { # cert NAME CN [O] [SANS]: a key and a certificate signed by the cluster's CA
  local name=$1 cn=$2 o=${3:-} sans=${4:-} subj
  [ -f "$state/pki/$name.crt" ] && return 0
  subj="/CN=$cn"; [ -n "$o" ] && subj="/O=$o$subj"
  openssl genrsa -out "$state/pki/$name.key" 2048 2>/dev/null
  openssl req -new -key "$state/pki/$name.key" -subj "$subj" -out "$state/pki/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [ -n "$sans" ]; then echo "extendedKeyUsage=serverAuth,clientAuth"; echo "subjectAltName=$sans"
    else echo "extendedKeyUsage=clientAuth"; fi
  } >"$state/pki/$name.ext"
  openssl x509 -req -in "$state/pki/$name.csr" -CA "$state/pki/ca.crt" -CAkey "$state/pki/ca.key" \
    -CAcreateserial -days 365 -sha256 -extfile "$state/pki/$name.ext" -out "$state/pki/$name.crt" 2>/dev/null
  rm -f "$state/pki/$name.csr" "$state/pki/$name.ext"
}

kubeconfig() { # kubeconfig NAME: build/cluster/NAME.kubeconfig from pki/NAME.{crt,key}
  local name=$1
  cat >"$state/$name.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: flights-mlops
  cluster:
    server: $api
    certificate-authority-data: $(base64 -w0 "$state/pki/ca.crt")
users:
- name: $name
  user:
    client-certificate-data: $(base64 -w0 "$state/pki/$name.crt")
    client-key-data: $(base64 -w0 "$state/pki/$name.key")
contexts:
- name: flights-mlops
  context: {cluster: flights-mlops, user: $name}
current-context: flights-mlops
EOF
  chmod 600 "$state/$name.kubeconfig"
}

make_pki() {
  mkdir -p "$state/pki"
  if [ ! -f "$state/pki/ca.crt" ]; then
    openssl genrsa -out "$state/pki/ca.key" 2048 2>/dev/null
    openssl req -x509 -new -key "$state/pki/ca.key" -subj "/CN=flights-mlops-cluster-ca" -days 365 \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
      -out "$state/pki/ca.crt" 2>/dev/null
    log "generated the cluster's certificate authority"
  fi
  [ -f "$state/pki/sa.key" ] || { openssl genrsa -out "$state/pki/sa.key" 2048 2>/dev/null
    openssl rsa -in "$state/pki/sa.key" -pubout -out "$state/pki/sa.pub" 2>/dev/null; }
  cert apiserver kube-apiserver "" "IP:$node_ip,IP:127.0.0.1,IP:$api_service_ip,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
  cert kubelet-serving "system:node:$node" system:nodes "IP:$node_ip,DNS:$node,DNS:localhost"
  cert admin flights-mlops-admin system:masters
  cert controller-manager system:kube-controller-manager
  cert scheduler system:kube-scheduler
  cert kubelet "system:node:$node" system:nodes
  cert kube-proxy system:kube-proxy
  cert kube-router flights-mlops:kube-router
  for name in admin controller-manager scheduler kubelet kube-proxy kube-router; do
    [ -f "$state/$name.kubeconfig" ] || kubeconfig "$name"
  done
  rm -f "$state/pki/ca.srl"
}

# ---------------------------------------------------------------- images through the local registry
registry_digest() { # registry_digest REPO TAG: the manifest digest the registry holds, or nothing
  curl -fsS -o /dev/null -D - -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://$registry/v2/$1/manifests/$2" 2>/dev/null | tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" {print $2}'
}

# push_program REPO TAG DIR ENTRYPOINT: a minimal image holding one static program, pushed unless the
# registry has it already; prints the reference by digest.
push_program() {
  local repo=$1 tag=$2 dir=$3 entry=$4 digest
  digest=$(registry_digest "$repo" "$tag")
  if [ -z "$digest" ]; then
    tar -C "$dir" --owner=0 --group=0 -c . |
      docker import --change "ENTRYPOINT [\"/$entry\"]" --change "USER 65532" - "$registry/$repo:$tag" >/dev/null
    docker push -q "$registry/$repo:$tag" >/dev/null
    digest=$(registry_digest "$repo" "$tag")
    log "pushed $registry/$repo:$tag ($digest)" >&2
  fi
  [ -n "$digest" ] || { echo "error: the registry has no digest for $repo:$tag" >&2; exit 1; }
  echo "$registry/$repo@$digest"
}

# ---------------------------------------------------------------- snapshot of netfilter state
# What the host had before `up`, so `down` removes exactly what the cluster added.
iptables_cmds() {
  local c
  for c in iptables-nft ip6tables-nft iptables-legacy ip6tables-legacy; do
    command -v "$c" >/dev/null 2>&1 && "$c" -S >/dev/null 2>&1 && echo "$c"
  done
  return 0
}

save_host_state() {
  [ -f "$state/host-before/saved" ] && return 0
  mkdir -p "$state/host-before"
  local c t
  for c in $(iptables_cmds); do
    for t in filter nat mangle raw; do "$c" -t "$t" -S 2>/dev/null >"$state/host-before/$c.$t" || true; done
  done
  ipset list -n 2>/dev/null | sort >"$state/host-before/ipsets" || true
  (ls /var/run/netns 2>/dev/null || true) | sort >"$state/host-before/netns"
  # The host-path provisioner's folder is fixed upstream (/tmp/hostpath_pv): removed by down if new.
  [ -e /tmp/hostpath_pv ] && touch "$state/host-before/hostpath_pv"
  # Folders kubelet and libcni use whatever they are told: removed by down if new, else only our entries.
  for d in $fixed_dirs; do [ -e "$d" ] && echo "$d"; done >"$state/host-before/dirs"
  for s in net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables; do
    echo "$s=$(sysctl -n "$s")"
  done >"$state/host-before/sysctl"
  touch "$state/host-before/saved"
}

# ---------------------------------------------------------------- up
# put FILE: stdin into FILE unless it holds that already (kube-proxy exits when its file is rewritten).
put() {
  cat >"$1.new"
  if cmp -s "$1.new" "$1"; then rm -f "$1.new"; else mv "$1.new" "$1"; fi
}

write_configs() {
  mkdir -p "$state/cni" "$state/containerd/certs.d/$registry" "$state/kubelet" "$run"
  put "$state/cni/10-mlops.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "mlops",
  "plugins": [
    {"type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$run/cni-ipam",
              "ranges": [[{"subnet": "$pod_cidr", "gateway": "$node_ip"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  # Images come from the loopback registry over plain HTTP.
  put "$state/containerd/certs.d/$registry/hosts.toml" <<EOF
server = "http://$registry"
[host."http://$registry"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
EOF
  put "$state/containerd/config.toml" <<EOF
version = 3
root = "$state/containerd/root"
state = "$run/containerd"
disabled_plugins = ["io.containerd.nri.v1.nri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.blockfile", "io.containerd.snapshotter.v1.erofs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$run/containerd.sock"
[ttrpc]
  address = "$run/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$state/containerd/opt"
[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "$PAUSE_IMAGE"
  [plugins."io.containerd.cri.v1.images".registry]
    config_path = "$state/containerd/certs.d"
[plugins."io.containerd.cri.v1.runtime"]
  # Root lacks CAP_SYS_RESOURCE here: negative oom_score_adj values are raised to the process's own.
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "$RUNC/runc"
        Root = "$run/runc"
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["$CNI"]
    conf_dir = "$state/cni"
[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
EOF
  put "$state/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $node_ip
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $state/pki/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $state/pki/kubelet-serving.crt
tlsPrivateKeyFile: $state/pki/kubelet-serving.key
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$run/containerd.sock
clusterDNS: [$dns_ip]
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
podLogsDir: $state/pod-logs
volumePluginDir: $state/kubelet-plugins
serializeImagePulls: false
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%}
imageGCHighThresholdPercent: 95
imageGCLowThresholdPercent: 90
maxPods: 110
EOF
  put "$state/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $state/kube-proxy.kubeconfig}
hostnameOverride: $node
mode: iptables
clusterCIDR: $cluster_cidr
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["$node_ip/32"]
iptables: {localhostNodePorts: false}
# Leave the host's conntrack settings alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
}

addons() {
  cat <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/host-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "flights-mlops:kube-router"}
rules:
- apiGroups: [""]
  resources: [namespaces, pods, services, nodes, endpoints]
  verbs: [get, list, watch]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [get, list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "flights-mlops:kube-router"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "flights-mlops:kube-router"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "flights-mlops:kube-router"}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: coredns, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects: [{kind: ServiceAccount, name: coredns, namespace: kube-system}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  Corefile: |
    .:5353 {
        errors
        health :8080
        ready :8181
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
        }
        forward . /etc/resolv.conf
        cache 30
        loop
        reload
        loadbalance
    }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
  labels: {k8s-app: kube-dns}
spec:
  replicas: 1
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      serviceAccountName: coredns
      priorityClassName: system-cluster-critical
      dnsPolicy: Default
      securityContext: {runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532}
      containers:
      - name: coredns
        image: $COREDNS_IMAGE
        args: [-conf, /etc/coredns/Corefile]
        ports:
        - {name: dns, containerPort: 5353, protocol: UDP}
        - {name: dns-tcp, containerPort: 5353, protocol: TCP}
        resources:
          requests: {cpu: 50m, memory: 70Mi}
          limits: {memory: 170Mi}
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
        volumeMounts: [{name: config, mountPath: /etc/coredns, readOnly: true}]
        livenessProbe: {httpGet: {path: /health, port: 8080}, initialDelaySeconds: 10}
        readinessProbe: {httpGet: {path: /ready, port: 8181}}
      volumes: [{name: config, configMap: {name: coredns}}]
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns}
spec:
  clusterIP: $dns_ip
  selector: {k8s-app: kube-dns}
  ports:
  - {name: dns, port: 53, targetPort: 5353, protocol: UDP}
  - {name: dns-tcp, port: 53, targetPort: 5353, protocol: TCP}
EOF
}

up() {
  [ "$(id -u)" = 0 ] || { echo "error: the cluster runs host processes that need root" >&2; exit 1; }
  local start=$SECONDS
  need openssl openssl
  need iptables iptables
  need ipset ipset
  need conntrack conntrack
  need ip iproute2
  need curl curl
  command -v kubectl >/dev/null || { echo "error: kubectl is missing (Debian bookworm does not package it); install kubectl" >&2; exit 1; }
  need docker docker.io
  cluster/build.sh
  load_bins
  if ! curl -fsS "http://$registry/v2/" >/dev/null 2>&1; then
    echo "error: no registry answers on $registry; run \`make docker-up\` first" >&2
    exit 1
  fi
  mkdir -p "$state/pids" "$logs" "$run"
  save_host_state
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
  if ! ip link show "$bridge" >/dev/null 2>&1; then
    ip link add "$bridge" type bridge
    ip addr add "$node_ip/24" dev "$bridge"
    log "created bridge $bridge ($node_ip/24)"
  fi
  ip link set "$bridge" up
  make_pki

  PAUSE_IMAGE=$(push_program flights-mlops/pause "$PAUSE_VERSION" "$PAUSE" pause)
  COREDNS_IMAGE=$(push_program flights-mlops/coredns "$COREDNS_VERSION" "$COREDNS" coredns)
  write_configs

  launch etcd "$ETCD/etcd" --name "$node" --data-dir "$state/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$((etcd_port + 10))" --initial-advertise-peer-urls "http://127.0.0.1:$((etcd_port + 10))" \
    --initial-cluster "$node=http://127.0.0.1:$((etcd_port + 10))" --listen-metrics-urls "" \
    --quota-backend-bytes 2147483648 --log-level warn
  wait_for etcd 30 curl -fsS "http://127.0.0.1:$etcd_port/health"

  launch kube-apiserver "$K8S/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address "$node_ip" --advertise-address "$node_ip" --secure-port 6443 \
    --service-cluster-ip-range "$service_cidr" --service-node-port-range 30000-32767 \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --client-ca-file "$state/pki/ca.crt" \
    --tls-cert-file "$state/pki/apiserver.crt" --tls-private-key-file "$state/pki/apiserver.key" \
    --kubelet-client-certificate "$state/pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$state/pki/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$state/pki/ca.crt" --kubelet-preferred-address-types InternalIP \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$state/pki/sa.pub" --service-account-signing-key-file "$state/pki/sa.key" \
    --allow-privileged=true --profiling=false --v 1
  wait_for kube-apiserver 90 kc get --raw /readyz

  launch kube-controller-manager "$K8S/kube-controller-manager" --kubeconfig "$state/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$state/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$state/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
    --cluster-signing-cert-file "$state/pki/ca.crt" --cluster-signing-key-file "$state/pki/ca.key" \
    --root-ca-file "$state/pki/ca.crt" --service-account-private-key-file "$state/pki/sa.key" \
    --allocate-node-cidrs=true --cluster-cidr "$cluster_cidr" --node-cidr-mask-size 24 \
    --service-cluster-ip-range "$service_cidr" --enable-hostpath-provisioner=true --profiling=false --v 1
  launch kube-scheduler "$K8S/kube-scheduler" --kubeconfig "$state/scheduler.kubeconfig" \
    --authentication-kubeconfig "$state/scheduler.kubeconfig" --authorization-kubeconfig "$state/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false --profiling=false --v 1

  launch containerd "$CTD/containerd" --config "$state/containerd/config.toml"
  wait_for containerd 30 "$CTD/ctr" --address "$run/containerd.sock" version

  launch kubelet "$K8S/kubelet" --config "$state/kubelet/config.yaml" --kubeconfig "$state/kubelet.kubeconfig" \
    --root-dir "$state/kubelet" --cert-dir "$state/kubelet/pki" --hostname-override "$node" --node-ip "$node_ip" --v 1
  wait_for "the node $node" 90 kc get node "$node"
  launch kube-proxy "$K8S/kube-proxy" --config "$state/kube-proxy.yaml"
  launch kube-router "$KR/kube-router" --kubeconfig "$state/kube-router.kubeconfig" --hostname-override "$node" \
    --run-firewall=true --run-router=false --run-service-proxy=false \
    --service-cluster-ip-range "$service_cidr" --health-port 0 --metrics-port 0 --v 1

  addons | kc apply -f - >/dev/null
  wait_for "the node $node (Ready)" 120 kc wait --for condition=Ready "node/$node" --timeout 1s
  if ! kc -n kube-system rollout status deployment/coredns --timeout 180s >/dev/null; then
    echo "error: CoreDNS did not become available; see kubectl -n kube-system describe pod" >&2
    exit 1
  fi
  local name
  for name in $programs; do
    running "$name" || { echo "error: $name stopped; see build/cluster-logs/$name.log" >&2; exit 1; }
  done
  log "cluster is up in $((SECONDS - start))s; kubeconfig: $state/admin.kubeconfig"
  echo "export KUBECONFIG=$state/admin.kubeconfig"
}

# ---------------------------------------------------------------- down
stop() { # stop NAME: end a process that `up` started (TERM, then KILL after 20 s)
  local name=$1 pid
  [ -f "$state/pids/$name.pid" ] || return 0
  pid=$(cat "$state/pids/$name.pid")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    log "stopped $name"
  fi
  rm -f "$state/pids/$name.pid"
}

# Rules the cluster added to the host's chains, and chains and ipsets it created, are removed; what the
# host had before `up` (saved in build/cluster/host-before) stays.
clean_netfilter() {
  local c t before new rule chain
  for c in $(iptables_cmds); do
    for t in filter nat mangle raw; do
      before=$state/host-before/$c.$t
      [ -f "$before" ] || before=/dev/null
      "$c" -t "$t" -S 2>/dev/null >"$state/now.rules" || continue
      # Rules added to chains: deleted one by one (the chain's own -N/-P lines are kept for later).
      { grep '^-A ' "$state/now.rules" | grep -vxFf "$before" || true; } | while IFS= read -r rule; do
        eval "\"$c\" -t $t -D ${rule#-A }" 2>/dev/null || true
      done
      new=$(grep '^-N ' "$state/now.rules" | grep -vxFf "$before" | awk '{print $2}' || true)
      for chain in $new; do "$c" -t "$t" -F "$chain" 2>/dev/null || true; done
      for chain in $new; do "$c" -t "$t" -X "$chain" 2>/dev/null || true; done
    done
  done
  rm -f "$state/now.rules"
  if command -v ipset >/dev/null; then
    for set in $(ipset list -n 2>/dev/null | grep -vxFf "$state/host-before/ipsets" || true); do
      ipset destroy "$set" 2>/dev/null || true
    done
  fi
}

down() {
  [ "$(id -u)" = 0 ] || { echo "error: needs root" >&2; exit 1; }
  [ -d "$state" ] || [ -d "$run" ] || { log "no cluster state; nothing to do"; return 0; }
  load_bins
  mkdir -p "$state/pids"
  # No new pods: stop the controllers and scheduler, then have kubelet stop every pod (CNI teardown).
  stop kube-controller-manager
  stop kube-scheduler
  if running kube-apiserver && running kubelet && running containerd; then
    kc delete pods --all --all-namespaces --force --grace-period=0 --wait=false >/dev/null 2>&1 || true
    for _ in $(seq 1 60); do
      [ -z "$("$CTD/ctr" --address "$run/containerd.sock" -n k8s.io tasks ls -q 2>/dev/null)" ] && break
      sleep 1
    done
  fi
  stop kubelet
  stop kube-router
  stop kube-proxy
  # Whatever kubelet did not stop: kill the tasks and delete the containers and sandboxes.
  if running containerd; then
    local ctr=("$CTD/ctr" --address "$run/containerd.sock" -n k8s.io) id
    for id in $("${ctr[@]}" tasks ls -q 2>/dev/null); do "${ctr[@]}" tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
    sleep 1
    for id in $("${ctr[@]}" tasks ls -q 2>/dev/null); do "${ctr[@]}" tasks delete -f "$id" >/dev/null 2>&1 || true; done
    for id in $("${ctr[@]}" containers ls -q 2>/dev/null); do "${ctr[@]}" containers delete "$id" >/dev/null 2>&1 || true; done
  fi
  stop containerd
  stop kube-apiserver
  stop etcd
  # Shims of this containerd that outlived it.
  local pid exe
  for pid in $(pgrep -f "$CTD/containerd-shim-runc-v2" || true); do kill -9 "$pid" 2>/dev/null || true; done
  for pid in /proc/[0-9]*; do
    exe=$(readlink "$pid/exe" 2>/dev/null || true)
    case $exe in "$CTD"/*|"$K8S"/*|"$ETCD"/*|"$KR"/*) kill -9 "${pid#/proc/}" 2>/dev/null || true ;; esac
  done
  # Pod processes left in the kubepods cgroups (none if the tasks were deleted).
  for pid in $(grep -l kubepods /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3 || true); do kill -9 "$pid" 2>/dev/null || true; done
  # Mounts under the cluster's folders and the network namespaces it made, deepest first.
  { awk '{print $5}' /proc/self/mountinfo | grep -E "^($state|$run)/" || true; } | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  if [ -d /var/run/netns ]; then
    for ns in $(ls /var/run/netns | grep -vxFf "$state/host-before/netns" 2>/dev/null || true); do
      case $ns in cni-*) umount -l "/var/run/netns/$ns" 2>/dev/null || true; rm -f "/var/run/netns/$ns" ;; esac
    done
  fi
  if ip link show "$bridge" >/dev/null 2>&1; then
    for dev in $(ip -o link show master "$bridge" | awk -F': ' '{print $2}' | cut -d@ -f1); do ip link del "$dev" 2>/dev/null || true; done
    ip link del "$bridge"
    log "removed bridge $bridge"
  fi
  [ -f "$state/host-before/saved" ] && clean_netfilter
  if [ -f "$state/host-before/sysctl" ]; then
    while IFS='=' read -r k v; do sysctl -qw "$k=$v" || true; done <"$state/host-before/sysctl"
  fi
  # The kubepods cgroups kubelet created (cgroup v1: one tree per controller), deepest first.
  for ctl in /sys/fs/cgroup/*/; do
    [ -d "$ctl/kubepods" ] || [ -d "$ctl/kubepods.slice" ] || continue
    find "$ctl/kubepods" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  if [ -f "$state/host-before/saved" ]; then
    [ -f "$state/host-before/hostpath_pv" ] || rm -rf /tmp/hostpath_pv
    for d in $fixed_dirs; do
      if grep -qxF "$d" "$state/host-before/dirs"; then
        find "$d" -maxdepth 2 \( -lname "$state/*" -o -name 'mlops-*' \) -delete 2>/dev/null || true
      else
        rm -rf "$d"
      fi
    done
  fi
  rm -rf "$run"
  rm -rf "$state"
  log "cluster is down (logs kept in build/cluster-logs)"
}

status() {
  local name
  for name in $programs; do
    if running "$name"; then echo "$name: running (pid $(cat "$state/pids/$name.pid"))"; else echo "$name: not running"; fi
  done
  running kube-apiserver && kc get nodes -o wide
  return 0
}

case ${1:-} in
  up) up ;;
  down) down ;;
  env)
    [ -f "$state/admin.kubeconfig" ] || { echo "error: no cluster; run \`make cluster-up\`" >&2; exit 1; }
    echo "export KUBECONFIG=$state/admin.kubeconfig"
    echo "export CLUSTER_REGISTRY=$registry" ;;
  status) status ;;
  push-image)
    [ -n "${2:-}" ] || { echo "usage: $0 push-image IMAGE" >&2; exit 2; }
    name=${2##*/}; repo=flights-mlops/${name%%:*}; tag=${name#*:}; [ "$tag" = "$name" ] && tag=latest
    docker tag "$2" "$registry/$repo:$tag"
    docker push -q "$registry/$repo:$tag" >/dev/null
    digest=$(registry_digest "$repo" "$tag")
    [ -n "$digest" ] || { echo "error: the registry has no digest for $repo:$tag" >&2; exit 1; }
    echo "$registry/$repo@$digest" ;;
  *) echo "usage: $0 up|down|env|status|push-image IMAGE" >&2; exit 2 ;;
esac
