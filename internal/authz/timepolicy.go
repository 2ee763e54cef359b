package authz

import (
	"strconv"
	"strings"
	"time"
)

// TimeField is the calendar field a time policy range restricts.
type TimeField int

// The fields a time policy restricts, in the order they are checked.
const (
	DayOfMonth TimeField = iota
	Month
	Year
	Hour
	Minute
)

// timeRangeKeys are the config keys of each TimeField; a range's end is the key plus "End".
var timeRangeKeys = [...]string{DayOfMonth: "dayMonth", Month: "month", Year: "year", Hour: "hour", Minute: "minute"}

// TimeRange restricts a field to Start, or to Start..End inclusive when HasEnd.
type TimeRange struct {
	Field      TimeField
	Start, End int
	HasEnd     bool
}

// TimePolicy is a time policy's config read once. The bounds are zero when absent; they are
// wall clocks read in UTC, which evaluation places in the server's time zone.
type TimePolicy struct {
	NotBefore, NotOnOrAfter time.Time
	Ranges                  []TimeRange
}

// ParseTimePolicy reads a time policy's config: "nbf" and "noa" (or "notOnOrAfter") as dates,
// the ranges as whole numbers. An empty value is an absent one. Validation and evaluation both
// call it, so a policy that is stored is one that can be evaluated; the error is an *Error
// naming the value it could not read.
func ParseTimePolicy(cfg map[string]string) (TimePolicy, error) {
	var tp TimePolicy
	noa := cfg["noa"]
	if noa == "" {
		noa = cfg["notOnOrAfter"]
	}
	for _, b := range []struct {
		v   string
		out *time.Time
	}{{cfg["nbf"], &tp.NotBefore}, {noa, &tp.NotOnOrAfter}} {
		if strings.TrimSpace(b.v) == "" {
			continue
		}
		t, err := ParseTimePolicyDate(b.v, time.UTC)
		if err != nil {
			return TimePolicy{}, invalid("Could not parse a date using format [%s]", b.v)
		}
		*b.out = t
	}
	for f, key := range timeRangeKeys {
		start := strings.TrimSpace(cfg[key])
		if start == "" {
			continue
		}
		r := TimeRange{Field: TimeField(f)}
		var err error
		if r.Start, err = strconv.Atoi(start); err != nil {
			return TimePolicy{}, invalid("Could not parse a number [%s] for [%s]", cfg[key], key)
		}
		if end := strings.TrimSpace(cfg[key+"End"]); end != "" {
			r.HasEnd = true
			if r.End, err = strconv.Atoi(end); err != nil {
				return TimePolicy{}, invalid("Could not parse a number [%s] for [%s]", cfg[key+"End"], key+"End")
			}
		}
		tp.Ranges = append(tp.Ranges, r)
	}
	return tp, nil
}

// ParseTimePolicyDate reads a time policy date, "yyyy-MM-dd HH:mm:ss", or "yyyy-MM-dd" meaning
// its midnight, as a wall clock in loc.
func ParseTimePolicyDate(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) == 10 {
		s += " 00:00:00"
	}
	return time.ParseInLocation("2006-01-02 15:04:05", s, loc)
}
