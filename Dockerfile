# licbench: one image for the web server and the Celery workers (same commands as `make run`).
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 DATA_DIR=/data WEIGHTS_DIR=/weights
WORKDIR /app

# Exactly the versions in requirements.lock (scripts/lock.sh), as `make setup` installs them: every dependency,
# the test tools and Flower (the ops extra); --no-deps so pip resolves nothing itself. torch==2.14.1 /
# torchvision==0.29.1 are pinned there: give pip an index or --find-links that holds those wheels.
COPY pyproject.toml requirements.lock README.md ./
RUN pip install --no-cache-dir --no-deps -r requirements.lock

COPY app ./app
COPY workers ./workers
COPY models ./models
COPY metrics ./metrics
COPY analysis ./analysis
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY configs ./configs
COPY alembic.ini Makefile ./
COPY scripts ./scripts

# butteraugli_main (libjxl's reference Butteraugli) for the butteraugli metrics.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends libjxl-devtools \
    && rm -rf /var/lib/apt/lists/*

# licbench itself (the `licbench` command); its dependencies are already in place from the lock.
RUN pip install --no-cache-dir --no-deps --no-build-isolation -e . && pip check

VOLUME ["/data", "/weights"]
EXPOSE 8000
# Web server by default; the worker service overrides the command (see docker-compose.yml).
CMD ["sh", "-c", "licbench db upgrade && uvicorn app.main:app --host 0.0.0.0 --port 8000"]
