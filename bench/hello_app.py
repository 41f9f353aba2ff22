"""The baseline: Flask's "hello world", served by the same gunicorn settings as the blog."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "Hello, World!"
