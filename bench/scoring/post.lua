-- wrk script: POST (to the URL given, .../score) with the body read from $BODY_FILE (a file, so any
-- JSON works; a Lua long string would break on "]]").
local file = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
wrk.headers["Content-Type"] = "application/json"
file:close()
