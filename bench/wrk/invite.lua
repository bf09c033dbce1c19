-- POST /accounts/{id}/invitations (or …/invitations/quote with BENCH_QUOTE=1),
-- a new email on every request.
--   BENCH_ACCOUNT=ID BENCH_TOKEN=JWT     one account
--   BENCH_ACCOUNTS_FILE=path             many: lines "account_id jwt", one picked per request
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local suffix = os.getenv("BENCH_QUOTE") == "1" and "/invitations/quote" or "/invitations"
local accounts = {}
local sent = 0

function init(args)
   local file = os.getenv("BENCH_ACCOUNTS_FILE")
   if file and file ~= "" then
      for _, line in ipairs(read_lines(file)) do
         local id, jwt = string.match(line, "^(%d+)%s+(%S+)$")
         table.insert(accounts, { path = "/accounts/" .. id .. suffix, auth = "Bearer " .. jwt })
      end
   else
      table.insert(accounts, {
         path = "/accounts/" .. os.getenv("BENCH_ACCOUNT") .. suffix,
         auth = "Bearer " .. os.getenv("BENCH_TOKEN"),
      })
   end
   math.randomseed(os.time() * 100 + thread_index)
end

function request()
   sent = sent + 1
   local account = accounts[#accounts == 1 and 1 or math.random(#accounts)]
   local body = string.format(
      '{"email":"w%s-%d-%d@bench.example","subscriber_type":"attorney"}',
      run_id, thread_index, sent)
   return wrk.format("POST", account.path,
      { ["Authorization"] = account.auth, ["Content-Type"] = "application/json" }, body)
end
