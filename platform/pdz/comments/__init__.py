"""Comment threads on any registered target (tavolo discussion, card, card field, meeting item...)."""

from flask import Blueprint

bp = Blueprint("comments", __name__)
