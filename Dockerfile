# The service image: CPU-only torch, the packaged model inside, the index built from seeds/.
FROM python:3.11-slim-bookworm

# CPU wheels of torch live on their own index; the default one would pull a CUDA build.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    QA_INDEX_DIR=/data/index \
    QA_HOST=0.0.0.0 \
    QA_PORT=8000

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin qa \
    && mkdir -p /data/index \
    && chown qa:qa /data/index

WORKDIR /app
COPY pyproject.toml README.md api.py ./
COPY index ./index
COPY qa ./qa
COPY service ./service
COPY bench ./bench
RUN pip install --no-cache-dir --index-url "${TORCH_INDEX_URL}" torch==2.13.0 \
    && pip install --no-cache-dir .

COPY seeds ./seeds
USER 10001
# The image ships a ready index: the container never builds on start.
RUN qa index build seeds && qa index verify

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["qa", "serve"]
