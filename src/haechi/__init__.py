"""haechi (해치): preserve, detect, map and act on deepfake sexual-abuse material on Telegram."""

__version__ = "0.1.0"
