-- POST /sessions with a real email and a wrong password: one Argon2
-- verification and nothing else of note, answered 401 (run with BENCH_EXPECT=401).
--   BENCH_EMAIL=an existing user's email
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

wrk.method = "POST"
wrk.path = "/sessions"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"email":"%s","password":"not the password"}', os.getenv("BENCH_EMAIL"))
