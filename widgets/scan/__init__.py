"""The temperature-scan dock."""
