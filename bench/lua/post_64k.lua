-- The 64 KiB POST echo workload: every request carries the same 65536-byte body to /echo.
wrk.method = "POST"
wrk.body = string.rep("x", 65536)
wrk.headers["Content-Type"] = "application/octet-stream"
