package authz

import (
	"errors"
	"testing"
	"time"
)

// Validation and evaluation read a time policy with one parser: whatever ValidatePolicy accepts,
// ParseTimePolicy reads, and what it cannot read is refused with the value named.
func TestTimePolicyValues(t *testing.T) {
	cases := []struct {
		name string
		cfg  map[string]string
		want TimePolicy // compared when err is ""
		err  string
	}{
		{"date and time", map[string]string{"nbf": "2020-01-01 10:00:00"}, TimePolicy{NotBefore: time.Date(2020, 1, 1, 10, 0, 0, 0, time.UTC)}, ""},
		{"a date alone is its midnight", map[string]string{"noa": " 2020-02-29 "}, TimePolicy{NotOnOrAfter: time.Date(2020, 2, 29, 0, 0, 0, 0, time.UTC)}, ""},
		{"both bounds", map[string]string{"nbf": "2020-01-01", "noa": "2021-01-01 23:59:59"},
			TimePolicy{NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotOnOrAfter: time.Date(2021, 1, 1, 23, 59, 59, 0, time.UTC)}, ""},
		{"ranges", map[string]string{"hour": "8", "hourEnd": "17", "month": "3", "dayMonthEnd": "4"},
			TimePolicy{Ranges: []TimeRange{{Field: Month, Start: 3}, {Field: Hour, Start: 8, End: 17, HasEnd: true}}}, ""},
		{"empty values are absent", map[string]string{"nbf": "", "minute": "", "minuteEnd": ""}, TimePolicy{}, ""},
		{"a time without seconds", map[string]string{"nbf": "2020-01-01 10:00"}, TimePolicy{}, "Could not parse a date using format [2020-01-01 10:00]"},
		{"no date", map[string]string{"noa": "tomorrow"}, TimePolicy{}, "Could not parse a date using format [tomorrow]"},
		{"a day that does not exist", map[string]string{"noa": "2021-02-29"}, TimePolicy{}, "Could not parse a date using format [2021-02-29]"},
		{"a range that is no number", map[string]string{"hour": "8am"}, TimePolicy{}, "Could not parse a number [8am] for [hour]"},
		{"a range end that is no number", map[string]string{"year": "2020", "yearEnd": "later"}, TimePolicy{}, "Could not parse a number [later] for [yearEnd]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseTimePolicy(c.cfg)
			p := Policy{Name: "t", Type: "time", Logic: Positive, DecisionStrategy: Unanimous, Config: c.cfg}
			verr := ValidatePolicy(p)
			if c.err != "" {
				var e *Error
				if !errors.As(err, &e) || e.Msg != c.err {
					t.Fatalf("parse: %v, want %q", err, c.err)
				}
				if verr == nil || verr.Error() != c.err {
					t.Fatalf("validate: %v, want %q", verr, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.NotBefore.Equal(c.want.NotBefore) || !got.NotOnOrAfter.Equal(c.want.NotOnOrAfter) || len(got.Ranges) != len(c.want.Ranges) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			for i := range got.Ranges {
				if got.Ranges[i] != c.want.Ranges[i] {
					t.Fatalf("got %+v, want %+v", got.Ranges, c.want.Ranges)
				}
			}
			if verr != nil {
				t.Fatalf("validate refused what evaluation reads: %v", verr)
			}
		})
	}
}
