"""formcheck: a camera-based form checker for runners' ankle drills."""

__version__ = "0.1.0"
