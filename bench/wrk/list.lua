-- GET /accounts/{id}/invitations?limit=50: the first page (newest first).
--   BENCH_ACCOUNT=ID BENCH_TOKEN=JWT
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

wrk.method = "GET"
wrk.path = "/accounts/" .. os.getenv("BENCH_ACCOUNT") .. "/invitations?limit=50"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
