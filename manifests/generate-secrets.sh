#!/usr/bin/env bash
# Creates an overlay's git-ignored secret env files with random values, once: an existing file is kept
# (the metadata store's data was initialised with its password). Kustomize's secretGenerator turns them
# into the metadata-store, object-store and feature-store Secrets.
# Usage: manifests/generate-secrets.sh OVERLAY_DIR
#   OBJECT_STORE_ACCESS_KEY / OBJECT_STORE_SECRET_KEY  adopt an object store's existing credentials
#   instead of new random ones (make deploy passes those of a cluster whose store already has them).
set -euo pipefail
overlay=${1:?usage: $0 OVERLAY_DIR}
[ -f "$overlay/kustomization.yaml" ] || { echo "error: $overlay is not a kustomize overlay (no kustomization.yaml)" >&2; exit 2; }
namespace=$(sed -n 's/^namespace: *//p' "$overlay/kustomization.yaml")
[ -n "$namespace" ] || { echo "error: $overlay/kustomization.yaml sets no namespace" >&2; exit 2; }

random() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

umask 077
mkdir -p "$overlay/secrets"

store="$overlay/secrets/metadata-store.env"
if [ ! -s "$store" ]; then
  password=$(random 24)
  # Pipeline steps run in the kubeflow namespace, so the URI names the store by its full DNS name.
  cat >"$store" <<ENV
MYSQL_ROOT_PASSWORD=$(random 24)
MYSQL_DATABASE=mlmd
MYSQL_USER=mlmd
MYSQL_PASSWORD=$password
MLOPS_METADATA_URI=mysql://mlmd:$password@metadata-mysql.$namespace.svc.cluster.local:3306/mlmd
ENV
  echo "generated $store"
fi

objects="$overlay/secrets/object-store.env"
if [ ! -s "$objects" ]; then
  access_key=${OBJECT_STORE_ACCESS_KEY:-$(random 10)}
  secret_key=${OBJECT_STORE_SECRET_KEY:-$(random 24)}
  # AWS_* for S3 clients; RCLONE_CONFIG_S3_* for Seldon Core's model initializer (remote "s3").
  cat >"$objects" <<ENV
AWS_ACCESS_KEY_ID=$access_key
AWS_SECRET_ACCESS_KEY=$secret_key
AWS_ENDPOINT_URL=http://minio-service.kubeflow.svc.cluster.local:9000
RCLONE_CONFIG_S3_TYPE=s3
RCLONE_CONFIG_S3_PROVIDER=Minio
RCLONE_CONFIG_S3_ENV_AUTH=false
RCLONE_CONFIG_S3_ACCESS_KEY_ID=$access_key
RCLONE_CONFIG_S3_SECRET_ACCESS_KEY=$secret_key
RCLONE_CONFIG_S3_ENDPOINT=http://minio-service.kubeflow.svc.cluster.local:9000
ENV
  echo "generated $objects"
fi

features="$overlay/secrets/feature-store.env"
if [ ! -s "$features" ]; then
  # Hex: Feast's Redis connection string (host:port,password=...) is split at its commas.
  cat >"$features" <<ENV
REDIS_PASSWORD=$(random 24)
ENV
  echo "generated $features"
fi
