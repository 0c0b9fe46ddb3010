"""The Flask workload: the smallest real Flask app, answering the same 13-byte body as the hello app."""

from flask import Flask, Response

app = Flask(__name__)


@app.route("/")
def hello():
    return Response("Hello, world!", mimetype="text/plain")
