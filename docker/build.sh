#!/bin/sh
# Build the awsemu image with podman or docker, whichever is installed (CONTAINER_ENGINE overrides).
# When the usual base image cannot be pulled (no registry reachable), an equivalent base is
# bootstrapped from Debian packages by docker/bootstrap-base.sh and used instead.
set -eu
cd "$(dirname "$0")/.."
ENGINE=${CONTAINER_ENGINE:-$(command -v podman || command -v docker || true)}
if [ -z "$ENGINE" ]; then
    echo "docker/build.sh: neither podman nor docker is installed (Debian: apt-get install podman)" >&2
    exit 1
fi
IMAGE=${IMAGE:-awsemu:latest}
BASE=${BASE:-docker.io/library/python:3.11-slim-bookworm}
if ! "$ENGINE" image inspect "$BASE" >/dev/null 2>&1 && ! timeout 60 "$ENGINE" pull -q "$BASE" >/dev/null 2>&1; then
    echo "docker/build.sh: cannot pull $BASE; using a base bootstrapped from Debian packages" >&2
    BASE=localhost/awsemu-base:bookworm
    "$ENGINE" image inspect "$BASE" >/dev/null 2>&1 || docker/bootstrap-base.sh "$ENGINE" "$BASE"
fi
exec "$ENGINE" build --network=host --build-arg "BASE=$BASE" -t "$IMAGE" .
