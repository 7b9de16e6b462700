#!/usr/bin/env bash
# Builds the image of every dependency set, and with `push` pushes them and records their digests.
# Usage: images/build.sh build|push
#   REGISTRY     registry part of the image names (default localhost:5000, the one kind is set up with)
#   BASE_IMAGE   base of both images (default python:3.11-slim-bookworm; `make base-image` builds a
#                Debian one for builders that cannot pull public images)
#   CA_BUNDLE    a CA bundle to trust while installing packages (passed as a BuildKit secret, never
#                stored in an image); default: SSL_CERT_FILE when set
#   MLOPS        the project's command (default .venv/bin/mlops), which names the images
#   BUILD_ATTEMPTS  how often to try an image before giving up (default 3: package downloads can fail briefly)
#   BUILD_RETRY_PAUSE  seconds between attempts (default 10)
# `push` writes build/images.json: per dependency set, the tag and the digest reference the registry
# returned, which `make compile` pins the pipeline specs to.
set -euo pipefail
cd "$(dirname "$0")/.."
registry=${REGISTRY:-localhost:5000}
base_image=${BASE_IMAGE:-python:3.11-slim-bookworm}
ca_bundle=${CA_BUNDLE:-${SSL_CERT_FILE:-}}
mlops=${MLOPS:-.venv/bin/mlops}
build_attempts=${BUILD_ATTEMPTS:-3}
# The Debian client builds with BuildKit (secrets, cache mounts); some newer clients lack buildx.
docker=${DOCKER:-$(command -v /usr/bin/docker || command -v docker)}

refs() { "$mlops" images list --registry "$registry"; }

# The lines of a failed build that say why (uv's and pip's errors, a full disk), last in the output so a
# shortened CI log still shows them.
# Never fails itself (pipefail and errexit are on): finding nothing must not end the retries.
why_failed() {
  { grep -iE 'error|caused by|no space left|timed out|connection' "$1" | grep -v '^#[0-9]* \[' | tail -n 15; } || true
  { df -h "${DOCKER_STATE:-/var/lib/docker}" 2>/dev/null | tail -n 1 | awk '{print "disk where images are built: " $4 " free of " $2}'; } || true
}

build() {
  local secret=()
  [ -n "$ca_bundle" ] && secret=(--secret "id=ca,src=$ca_bundle")
  while read -r dependency_set ref; do
    local start=$SECONDS log="build/images/$dependency_set.build.log" attempt=1
    echo "building $ref (images/$dependency_set.Dockerfile, base $base_image)"
    # Finished layers are cached, so a retry repeats only the step that failed (often a download).
    until DOCKER_BUILDKIT=1 "$docker" build --network host --progress plain "${secret[@]}" \
        --build-arg "BASE_IMAGE=$base_image" -f "images/$dependency_set.Dockerfile" -t "$ref" . >"$log" 2>&1; do
      if [ "$attempt" -ge "$build_attempts" ]; then
        tail -n 30 "$log"
        echo "--- why building $ref failed:"
        why_failed "$log"
        echo "error: building $ref failed $attempt times (full log: $log)" >&2
        exit 1
      fi
      echo "attempt $attempt to build $ref failed; retrying. Its errors:"
      why_failed "$log"
      cp "$log" "$log.attempt-$attempt"
      attempt=$((attempt + 1))
      sleep "${BUILD_RETRY_PAUSE:-10}"
    done
    echo "built $ref in $((SECONDS - start))s, $("$docker" image inspect --format '{{.Size}}' "$ref" | awk '{printf "%.2f GB", $1/1e9}')"
  done < <(refs)
}

push() {
  local entries=()
  while read -r dependency_set ref; do
    "$docker" push --quiet "$ref" >/dev/null \
      || { echo "error: pushing $ref failed: is a registry listening at $registry? (images/local-docker.sh start)" >&2; exit 1; }
    local pinned
    pinned=$("$docker" image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$ref" | grep -m1 "^${ref%:*}@")
    echo "pushed $pinned"
    entries+=("\"$dependency_set\": {\"tag\": \"$ref\", \"pinned\": \"$pinned\"}")
  done < <(refs)
  local IFS=,
  printf '{%s}\n' "${entries[*]}" >build/images.json
  echo "wrote build/images.json"
}

mkdir -p build/images
case ${1:-} in
  build) build ;;
  push) push ;;
  *) echo "usage: $0 build|push" >&2; exit 2 ;;
esac
