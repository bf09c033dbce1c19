-- Shared by every scenario (loaded with dofile by each script).
--
-- * setup() numbers the threads: `thread_index` (0-based) is a global in each
--   thread's Lua state, used to make emails and token picks unique per thread.
-- * response() counts answers that are not the expected status as errors:
--   any 2xx by default, exactly BENCH_EXPECT when that is set (e.g. 401).
-- * done() prints one machine-readable line that bench/run turns into the table:
--   BENCH_RESULT requests=… duration_us=… p50_us=… p99_us=… errors=…
--   (errors include socket errors and timeouts), and BENCH_SAMPLE with the
--   first unexpected answer, to see at once what went wrong.

run_id = os.getenv("BENCH_RUN") or tostring(os.time())
local expect = tonumber(os.getenv("BENCH_EXPECT") or "")
local threads = {}

function setup(thread)
   thread:set("thread_index", #threads)
   table.insert(threads, thread)
end

errors = 0
sample = nil

function response(status, headers, body)
   local ok
   if expect then
      ok = status == expect
   else
      ok = status >= 200 and status < 300
   end
   if not ok then
      errors = errors + 1
      if sample == nil then
         sample = tostring(status) .. " " .. string.sub(body or "", 1, 300)
      end
   end
end

-- Reads a file into a list of lines (tokens, or "account_id bearer" pairs).
function read_lines(path)
   local lines = {}
   for line in io.lines(path) do
      if line ~= "" then
         table.insert(lines, line)
      end
   end
   return lines
end

function done(summary, latency, requests)
   local errs, first = 0, nil
   for _, t in ipairs(threads) do
      errs = errs + (t:get("errors") or 0)
      first = first or t:get("sample")
   end
   local e = summary.errors
   errs = errs + e.connect + e.read + e.write + e.timeout
   io.write(string.format(
      "BENCH_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d\n",
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(99), errs))
   if first then
      io.write("BENCH_SAMPLE " .. string.gsub(first, "%s+", " ") .. "\n")
   end
end
