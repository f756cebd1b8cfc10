/**
 * The Lua scripts of the transport. Each runs atomically in Redis, which is what makes the
 * batched fetch safe: a message is popped and recorded as unacknowledged in one step, so no
 * crash can fall between the two (Kombu's BRPOP-then-HSET has that window).
 */
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

/** A script run by EVALSHA, loaded with EVAL the first time (or after a SCRIPT FLUSH or a restart). */
export class Script {
  readonly sha: string
  constructor(readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex')
  }

  async run(client: Redis, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args)
    } catch (err) {
      if (!String((err as Error)?.message).startsWith('NOSCRIPT')) throw err
      return client.eval(this.lua, keys.length, ...keys, ...args)
    }
  }
}

/** Python's `json.dumps` quoting of a string (ASCII escapes; other bytes are kept as UTF-8). */
const PYSTR = `
local function pystr(s)
  local escaped = string.gsub(s, '[%c"\\\\]', function(c)
    if c == '"' then return '\\\\"' elseif c == '\\\\' then return '\\\\\\\\'
    elseif c == '\\n' then return '\\\\n' elseif c == '\\r' then return '\\\\r'
    elseif c == '\\t' then return '\\\\t' elseif c == '\\b' then return '\\\\b'
    elseif c == '\\f' then return '\\\\f' end
    return string.format('\\\\u%04x', string.byte(c))
  end)
  return '"' .. escaped .. '"'
end
`

/**
 * Fetches up to `max` messages. First moves due delayed messages of every queue to their bucket
 * list; then pops bucket by bucket, lowest step first, sharing each bucket fairly between the
 * queues (in the order given: the caller rotates it); records each tracked message in `unacked`
 * and `unacked_index` as Kombu's `QoS.append` does.
 *
 * KEYS: unacked, unacked_index, delayed set of each queue, then the bucket lists, step-major
 * (`steps[1]` of every queue, then `steps[2]`...).
 * ARGV: max, queue count, now (ms), now (s, the index score), track flags ('1'/'0' per queue), steps...
 * Returns: { earliest remaining delayed due time or '', then per message: queue#, step#, item, tag }.
 */
export const FETCH = new Script(`${PYSTR}
local max, nq, now, nowS, track = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
local steps = {}
for i = 6, #ARGV do steps[#steps + 1] = tonumber(ARGV[i]) end
local ns, base = #steps, 2 + nq
local earliest = ''
for qi = 1, nq do
  local dkey = KEYS[2 + qi]
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', dkey, '-inf', now, 'LIMIT', 0, 1000)) do
    local colon = string.find(member, ':', 1, true)
    if colon then
      local step, si = tonumber(string.sub(member, 1, colon - 1)) or 0, 1
      for i = 1, ns do if steps[i] <= step then si = i end end
      redis.call('LPUSH', KEYS[base + (si - 1) * nq + qi], string.sub(member, colon + 1))
    end
    redis.call('ZREM', dkey, member)
  end
  local nxt = redis.call('ZRANGE', dkey, 0, 0, 'WITHSCORES')
  if nxt[2] and (earliest == '' or tonumber(nxt[2]) < tonumber(earliest)) then earliest = nxt[2] end
end
local out, remaining = { earliest }, max
-- Unacked bookkeeping is gathered and written with one variadic ZADD and HSET per chunk, not two
-- calls per message: on a busy worker these calls are most of the script's time.
local zargs, hargs = {}, {}
for s = 1, ns do
  local active = {}
  for qi = 1, nq do active[qi] = qi end
  while remaining > 0 and #active > 0 do
    local share, more = math.max(1, math.floor(remaining / #active)), {}
    for _, qi in ipairs(active) do
      if remaining <= 0 then break end
      local key, got = KEYS[base + (s - 1) * nq + qi], 0
      while got < share and remaining > 0 do
        local item = redis.call('RPOP', key)
        if not item then break end
        local tag = ''
        local ftag = string.sub(track, qi, qi) == '1' and string.match(item, '.*"delivery_tag": "([^"\\\\]+)"')
        local fex, frk
        if ftag then
          fex, frk = string.match(item, '.*"delivery_info": {"exchange": "([^"\\\\]*)", "routing_key": "([^"\\\\]*)"}')
        end
        if ftag and fex then
          tag = ftag
          zargs[#zargs + 1] = nowS
          zargs[#zargs + 1] = tag
          hargs[#hargs + 1] = tag
          hargs[#hargs + 1] = '[' .. item .. ', "' .. fex .. '", "' .. frk .. '"]'
        elseif string.sub(track, qi, qi) == '1' then
          local ok, env = pcall(cjson.decode, item)
          if ok and type(env) == 'table' and type(env.properties) == 'table'
              and type(env.properties.delivery_tag) == 'string' then
            tag = env.properties.delivery_tag
            local di, ex, rk = env.properties.delivery_info, '', ''
            if type(di) == 'table' then
              if type(di.exchange) == 'string' then ex = di.exchange end
              if type(di.routing_key) == 'string' then rk = di.routing_key end
            end
            zargs[#zargs + 1] = nowS
            zargs[#zargs + 1] = tag
            hargs[#hargs + 1] = tag
            hargs[#hargs + 1] = '[' .. item .. ', ' .. pystr(ex) .. ', ' .. pystr(rk) .. ']'
          end
        end
        out[#out + 1] = qi
        out[#out + 1] = s
        out[#out + 1] = item
        out[#out + 1] = tag
        got, remaining = got + 1, remaining - 1
      end
      if got == share then more[#more + 1] = qi end
    end
    active = more
  end
end
for i = 1, #zargs, 1000 do
  redis.call('ZADD', KEYS[2], unpack(zargs, i, math.min(i + 999, #zargs)))
  redis.call('HSET', KEYS[1], unpack(hargs, i, math.min(i + 999, #hargs)))
end
return out
`)

/**
 * Gives an unacknowledged message back (Kombu's `restore_by_tag`): removes it from `unacked` and
 * `unacked_index` and pushes `payload` to each target list.
 *
 * KEYS: unacked, unacked_index, target lists...
 * ARGV: tag, LPUSH or RPUSH, payload, expected hash value ('' = any), ceil ('' = none: with one,
 * a message renewed since the scan read it is left alone), require ('1' = push only when the
 * hash still holds it, so a message restored by someone else is not pushed twice).
 */
export const RESTORE = new Script(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[5] ~= '' then
  local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
  if score and tonumber(score) > tonumber(ARGV[5]) then return 0 end
end
if ARGV[4] ~= '' and cur ~= ARGV[4] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
if ARGV[6] == '1' and not cur then return 0 end
for i = 3, #KEYS do redis.call(ARGV[2], KEYS[i], ARGV[3]) end
return 1
`)

/** Acknowledges: KEYS unacked, unacked_index; ARGV the tags. */
export const ACK = new Script(`
for i = 1, #ARGV, 1000 do
  local last = math.min(i + 999, #ARGV)
  redis.call('ZREM', KEYS[2], unpack(ARGV, i, last))
  redis.call('HDEL', KEYS[1], unpack(ARGV, i, last))
end
return #ARGV
`)

/** Releases a lock only if we still own it (redis-py's `Lock.release`). KEYS lock; ARGV token. */
export const UNLOCK = new Script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)
