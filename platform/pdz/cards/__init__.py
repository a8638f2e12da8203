"""Objective cards (schede obiettivo): co-drafting the cards of the Piano di Zona without losing an edit."""

from flask import Blueprint

bp = Blueprint("cards", __name__)
