from flask import Blueprint

bp = Blueprint("participation", __name__)
