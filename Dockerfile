# The service image: ONNX Runtime embeddings (no torch), the packaged model and a ready
# seed index inside, non-root. BASE_IMAGE is any Debian-based image with Python 3.11+,
# venv and pip; docker/base-image.sh makes one where no image registry is reachable.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    PATH=/opt/venv/bin:$PATH \
    QA_MODEL_CACHE=/opt/qa/model-cache \
    QA_INDEX_DIR=/opt/qa/index
# Extra CA certificates for a TLS-inspecting proxy, this stage only (see docker/ca/).
COPY docker/ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates >/dev/null && python3 -m venv /opt/venv
WORKDIR /src
# Dependencies first, in their own layer: code changes do not reinstall them.
COPY pyproject.toml docker/serve_requirements.py ./
RUN python serve_requirements.py pyproject.toml > requirements.txt \
    && python serve_requirements.py --without-deps pyproject.toml > without-deps.txt \
    && pip install -r requirements.txt \
    && pip install --no-deps -r without-deps.txt
COPY README.md api.py ./
COPY index ./index
COPY qa ./qa
COPY service ./service
COPY bench ./bench
RUN pip install --no-deps . && python -m compileall -q /opt/venv
COPY seeds ./seeds
# The model's ONNX graph is written and the seed index built here, once: the container
# starts ready and never needs to write either.
RUN qa index build seeds && qa index verify

FROM ${BASE_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    PATH=/opt/venv/bin:$PATH \
    QA_MODEL_CACHE=/opt/qa/model-cache \
    QA_INDEX_DIR=/data/index \
    QA_DATA_DIR=/data/state \
    QA_HOST=0.0.0.0 \
    QA_PORT=8000
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin qa \
    && mkdir -p /data/index /data/state \
    && chown -R qa:qa /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/qa/model-cache /opt/qa/model-cache
COPY --from=build --chown=qa:qa /opt/qa/index /data/index
USER 10001
WORKDIR /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
CMD ["qa", "serve"]
