# listenpost in a container: `listenpost run` on the CPU build of PyTorch.
#
#   docker build -t listenpost .
#   docker run -d --name listenpost --restart unless-stopped --stop-timeout 180 \
#     -v listenpost-data:/data -v "$PWD/settings.toml:/config/settings.toml:ro" \
#     --env-file secrets.env listenpost
#
#   docker logs -f listenpost                 one line per job run
#   docker exec listenpost listenpost status  health (also the container's HEALTHCHECK)
#   docker exec -it listenpost listenpost backfill reddit --since 2026-10-01
#
# secrets.env holds LISTENPOST_NAME=value lines (LISTENPOST_SLACK_BOT_TOKEN=...); keep it out
# of the image and of version control. --stop-timeout: see "Stopping" in docs/running.md.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    LISTENPOST_CONFIG=/config/settings.toml \
    LISTENPOST_DATABASE=/data/listenpost.db

# PyTorch's own CPU index first: from the default index pip would fetch the multi-GB CUDA build.
RUN pip install 'torch>=2.4,<2.14' --index-url https://download.pytorch.org/whl/cpu

WORKDIR /src
COPY pyproject.toml README.md ./
COPY monitor monitor
COPY collectors collectors
COPY classifiers classifiers
COPY alerts alerts
RUN pip install . && rm -rf /src

RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin listenpost \
    && install -d -o listenpost -g listenpost -m 700 /data
USER listenpost
WORKDIR /data
VOLUME /data

# `status` exits 1 when a source's last run failed, alerts failed or the daemon's jobs are overdue.
HEALTHCHECK --interval=5m --timeout=60s --start-period=5m CMD ["listenpost", "status"]
STOPSIGNAL SIGTERM
CMD ["listenpost", "run"]
