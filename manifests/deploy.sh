#!/usr/bin/env bash
# The platform in a Kubernetes cluster: `make deploy` and `make undeploy` run this script.
# Usage: manifests/deploy.sh deploy|undeploy|render
#   deploy    1 checks the tools  2 picks or creates the cluster  3 builds and pushes the images
#             4 compiles the pipeline pinned by digest  5 generates the overlay's secrets
#             6 installs Istio, Seldon Core and Kubeflow Pipelines (pinned in manifests/versions.env)
#             7 applies our overlay  8 waits for readiness  9 uploads the pipeline and starts a run
#             10 prints how to open the dashboard
#   undeploy  deletes the kind cluster `deploy` created (and its registry), or else our namespace and
#             cluster-wide objects, leaving the shared installs in place
#   render    prints the overlay as it would be applied, images pinned from IMAGES_JSON (steps 5 and 7)
# Settings (environment or make variables):
#   OVERLAY       kind | minikube | staging | production (default: from the current kube context)
#   REGISTRY      registry the images are pushed to and pulled from (default localhost:5000)
#   IMAGES_JSON   digests of the pushed images (default build/images.json, written by `make push`)
#   SKIP_BUILD=1  deploy the images already in IMAGES_JSON instead of building and pushing
#   RUN_WAIT      seconds to follow the first run; a failed run then fails the deploy (default 0)
#   CLUSTER_NAME  name of the kind cluster to create (default flights-mlops)
set -euo pipefail
SCRIPT="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$0")/.."
# shellcheck source=versions.env
source manifests/versions.env

MANIFESTS=${MANIFESTS:-manifests}
WORK=${WORK:-build/deploy}
OVERLAY=${OVERLAY:-}
REGISTRY=${REGISTRY:-localhost:5000}
IMAGES_JSON=${IMAGES_JSON:-build/images.json}
SKIP_BUILD=${SKIP_BUILD:-0}
RUN_WAIT=${RUN_WAIT:-0}
CLUSTER_NAME=${CLUSTER_NAME:-flights-mlops}
REGISTRY_CONTAINER=${CLUSTER_NAME}-registry
PYTHON=${PYTHON:-.venv/bin/python}
MLOPS=${MLOPS:-.venv/bin/mlops}
KFP_MANIFESTS=github.com/kubeflow/pipelines/manifests/kustomize
ISTIO_CHARTS=https://istio-release.storage.googleapis.com/charts
SELDON_CHARTS=https://storage.googleapis.com/seldon-charts
PIPELINE_RUNNER=flights-mlops-pipeline-runner

step_number=0
step() { step_number=$((step_number + 1)); printf '\n==> %s. %s\n' "$step_number" "$1"; }
say() { printf '    %s\n' "$1"; }
fail() {
  printf '\nerror: %s\n' "$1" >&2
  [ -n "${2:-}" ] && printf 'what to do: %s\n' "$2" >&2
  exit 1
}
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 is not installed" "$2"; }
background_pids=()
cleanup() { for pid in "${background_pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

overlay_dir() { echo "$MANIFESTS/overlays/$OVERLAY"; }
overlay_namespace() { sed -n 's/^namespace: *//p' "$(overlay_dir)/kustomization.yaml"; }
env_value() { sed -n "s/^$2=//p" "$1"; }

check_overlay() {
  [ -f "$(overlay_dir)/kustomization.yaml" ] \
    || fail "no overlay named '$OVERLAY'" "use OVERLAY=kind, minikube, staging or production"
}

# --- 1. tools -----------------------------------------------------------------------------------
check_tools() {
  step "checking the tools"
  need kubectl "install kubectl ${KUBERNETES_VERSION} (https://kubernetes.io/docs/tasks/tools/)"
  need helm "install Helm 3 (https://helm.sh/docs/intro/install/); it installs Istio and Seldon Core"
  need docker "install Docker (https://docs.docker.com/engine/install/)"
  docker info >/dev/null 2>&1 || fail "Docker does not answer" "start the Docker daemon, then run make deploy again"
  [ -x "$MLOPS" ] || fail "the project's environment is missing ($MLOPS)" "run make env"
  say "kubectl, helm, docker and the mlops command are here"
}

# --- 2. cluster ---------------------------------------------------------------------------------
pick_cluster() {
  step "picking the cluster"
  local context
  context=$(kubectl config current-context 2>/dev/null || true)
  case "$OVERLAY:$context" in
    staging:* | production:*)
      [ -n "$context" ] || fail "OVERLAY=$OVERLAY needs a kube context" "point kubectl at the $OVERLAY cluster"
      say "deploying overlay $OVERLAY to context $context"
      ;;
    minikube:)
      fail "OVERLAY=minikube but no kube context is current" "start minikube (minikube start --memory 8g), then run make deploy again"
      ;;
    *:)
      need kind "install kind ${KIND_VERSION} (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)"
      OVERLAY=${OVERLAY:-kind}
      create_kind_cluster
      ;;
    *:kind-*)
      OVERLAY=${OVERLAY:-kind}
      CLUSTER_NAME=${context#kind-}
      REGISTRY_CONTAINER=${CLUSTER_NAME}-registry
      say "using the current context $context"
      connect_kind_registry
      ;;
    *:minikube)
      need minikube "install minikube, or switch to a kind context"
      OVERLAY=${OVERLAY:-minikube}
      say "using the current context minikube; enabling its registry addon"
      minikube addons enable registry >/dev/null || fail "minikube could not enable its registry addon" \
        "run 'minikube addons enable registry' and read its message"
      ;;
    *)
      fail "the current kube context '$context' is neither kind nor minikube" \
        "switch to a kind or minikube context, or run 'kubectl config unset current-context' so make deploy creates a kind cluster; for a shared cluster name the overlay: make deploy OVERLAY=staging REGISTRY=..."
      ;;
  esac
  check_overlay
}

