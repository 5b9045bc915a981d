"""The environment variable prometheus-client reads for its multiprocess folder (kept apart
from ``prom`` so ``tend serve`` can name it without importing prometheus-client)."""

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
