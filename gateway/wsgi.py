"""WSGI entry point for gunicorn (gateway/gunicorn_conf.py): the configuration file comes from CLOUDGW_CONFIG."""
import os

from .app import create_app
from .config import load

app = create_app(load(os.environ.get("CLOUDGW_CONFIG")))
