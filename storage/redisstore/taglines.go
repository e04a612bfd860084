package redisstore

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trainbot/trainbot/trains"
)

// keyTagLines is the hash of the lines holding train tags: line "X.Y.Z" →
// "1", and the field fieldListed → when every tag was last listed
// (Unix milliseconds). A few dozen lines a decade: it is never trimmed.
const keyTagLines = "taglines"

// fieldListed is the keyTagLines field holding the last full listing's
// time; it cannot be a line.
const fieldListed = "@listed"

var _ trains.TagLineIndex = (*Store)(nil)

// TagLines returns the lines kept, in one HGETALL. A field that is not a
// line is left out.
func (s *Store) TagLines(ctx context.Context) (trains.TagLines, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	m, err := s.rdb.HGetAll(ctx, s.key(keyTagLines)).Result()
	if err != nil {
		return trains.TagLines{}, s.unavailable("read the lines of the train tags", err)
	}
	var out trains.TagLines
	for f, v := range m {
		if f == fieldListed {
			if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
				out.Listed = time.UnixMilli(ms).UTC()
			}
			continue
		}
		if l, err := trains.ParseLine(f); err == nil {
			out.Lines = append(out.Lines, l)
		}
	}
	return out, nil
}

// AddTagLines adds lines and, when listed is later than the time kept,
// keeps it, in one script run (a lost reply is harmless: adding again
// changes nothing).
func (s *Store) AddTagLines(ctx context.Context, lines []trains.Line, listed time.Time) error {
	if len(lines) == 0 && listed.IsZero() {
		return nil
	}
	args := make([]any, 0, 1+len(lines))
	at := ""
	if !listed.IsZero() {
		at = strconv.FormatInt(listed.UnixMilli(), 10)
	}
	args = append(args, at)
	for _, l := range lines {
		args = append(args, l.String())
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.unavailable("keep the lines of the train tags", addTagLines.Run(ctx, s.rdb, []string{s.key(keyTagLines)}, args...).Err())
}

// addTagLines adds lines (ARGV[2:]) to the hash KEYS[1] and sets its
// fieldListed to ARGV[1] when ARGV[1] is a later time than the one there.
var addTagLines = redis.NewScript(`
local at = tonumber(ARGV[1])
if at then
  local cur = tonumber(redis.call('HGET', KEYS[1], '` + fieldListed + `') or '0') or 0
  if at > cur then redis.call('HSET', KEYS[1], '` + fieldListed + `', ARGV[1]) end
end
for i = 2, #ARGV do redis.call('HSET', KEYS[1], ARGV[i], '1') end
return 1
`)
