#!/usr/bin/env bash
# Build the service image: docker/build.sh [TAG]   (default TAG: grounded-qa:latest)
# BASE_IMAGE (default python:3.11-slim-bookworm) is used when present or pullable;
# otherwise a local Debian base is made with docker/base-image.sh. Certificates the host
# added locally are trusted by the build stage, for builds behind a TLS-inspecting proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-grounded-qa:latest}"
base="${BASE_IMAGE:-python:3.11-slim-bookworm}"
if ! docker image inspect "$base" >/dev/null 2>&1 && ! docker pull -q "$base" >/dev/null 2>&1; then
    echo "$base cannot be had here; making a local base image"
    base=grounded-qa-base:bookworm
    docker/base-image.sh "$base"
fi
shopt -s nullglob
for crt in /usr/local/share/ca-certificates/*.crt; do
    cp "$crt" docker/ca/
done
# DOCKER_BUILD_FLAGS: extra flags for docker build, e.g. --no-cache for a cold build.
# shellcheck disable=SC2086
docker build ${DOCKER_BUILD_FLAGS:-} --build-arg "BASE_IMAGE=$base" -t "$tag" .
