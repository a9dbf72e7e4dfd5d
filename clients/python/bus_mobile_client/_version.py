"""The version of ``bus-mobile-client`` (also in its User-Agent)."""

__version__ = "1.0.0"
