from flask import Blueprint

bp = Blueprint("accordo", __name__)
