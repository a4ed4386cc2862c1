"""The application's version, written into every session file."""

from importlib.metadata import PackageNotFoundError, version

try:
    APP_VERSION = version("monge-lab")
except PackageNotFoundError:  # running from a plain checkout that was never installed
    APP_VERSION = "0.1.0+source"
