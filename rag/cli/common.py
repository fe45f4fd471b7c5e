"""What every `rag` subcommand shares: settings from the flags and exit codes."""

from __future__ import annotations

from rag.config import Settings

EXIT_BAD_INPUT = 2
EXIT_ERROR = 1


def settings_of(args) -> Settings:
    overrides = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = args.data_dir
    if getattr(args, "store", None):
        overrides["store"] = args.store
    return Settings(**overrides)

