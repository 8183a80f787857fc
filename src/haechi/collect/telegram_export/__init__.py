"""Telegram Desktop "Export chat history" / "Export Telegram data" (JSON) collector."""

from haechi.collect.telegram_export.collector import TelegramExportCollector

__all__ = ["TelegramExportCollector"]
