"""A small Flask app: form POST, file upload, JSON, streaming, cookies and redirects."""

import hashlib

from flask import Flask, Response, jsonify, redirect, request, stream_with_context

app = Flask(__name__)


@app.get("/")
def index():
    return "flask says hi"


@app.post("/form")
def form():
    return jsonify(name=request.form.get("name"), tags=request.form.getlist("tag"))


@app.post("/upload")
def upload():
    uploaded = request.files["file"]
    data = uploaded.read()
    return jsonify(
        filename=uploaded.filename,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        note=request.form.get("note"),
    )


@app.post("/json")
def json_echo():
    return jsonify(received=request.get_json())


@app.get("/stream")
def stream():
    def generate():
        for i in range(5):
            yield f"line {i}\n"

    return Response(stream_with_context(generate()), mimetype="text/plain")


@app.get("/cookie")
def cookie():
    response = jsonify(seen=request.cookies.get("flavour"))
    response.set_cookie("flavour", "chocolate")
    return response


@app.get("/old")
def old():
    return redirect("/")


@app.get("/boom")
def boom():
    raise RuntimeError("flask route fails on purpose")