start_registry() {
  if [ "$(docker inspect -f '{{.State.Running}}' "$REGISTRY_CONTAINER" 2>/dev/null || true)" = true ]; then
    say "registry $REGISTRY_CONTAINER is running on 127.0.0.1:5000"
    return
  fi
  say "starting registry $REGISTRY_CONTAINER ($REGISTRY_IMAGE) on 127.0.0.1:5000"
  docker rm -f "$REGISTRY_CONTAINER" >/dev/null 2>&1 || true
  docker run -d --restart=always -p 127.0.0.1:5000:5000 --name "$REGISTRY_CONTAINER" "$REGISTRY_IMAGE" >/dev/null \
    || fail "the registry container did not start" \
      "is something else listening on 127.0.0.1:5000? stop it (e.g. images/local-docker.sh stop) and run make deploy again"
}

create_kind_cluster() {
  start_registry
  if kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
    say "kind cluster $CLUSTER_NAME exists"
    kubectl config use-context "kind-$CLUSTER_NAME" >/dev/null
  else
    say "creating kind cluster $CLUSTER_NAME ($KIND_NODE_IMAGE)"
    kind create cluster --name "$CLUSTER_NAME" --image "$KIND_NODE_IMAGE" \
      --config "$MANIFESTS/kind/cluster.yaml" --wait 180s \
      || fail "kind could not create the cluster" \
        "read kind's message above; 'kind delete cluster --name $CLUSTER_NAME' clears a half-made one"
  fi
  connect_kind_registry
}

# The nodes pull localhost:5000/... from the registry container: containerd maps that name to it.
connect_kind_registry() {
  [ "$(docker inspect -f '{{.State.Running}}' "$REGISTRY_CONTAINER" 2>/dev/null || true)" = true ] || start_registry
  local node
  for node in $(kind get nodes --name "$CLUSTER_NAME"); do
    docker exec "$node" grep -q 'config_path = "/etc/containerd/certs.d"' /etc/containerd/config.toml \
      || fail "kind cluster $CLUSTER_NAME was created without the registry setting make deploy needs" \
        "delete it (kind delete cluster --name $CLUSTER_NAME) and run make deploy again, which creates one from $MANIFESTS/kind/cluster.yaml"
    docker exec "$node" mkdir -p /etc/containerd/certs.d/localhost:5000
    printf '[host."http://%s:5000"]\n' "$REGISTRY_CONTAINER" \
      | docker exec -i "$node" cp /dev/stdin /etc/containerd/certs.d/localhost:5000/hosts.toml
  done
  if [ "$(docker inspect -f '{{json .NetworkSettings.Networks.kind}}' "$REGISTRY_CONTAINER")" = null ]; then
    docker network connect kind "$REGISTRY_CONTAINER"
  fi
  kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-registry-hosting
  namespace: kube-public
data:
  localRegistryHosting.v1: |
    host: "localhost:5000"
EOF
  say "kind nodes pull localhost:5000/... from $REGISTRY_CONTAINER"
}

