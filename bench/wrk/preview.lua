-- GET /invitations/{token}: a random real token from BENCH_TOKENS_FILE per request.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local tokens

function init(args)
   tokens = read_lines(os.getenv("BENCH_TOKENS_FILE"))
   math.randomseed(os.time() * 100 + thread_index)
end

function request()
   return wrk.format("GET", "/invitations/" .. tokens[math.random(#tokens)])
end
