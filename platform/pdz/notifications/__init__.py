"""In-app notification centre, e-mail (immediate for mentions, daily digest) and preferences."""

from flask import Blueprint

bp = Blueprint("notifications", __name__)
