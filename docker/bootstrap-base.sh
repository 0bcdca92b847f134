#!/bin/sh
# Make a minimal Debian bookworm base image with Python 3.11 from Debian packages alone (debootstrap,
# then import), for machines that reach a Debian mirror but no container registry.
# Needs root (or fakeroot) and the debootstrap package. Usage: bootstrap-base.sh ENGINE IMAGE
set -eu
ENGINE=$1
IMAGE=$2
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$ROOT" "$MIRROR"
# Slim it the way the official slim images are slimmed: no apt lists, docs, man pages or caches.
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb \
       "$ROOT"/usr/lib/python3.11/test "$ROOT"/usr/lib/python3.11/idlelib "$ROOT"/var/cache/debconf/*-old \
       "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* \
       "$ROOT"/usr/share/locale/* "$ROOT"/var/log/*.log "$ROOT"/tmp/*
tar -C "$ROOT" --numeric-owner -c . | "$ENGINE" import --change 'CMD ["/bin/bash"]' - "$IMAGE"
