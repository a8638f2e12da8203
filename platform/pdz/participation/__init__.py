from flask import Blueprint

from . import rollups  # noqa: F401 - registers the hook that marks stale participation rollups

bp = Blueprint("participation", __name__)
