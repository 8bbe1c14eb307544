"""The sdrl engine: task definitions, the workspace store, pipeline stages and backends. No UI here."""

__version__ = "0.1.0"
