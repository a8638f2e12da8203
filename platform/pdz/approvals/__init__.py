from flask import Blueprint

bp = Blueprint("approvals", __name__)
