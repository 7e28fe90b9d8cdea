"""listenpost: a self-hosted monitor for brand mentions, reviews and their sentiment."""

__version__ = "0.1.0"
