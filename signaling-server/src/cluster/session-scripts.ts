/**
 * The Lua scripts of durable sessions (session-log.ts, PROTOCOL.md §15 "Resume on another node").
 * Each runs atomically in Redis, which is the point: a client frame's effects and the count of
 * client frames they belong to land together or not at all, and a frame's number in a session's
 * log is given by Redis, so several nodes can append to one log without agreeing on anything.
 *
 * Keys of session {sid}: `gmnet:sess:{sid}` (hash: node, appKey, device, meta, in, out, bytes,
 * udp, pinned), `gmnet:sess:{sid}:log` (stream: one entry per script call and session, id `0-{n}`
 * with n its last frame's number, fields `f` its first frame's number and `d` the frames back to back),
 * `gmnet:sess:{sid}:streams` (hash: connId → the stream's half, JSON).
 */

/**
 * One turn's writes. ARGV: this node, the nodes' stream MAXLEN, the records' TTL (ms), the log's
 * byte bound, then operations of five arguments each: op, sid, source, a, b. An operation whose
 * `source` session is no longer this node's (another node took it over: the fence) is skipped,
 * and the source is answered "fenced" ("lost" when its record is gone altogether: it expired, or
 * Redis restarted without persistence). Answers, flat: kind, sid, … (fenced, lost, gone, full).
 *
 *   open   sid  sid  meta-json  appKey.."\n"..device     a new record owned by this node
 *   in     sid  sid  count                                 client frames whose effects are in
 *   append sid  src  frame      "1" (ignore the bound)     numbered by Redis, logged, hinted to the owner
 *   sset   sid  src  connId     half-json                  a stream of the session
 *   sdel   sid  src  connId                                its end
 *   pin    sid  sid  reason                                the session holds what cannot move
 *   udp    sid  sid  ports-json                            the UDP ports it is bound to (carried by a move)
 *   trim   sid  sid  n                                     the client has frames up to n (absolute)
 *   end    sid  sid                                        the session is over
 */
