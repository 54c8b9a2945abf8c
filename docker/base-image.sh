#!/usr/bin/env bash
# Make a local Debian bookworm base image with Python 3.11, for machines that reach the
# Debian and PyPI package registries but no image registry. The image's default base is
# the official python:3.11-slim-bookworm; this one stands in for it:
#   docker/base-image.sh [NAME]   (default NAME: grounded-qa-base:bookworm)
#   docker build --build-arg BASE_IMAGE=grounded-qa-base:bookworm -t grounded-qa .
set -euo pipefail
name="${1:-grounded-qa-base:bookworm}"
if docker image inspect "$name" >/dev/null 2>&1; then
    echo "$name exists"
    exit 0
fi
command -v debootstrap >/dev/null || { echo "error: debootstrap is not installed" >&2; exit 1; }
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
# minbase plus what the Dockerfile needs: Python with venv and pip, and TLS roots.
debootstrap --variant=minbase \
    --include=python3,python3-venv,python3-pip,ca-certificates \
    bookworm "$root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >/dev/null
# apt lists and caches are not needed in an image.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["python3"]' - "$name" >/dev/null
echo "$name made"