# --- 3. images ----------------------------------------------------------------------------------
push_images() {
  step "building and pushing the images to $REGISTRY"
  if [ "$SKIP_BUILD" = 1 ]; then
    say "SKIP_BUILD=1: deploying the images recorded in $IMAGES_JSON"
  else
    make images REGISTRY="$REGISTRY" \
      || fail "building the images failed" "read the build log named above; 'make images' alone repeats this step"
    if [ "$OVERLAY" = minikube ]; then
      # minikube's registry addon serves the nodes on localhost:5000; reach it from here the same way.
      kubectl -n kube-system port-forward svc/registry 5000:80 >/dev/null 2>&1 &
      background_pids+=($!)
      sleep 3
    fi
    make push REGISTRY="$REGISTRY" \
      || fail "pushing the images to $REGISTRY failed" "check that the registry answers (curl http://$REGISTRY/v2/) and run make deploy again"
  fi
  [ -s "$IMAGES_JSON" ] || fail "no image digests at $IMAGES_JSON" "run make push REGISTRY=$REGISTRY (or make deploy without SKIP_BUILD)"
  read_pins
  say "pipeline image $PIPELINE_PIN"
  say "serving image  $SERVING_PIN"
  say "features image $FEATURES_PIN"
}

read_pins() {
  local pins
  pins=$("$PYTHON" - "$IMAGES_JSON" <<'EOF'
import json, re, sys
document = json.load(open(sys.argv[1]))
for dependency_set in ("pipeline", "serving", "features"):
    pinned = str(document.get(dependency_set, {}).get("pinned", ""))
    if not re.fullmatch(r"[^@\s]+@sha256:[0-9a-f]{64}", pinned):
        sys.exit(f"{sys.argv[1]} has no digest for the {dependency_set} image")
    print(pinned)
EOF
) || fail "the image digests in $IMAGES_JSON are incomplete" "run make push REGISTRY=$REGISTRY again"
  PIPELINE_PIN=$(sed -n 1p <<<"$pins")
  SERVING_PIN=$(sed -n 2p <<<"$pins")
  FEATURES_PIN=$(sed -n 3p <<<"$pins")
}

# --- 4. compile ---------------------------------------------------------------------------------
compile_pipeline() {
  step "compiling the pipeline with its images pinned by digest"
  make compile || fail "compiling the pipeline failed" "run make compile and read its error"
  PACKAGE=build/pipelines/continuous-training.yaml
  "$PYTHON" - "$PACKAGE" <<'EOF' || fail "the compiled pipeline references images by tag" "run make push, then make compile (it pins from build/images.json)"
import sys, yaml
from pipelines.image_pins import unpinned_images
loose = unpinned_images(next(yaml.safe_load_all(open(sys.argv[1]))))
if loose:
    sys.exit("unpinned: " + ", ".join(loose))
EOF
  say "$PACKAGE: every step's image is pinned by digest"
}

# --- 5. secrets ---------------------------------------------------------------------------------
generate_secrets() {
  step "generating the secrets of overlay $OVERLAY (kept, git-ignored, in $(overlay_dir)/secrets)"
  local objects access secret
  objects="$(overlay_dir)/secrets/object-store.env"
  # A fresh checkout (a CI runner) deploying to a cluster that already has them takes them back.
  restore_secret_env metadata-store "$(overlay_dir)/secrets/metadata-store.env"
  restore_secret_env object-store "$objects"
  restore_secret_env feature-store "$(overlay_dir)/secrets/feature-store.env"
  if [ ! -s "$objects" ]; then
    # A cluster whose object store already has its own credentials keeps them.
    access=$(kubectl -n kubeflow get secret mlpipeline-minio-artifact -o jsonpath='{.data.accesskey}' 2>/dev/null | base64 -d || true)
    secret=$(kubectl -n kubeflow get secret mlpipeline-minio-artifact -o jsonpath='{.data.secretkey}' 2>/dev/null | base64 -d || true)
    if [ -n "$access" ] && [ "$access" != minio ]; then
      export OBJECT_STORE_ACCESS_KEY=$access OBJECT_STORE_SECRET_KEY=$secret
      say "adopting the object-store credentials the cluster already uses"
    fi
  fi
  "$MANIFESTS/generate-secrets.sh" "$(overlay_dir)" | sed 's/^/    /'
  say "secrets ready"
}