export const COMMIT = `
local me, maxLen, ttl, maxBytes = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
-- groups: each session's appends of this call, written as one log entry and one hint at the end
local answers, fenced, groups, order, ended = {}, {}, {}, {}, {}
local function rec(sid) return 'gmnet:sess:' .. sid end
local function mine(sid)
  if fenced[sid] == nil then
    local owner = redis.call('HGET', rec(sid), 'node')
    fenced[sid] = owner ~= me
    if fenced[sid] then answers[#answers + 1] = owner and 'fenced' or 'lost'; answers[#answers + 1] = sid end
  end
  return not fenced[sid]
end
local function touch(sid)
  redis.call('PEXPIRE', rec(sid), ttl)
  redis.call('PEXPIRE', rec(sid) .. ':log', ttl)
  redis.call('PEXPIRE', rec(sid) .. ':streams', ttl)
end
for i = 5, #ARGV, 5 do
  local op, sid, source, a, b = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  if op == 'open' then
    local nl = string.find(b, '\\n', 1, true)
    redis.call('HSET', rec(sid), 'node', me, 'meta', a, 'appKey', string.sub(b, 1, nl - 1), 'device', string.sub(b, nl + 1), 'in', 0, 'out', 0, 'bytes', 0)
    fenced[sid] = false
    touch(sid)
  elseif source == '' or mine(source) then
    if op == 'in' then
      redis.call('HSET', rec(sid), 'in', a)
    elseif op == 'append' then
      local group = groups[sid]
      if group == nil and not ended[sid] then
        local f = redis.call('HMGET', rec(sid), 'node', 'out', 'bytes')
        if f[1] then
          group = { owner = f[1], first = tonumber(f[2]) + 1, out = tonumber(f[2]), bytes = tonumber(f[3]), frames = {} }
          groups[sid] = group
          order[#order + 1] = sid
        end
      end
      if group == nil then
        answers[#answers + 1] = 'gone'; answers[#answers + 1] = sid
      elseif b ~= '1' and group.bytes + string.len(a) > maxBytes then
        answers[#answers + 1] = 'full'; answers[#answers + 1] = sid
      else
        group.bytes = group.bytes + string.len(a)
        group.out = group.out + 1
        group.frames[#group.frames + 1] = a
      end
    elseif op == 'sset' then
      if redis.call('EXISTS', rec(sid)) == 1 then
        redis.call('HSET', rec(sid) .. ':streams', a, b)
        redis.call('PEXPIRE', rec(sid) .. ':streams', ttl)
      end
    elseif op == 'sdel' then
      redis.call('HDEL', rec(sid) .. ':streams', a)
    elseif op == 'pin' then
      redis.call('HSET', rec(sid), 'pinned', a)
    elseif op == 'udp' then
      redis.call('HSET', rec(sid), 'udp', a)
    elseif op == 'trim' then
      local upto = tonumber(a)
      -- An entry's id is its last frame's number: the entries wholly acknowledged go.
      local acked = redis.call('XRANGE', rec(sid) .. ':log', '-', '0-' .. upto)
      local freed = 0
      for _, entry in ipairs(acked) do freed = freed + string.len(entry[2][4]) end
      if #acked > 0 then
        redis.call('XTRIM', rec(sid) .. ':log', 'MINID', '0-' .. (upto + 1))
        redis.call('HINCRBY', rec(sid), 'bytes', -freed)
      end
    elseif op == 'end' then
      redis.call('DEL', rec(sid), rec(sid) .. ':log', rec(sid) .. ':streams')
      -- What this call appended for it goes with it; later appends find it gone.
      groups[sid] = nil
      ended[sid] = true
    end
  end
end
for _, sid in ipairs(order) do
  local group = groups[sid]
  if group ~= nil and #group.frames > 0 then
    local frames = table.concat(group.frames)
    redis.call('HSET', rec(sid), 'out', group.out, 'bytes', group.bytes)
    redis.call('XADD', rec(sid) .. ':log', '0-' .. group.out, 'f', group.first, 'd', frames)
    redis.call('PEXPIRE', rec(sid) .. ':log', ttl)
    redis.call('XADD', 'gmnet:node:' .. group.owner .. ':in', 'MAXLEN', '~', maxLen, '*', 'h', sid, 'n', group.first, 'd', frames)
  end
end
return answers
`;

/**
 * A RESUME for a session this node does not hold. ARGV: sid, this node, app key, device identity
 * id, the client's `received` (u32). Refused ({reason}) unless the record exists, belongs to this
 * app key and identity, holds nothing that cannot move, and its log still has every frame after
 * the client's `received`; otherwise the record is this node's from now on (the fence for the
 * node that had it) and the answer is {"ok", previous node, meta, in, out, first frame number
 * wanted, UDP ports (JSON), the log's entries from the one holding that frame on (each: its first
 * frame's number, its frames), then "streams", the streams hash flat}.
 */
export const TAKE = `
local sid, me, appKey, device, received = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local rec = 'gmnet:sess:' .. sid
local f = redis.call('HMGET', rec, 'node', 'meta', 'in', 'out', 'pinned', 'appKey', 'device', 'udp')
if not f[1] then return { 'unknown' } end
if f[6] ~= appKey or f[7] ~= device then return { 'not-owned' } end
if f[5] then return { 'pinned', f[5] } end
local out = tonumber(f[4])
local behind = (out - received) % 4294967296
local first = out - behind + 1
-- The entries holding frames first … out: from the one whose last frame is first or later.
local entries = redis.call('XRANGE', rec .. ':log', '0-' .. first, '+')
if behind > 0 and (#entries == 0 or tonumber(entries[1][2][2]) > first) then return { 'evicted' } end
redis.call('HSET', rec, 'node', me)
local answer = { 'ok', f[1], f[2], f[3], f[4], tostring(first), f[8] or '[]' }
if behind > 0 then
  for _, entry in ipairs(entries) do
    answer[#answer + 1] = entry[2][2]
    answer[#answer + 1] = entry[2][4]
  end
end
answer[#answer + 1] = 'streams'
for _, value in ipairs(redis.call('HGETALL', rec .. ':streams')) do answer[#answer + 1] = value end
return answer
`;
