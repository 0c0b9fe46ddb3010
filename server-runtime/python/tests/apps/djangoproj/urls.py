import hashlib
import json

from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


def index(request):
    return HttpResponse("django says hi", content_type="text/plain")


@csrf_exempt
def form(request):
    return JsonResponse({"name": request.POST.get("name"), "tags": request.POST.getlist("tag")})


@csrf_exempt
def upload(request):
    uploaded = request.FILES["file"]
    data = uploaded.read()
    return JsonResponse(
        {
            "filename": uploaded.name,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "note": request.POST.get("note"),
        }
    )


@csrf_exempt
def json_echo(request):
    return JsonResponse({"received": json.loads(request.body)})


def stream(request):
    return StreamingHttpResponse((f"line {i}\n" for i in range(5)), content_type="text/plain")


def meta(request):
    return JsonResponse({"host": request.get_host(), "path": request.path, "query": request.GET.get("q")})


urlpatterns = [
    path("", index),
    path("form", form),
    path("upload", upload),
    path("json", json_echo),
    path("stream", stream),
    path("meta", meta),
]
