"""Search: one page (/cerca) over everything a person may read, kept up to date in each transaction."""

from flask import Blueprint

bp = Blueprint("search", __name__, cli_group=None)  # `flask search-reindex` at the top level
