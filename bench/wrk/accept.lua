-- POST /invitations/{token}/accept: every request consumes a distinct token of
-- BENCH_TOKENS_FILE (thread t takes tokens t, t+T, t+2T… with T = BENCH_THREADS).
-- If the file runs out, tokens are reused and answer 409 (counted as errors):
-- raise BENCH_ACCEPT_INVITES then.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local tokens
local step = tonumber(os.getenv("BENCH_THREADS") or "1")
local next_index
local body = '{"first_name":"Bench","last_name":"Invitee","password":"bench password"}'
local headers = { ["Content-Type"] = "application/json" }

function init(args)
   tokens = read_lines(os.getenv("BENCH_TOKENS_FILE"))
   next_index = thread_index
end

function request()
   local token = tokens[next_index % #tokens + 1]
   next_index = next_index + step
   return wrk.format("POST", "/invitations/" .. token .. "/accept", headers, body)
end
