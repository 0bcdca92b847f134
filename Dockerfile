# syntax=docker/dockerfile:1
# awsemu image; build it with docker/build.sh (`make docker`). That script first builds a wheelhouse
# of awsemu and its pinned dependencies on the host (build/wheelhouse), so the image build needs no
# network; BASE defaults to the official slim Python image and, where no registry is reachable,
# docker/build.sh bootstraps an equivalent base from Debian packages and passes it here.
ARG BASE=docker.io/library/python:3.11-slim-bookworm

FROM ${BASE} AS build
WORKDIR /src
COPY build/wheelhouse /wheels
RUN python3 -m venv /opt/awsemu \
    && /opt/awsemu/bin/pip install --no-cache-dir --no-index --find-links /wheels awsemu boto3 \
    && find /opt/awsemu -name '__pycache__' -prune -exec rm -rf {} + \
    && rm -rf /opt/awsemu/lib/python3*/site-packages/pip /opt/awsemu/lib/python3*/site-packages/pip-*

FROM ${BASE}
# Intel ISA-L computes the blob store's parity and CRC32s ~5x faster (same bytes as zfec/zlib);
# the image still works without it where no Debian mirror is reachable during the build.
RUN (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libisal2 \
     && rm -rf /var/lib/apt/lists/*) >/dev/null 2>&1 || echo "libisal2 not installed: parity by zfec"
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/awsemu awsemu \
    && mkdir -p /var/lib/awsemu /etc/awsemu/init/ready.d /etc/localstack/init/ready.d \
    && chown awsemu:awsemu /var/lib/awsemu
COPY --from=build /opt/awsemu /opt/awsemu
COPY docker/entrypoint.py /usr/local/bin/awsemu-entrypoint
ENV PATH=/opt/awsemu/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    AWSEMU_HOST=0.0.0.0 \
    AWSEMU_PORT=4566 \
    AWSEMU_DATA_DIR=/var/lib/awsemu
USER 10001:10001
WORKDIR /var/lib/awsemu
VOLUME ["/var/lib/awsemu"]
EXPOSE 4566
HEALTHCHECK --interval=1s --timeout=2s --start-period=2s --retries=3 \
    CMD ["/opt/awsemu/bin/python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:4566/_awsemu/health', timeout=2)"]
ENTRYPOINT ["/opt/awsemu/bin/python", "/usr/local/bin/awsemu-entrypoint"]
