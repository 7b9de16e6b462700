#!/usr/bin/env bash
# Builds a minimal Debian bookworm base image with Python 3.11 from Debian's own archive, for builders
# that cannot pull public base images (air-gapped or behind a registry allow-list).
# Usage: images/build-base.sh [TAG]   (default: local/debian-python:bookworm)
set -euo pipefail
tag=${1:-local/debian-python:bookworm}
docker=${DOCKER:-docker}
if ! command -v debootstrap >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  else
    echo "error: debootstrap is missing; install it (Debian/Ubuntu: sudo apt-get install debootstrap)" >&2
    exit 1
  fi
fi
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT

debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" >/dev/null
# Package caches and lists are dead weight in an image.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | "$docker" import --change 'CMD ["/bin/bash"]' - "$tag" >/dev/null
echo "$tag"
