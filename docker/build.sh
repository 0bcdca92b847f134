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
# The wheelhouse: awsemu and its pinned dependencies, built with the host's pip (which has the
# host's index and certificates), installed offline inside the image build.
PYTHON=${PYTHON:-python3}
rm -rf build/wheelhouse
# boto3 rides along so init hooks can use it (the aws CLI v1 would add 140 MB to the image).
"$PYTHON" -m pip wheel -q --wheel-dir build/wheelhouse . boto3==1.44.8
# podman with crun refuses hybrid cgroup hosts ("cgroups in hybrid mode not supported"); runc works.
RUNTIME=""
if [ "$(basename "$ENGINE")" = podman ] && command -v runc >/dev/null 2>&1; then
    RUNTIME="--runtime runc"
fi
# OCI image format has no HEALTHCHECK; podman keeps it only in docker format.
FORMAT=""
if [ "$(basename "$ENGINE")" = podman ]; then
    FORMAT="--format docker"
fi
# shellcheck disable=SC2086
exec "$ENGINE" $RUNTIME build $FORMAT --network=host --build-arg "BASE=$BASE" -t "$IMAGE" .
