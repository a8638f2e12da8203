from flask import Blueprint

bp = Blueprint("tavoli", __name__)