restore_secret_env() {
  local prefix=$1 file=$2 name
  [ -s "$file" ] && return 0
  name=$(kubectl -n "$(overlay_namespace)" get secrets --sort-by=.metadata.creationTimestamp -o name 2>/dev/null \
    | sed -n "s|^secret/\($prefix-[a-z0-9]\{10\}\)$|\1|p" | tail -n 1 || true)
  [ -n "$name" ] || return 0
  mkdir -p "$(dirname "$file")"
  (
    umask 077
    # shellcheck disable=SC2016  # a Go template, not shell
    kubectl -n "$(overlay_namespace)" get secret "$name" \
      -o go-template='{{range $key, $value := .data}}{{$key}}={{$value | base64decode}}{{"\n"}}{{end}}' >"$file"
  )
  say "restored $file from the cluster's Secret $name"
}

# --- 6. shared installs -------------------------------------------------------------------------
install_shared() {
  step "installing Istio $ISTIO_VERSION, Seldon Core $SELDON_CORE_VERSION and Kubeflow Pipelines $KFP_VERSION"
  local service_type=LoadBalancer
  case "$OVERLAY" in kind | minikube) service_type=ClusterIP ;; esac
  helm_install istio-base base "$ISTIO_CHARTS" "$ISTIO_VERSION" istio-system
  helm_install istiod istiod "$ISTIO_CHARTS" "$ISTIO_VERSION" istio-system
  helm_install istio-ingressgateway gateway "$ISTIO_CHARTS" "$ISTIO_VERSION" istio-system \
    --set "service.type=$service_type"
  helm_install seldon-core seldon-core-operator "$SELDON_CHARTS" "$SELDON_CORE_VERSION" seldon-system \
    --set istio.enabled=true --set istio.gateway=istio-system/seldon-gateway \
    --set ambassador.enabled=false --set usageMetrics.enabled=false

  say "Kubeflow Pipelines: cluster-scoped resources"
  kubectl apply -k "$KFP_MANIFESTS/cluster-scoped-resources?ref=$KFP_VERSION" >/dev/null \
    || fail "applying Kubeflow Pipelines' cluster-scoped resources failed" "check network access to GitHub and run make deploy again"
  kubectl wait --for condition=established --timeout=120s crd/applications.app.k8s.io >/dev/null
  say "Kubeflow Pipelines: the platform-agnostic install, with the object store's generated credentials"
  write_kfp_kustomization
  kubectl apply -k "$WORK/kubeflow-pipelines" >/dev/null \
    || fail "applying Kubeflow Pipelines failed" "read kubectl's message; run make deploy again once it is fixed"

  say "our cluster-wide objects ($MANIFESTS/platform)"
  kubectl apply -k "$MANIFESTS/platform" >/dev/null \
    || fail "applying $MANIFESTS/platform failed" "the Istio CRDs must exist: check 'helm -n istio-system status istio-base'"
}

helm_install() {
  local release=$1 chart=$2 repo=$3 version=$4 namespace=$5
  shift 5
  say "helm: $release ($chart $version) in $namespace"
  helm upgrade --install "$release" "$chart" --repo "$repo" --version "$version" \
    --namespace "$namespace" --create-namespace --wait --timeout 10m "$@" >/dev/null \
    || fail "installing $release failed" "see 'helm -n $namespace status $release' and 'kubectl -n $namespace get pods'; then run make deploy again"
}

