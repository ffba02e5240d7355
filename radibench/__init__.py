"""radibench: the continuous benchmark suite for RadiObject (see README.md)."""

__version__ = "0.1.0"
