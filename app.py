"""The entry point: `flask --app app run`, `gunicorn app:app`."""

import sys

from blog import create_app
from blog.config import ConfigError
from blog.plugins import PluginError

try:
    app = create_app()
except (ConfigError, PluginError) as error:
    # One line, no traceback: the owner fixes config.toml and starts again.
    sys.exit(f"pressroom: {error}")