write_kfp_kustomization() {
  local objects
  objects="$(overlay_dir)/secrets/object-store.env"
  mkdir -p "$WORK/kubeflow-pipelines"
  (
    umask 077
    cat >"$WORK/kubeflow-pipelines/kustomization.yaml" <<EOF
# Written by manifests/deploy.sh: the upstream install at the pinned version, with our object-store credentials.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $KFP_MANIFESTS/env/platform-agnostic?ref=$KFP_VERSION
patches:
  - path: object-store-credentials.yaml
EOF
    cat >"$WORK/kubeflow-pipelines/object-store-credentials.yaml" <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: mlpipeline-minio-artifact
  namespace: kubeflow
stringData:
  accesskey: "$(env_value "$objects" AWS_ACCESS_KEY_ID)"
  secretkey: "$(env_value "$objects" AWS_SECRET_ACCESS_KEY)"
EOF
  )
}

# --- 7. our overlay -----------------------------------------------------------------------------
write_overlay_kustomization() {
  local target="$WORK/$OVERLAY"
  mkdir -p "$target"
  local relative
  relative=$(realpath --relative-to="$target" "$(overlay_dir)")
  cat >"$target/kustomization.yaml" <<EOF
# Written by manifests/deploy.sh: overlay $OVERLAY with our images pinned by the digests just pushed.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $relative
images:
  - name: $(overlay_image_name flights-mlops-pipeline)
    newName: ${PIPELINE_PIN%@*}
    digest: ${PIPELINE_PIN#*@}
  - name: $(overlay_image_name flights-mlops-serving)
    newName: ${SERVING_PIN%@*}
    digest: ${SERVING_PIN#*@}
  - name: $(overlay_image_name flights-mlops-features)
    newName: ${FEATURES_PIN%@*}
    digest: ${FEATURES_PIN#*@}
EOF
}

# The name an image has once the overlay has set it: what this kustomization must match to re-pin it.
overlay_image_name() {
  "$PYTHON" - "$(overlay_dir)/kustomization.yaml" "$1" <<'EOF'
import sys, yaml
images = yaml.safe_load(open(sys.argv[1])).get("images", [])
print(next((image.get("newName", image["name"]) for image in images if image["name"] == sys.argv[2]), sys.argv[2]))
EOF
}

apply_overlay() {
  step "applying overlay $OVERLAY (namespace $(overlay_namespace))"
  write_overlay_kustomization
  kubectl apply -k "$WORK/$OVERLAY" | sed 's/^/    /' \
    || fail "applying the overlay failed" "kubectl kustomize $WORK/$OVERLAY shows what was sent; make manifests-check validates it offline"
}

# --- 8. readiness -------------------------------------------------------------------------------
wait_ready() {
  step "waiting for everything to be ready (first start pulls many images: up to 15 minutes)"
  local namespace
  namespace=$(overlay_namespace)
  wait_deployments kubeflow 15m
  wait_deployments seldon-system 5m
  wait_deployments istio-system 5m
  wait_deployments "$namespace" 10m
  load_online_store "$namespace"
}

load_online_store() {
  # The hourly CronJob would leave Redis empty (transformers serving defaults) until its first :15.
  say "loading the feature store's online side now (a Job from the feature-materialization CronJob)"
  kubectl -n "$1" delete job feature-materialization-first --ignore-not-found >/dev/null
  kubectl -n "$1" create job feature-materialization-first --from=cronjob/feature-materialization >/dev/null \
    && kubectl -n "$1" wait --for=condition=complete job/feature-materialization-first --timeout=10m >/dev/null \
    || fail "the first feature materialisation did not complete" \
      "see 'kubectl -n $1 logs job/feature-materialization-first --all-containers' (Redis password and image pulls are the usual causes)"
}

wait_deployments() {
  say "deployments in $1"
  kubectl -n "$1" wait --for=condition=Available deployment --all --timeout="$2" >/dev/null \
    || fail "deployments in namespace $1 are not ready after $2" \
      "see 'kubectl -n $1 get pods' and 'kubectl -n $1 describe pod POD' (image pulls and memory are the usual causes); run make deploy again to resume"
}

# --- 9. upload and run --------------------------------------------------------------------------
upload_and_run() {
  step "uploading the pipeline and starting a run"
  local port uri experiment
  port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  kubectl -n kubeflow port-forward svc/ml-pipeline "$port:8888" >"$WORK/port-forward.log" 2>&1 &
  background_pids+=($!)
  # The forward takes a moment to listen; mlops then checks the API itself and says what is wrong.
  "$PYTHON" - "$port" <<'EOF' || true
import socket, sys, time
for _ in range(30):
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0:
            break
    time.sleep(1)
EOF
  uri=$(env_value "$(overlay_dir)/secrets/metadata-store.env" MLOPS_METADATA_URI)
  case "$OVERLAY" in staging | production) experiment=flights-mlops-$OVERLAY ;; *) experiment=flights-mlops ;; esac
  MLOPS_METADATA_URI=$uri "$MLOPS" deploy upload-and-run --host "http://127.0.0.1:$port" \
    --package "$PACKAGE" --experiment "$experiment" --service-account "$PIPELINE_RUNNER" \
    --wait "$RUN_WAIT" --json >"$WORK/last-run.json" \
    || fail "the run did not start or did not succeed (details above; the run's record: $WORK/last-run.json)" \
      "open the dashboard (below) to see the failed step's logs; 'make deploy SKIP_BUILD=1' retries without rebuilding"
  say "run: $(tr -d '\n' <"$WORK/last-run.json")"
}

# --- 10. dashboard ------------------------------------------------------------------------------
print_dashboard() {
  step "done"
  cat <<EOF
    Kubeflow Pipelines dashboard:
      kubectl -n kubeflow port-forward svc/ml-pipeline-ui 8080:80
      then open http://127.0.0.1:8080 (experiment of the run: see $WORK/last-run.json)
    Model traffic goes through the Istio gateway:
      kubectl -n istio-system port-forward svc/istio-ingressgateway 8081:80
EOF
}

deploy() {
  check_tools
  pick_cluster
  mkdir -p "$WORK"
  if [ "$OVERLAY" = production ] && [ "$SKIP_BUILD" != 1 ]; then
    fail "production deploys only images that staging ran" "make deploy OVERLAY=production SKIP_BUILD=1 IMAGES_JSON=<the images.json staging deployed> REGISTRY=..."
  fi
  push_images
  compile_pipeline
  generate_secrets
  install_shared
  apply_overlay
  wait_ready
  upload_and_run
  print_dashboard
}

undeploy() {
  need kubectl "install kubectl ${KUBERNETES_VERSION}"
  local context
  context=$(kubectl config current-context 2>/dev/null || true)
  if [ "$context" = "kind-$CLUSTER_NAME" ] && [ -z "$OVERLAY" ]; then
    step "deleting the kind cluster $CLUSTER_NAME and its registry"
    kind delete cluster --name "$CLUSTER_NAME"
    docker rm -f "$REGISTRY_CONTAINER" >/dev/null 2>&1 || true
    say "gone; the overlay's generated secrets stay in $MANIFESTS/overlays/kind/secrets (delete them to start afresh)"
    return
  fi
  [ -n "$context" ] || fail "no current kube context" "point kubectl at the cluster to clean"
  case "$context" in minikube) OVERLAY=${OVERLAY:-minikube} ;; *) OVERLAY=${OVERLAY:-kind} ;; esac
  check_overlay
  step "deleting namespace $(overlay_namespace) and our cluster-wide objects from context $context"
  kubectl delete namespace "$(overlay_namespace)" --ignore-not-found
  kubectl delete -k "$MANIFESTS/platform" --ignore-not-found
  cat <<EOF
    The shared installs stay (other namespaces may use them). To remove them too:
      kubectl delete -k "$KFP_MANIFESTS/env/platform-agnostic?ref=$KFP_VERSION"
      kubectl delete -k "$KFP_MANIFESTS/cluster-scoped-resources?ref=$KFP_VERSION"
      helm -n seldon-system uninstall seldon-core
      helm -n istio-system uninstall istio-ingressgateway istiod istio-base
EOF
}

render() {
  OVERLAY=${OVERLAY:-${1:-}}
  [ -n "$OVERLAY" ] || fail "render needs an overlay" "$0 render kind (or OVERLAY=kind)"
  check_overlay
  need kubectl "install kubectl ${KUBERNETES_VERSION} (it bundles kustomize)"
  read_pins
  "$MANIFESTS/generate-secrets.sh" "$(overlay_dir)" >&2
  write_overlay_kustomization
  kubectl kustomize "$WORK/$OVERLAY"
}

case "${1:-}" in
  deploy) deploy ;;
  undeploy) undeploy ;;
  render) render "${2:-}" ;;
  *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$SCRIPT"; exit 2 ;;
esac
