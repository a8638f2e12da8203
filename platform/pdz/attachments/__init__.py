"""Files attached to tavoli, cards, meetings and agenda items: stored once by content hash, typed from content."""

from flask import Blueprint

bp = Blueprint("attachments", __name__)
