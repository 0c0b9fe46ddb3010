"""The built-in test page served when no config file is given (as 0.2.x did)."""

PAGE = b"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="UTF-8"><title>Server 3 test page</title></head>
<body style="font-family: Arial, sans-serif;">
<h1 style="display: flex; justify-content: center; color: #696969;">Test page</h1>
<p style="text-align: center;">Server_3_free_threads runs in test mode: give it a config with
<code>python -m Server_3_free_threads configfile=.config_server</code>.</p>
</body>
</html>
"""


def application(environ, start_response):
    start_response(
        "200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(PAGE)))]
    )
    return [PAGE]
