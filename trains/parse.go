package trains

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// TimeLayout is how trainbot writes a UTC time in plain text: 2026-12-02 18:00 UTC.
const TimeLayout = "2006-01-02 15:04 UTC"

// timeLayouts are the forms ParseTime accepts, tried in order.
var timeLayouts = []string{
	time.RFC3339Nano,         // 2026-12-02T18:00:00Z, 2026-12-02T18:00:00.5+01:00
	"2006-01-02T15:04Z07:00", // 2026-12-02T18:00Z: RFC 3339 without seconds
	"2006-01-02T15:04:05",    // no zone: UTC
	"2006-01-02T15:04",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02 15:04Z07:00",
}

// ParseTime parses a time a user typed: RFC 3339 (seconds optional) or
// "YYYY-MM-DD HH:MM". A time without a zone is UTC. The result is in UTC.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(s, " UTC")
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: write RFC 3339 (2026-12-02T18:00Z) or YYYY-MM-DD HH:MM in UTC", s)
}

// MaxDuration is the longest duration ParseDuration accepts.
const MaxDuration = 366 * 24 * time.Hour

var durationRe = regexp.MustCompile(`^(?:(\d{1,3})d)?(.*)$`)

// ParseDuration parses a positive duration a user typed: Go's form (6h,
// 90m, 1h30m) with days allowed in front (2d, 1d12h). It is at most MaxDuration.
func ParseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not a duration: write e.g. 6h, 90m, 1h30m or 2d", s)
	m := durationRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || (m[1] == "" && m[2] == "") {
		return 0, bad
	}
	var d time.Duration
	if m[1] != "" {
		days, _ := strconv.Atoi(m[1])
		d = time.Duration(days) * 24 * time.Hour
	}
	if m[2] != "" {
		rest, err := time.ParseDuration(m[2])
		if err != nil || strings.HasPrefix(m[2], "-") || strings.HasPrefix(m[2], "+") {
			return 0, bad
		}
		if rest > MaxDuration {
			return 0, fmt.Errorf("%q is longer than %d days", s, MaxDuration/(24*time.Hour))
		}
		d += rest
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration", s)
	}
	if d > MaxDuration {
		return 0, fmt.Errorf("%q is longer than %d days", s, MaxDuration/(24*time.Hour))
	}
	return d, nil
}
