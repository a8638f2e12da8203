"""Help where words are hard: the glossary page, and the few facts a confirmation dialog states."""

from flask import Blueprint

bp = Blueprint("help", __name__)
