package console

import "testing"

func TestSplitDuration(t *testing.T) {
	for _, tt := range []struct {
		seconds, n, unit int
		name             string
	}{
		{0, 0, minute, "zero is 0 minutes"},
		{60, 1, minute, "SSO idle of story 1 is 1 minute"},
		{300, 5, minute, "access token default"},
		{1800, 30, minute, "SSO idle default"},
		{3600, 1, hour, "an hour"},
		{36000, 10, hour, "SSO max default"},
		{5184000, 60, day, "offline idle of story 1 is 60 days"},
		{90, 90, second, "no whole minutes: seconds"},
	} {
		if n, unit := splitDuration(tt.seconds); n != tt.n || unit != tt.unit {
			t.Errorf("%s: %d → %d × %d, want %d × %d", tt.name, tt.seconds, n, unit, tt.n, tt.unit)
		}
	}
}

func TestNewDurationOffersSecondsOnlyWhenNeeded(t *testing.T) {
	if d := newDuration("x", "X", "", 3600); len(d.Units) != 3 || !d.Units[1].Selected || d.Number != "1" {
		t.Errorf("1 hour: %+v", d)
	}
	if d := newDuration("x", "X", "", 45); len(d.Units) != 4 || !d.Units[0].Selected || d.Units[0].Seconds != second {
		t.Errorf("45 s: %+v", d)
	}
}

func TestParseDuration(t *testing.T) {
	for _, tt := range []struct {
		number, unit string
		want         int
		ok           bool
	}{
		{"1", "60", 60, true},
		{" 60 ", "86400", 5184000, true},
		{"0", "3600", 0, true},
		{"-1", "60", 0, false},
		{"1.5", "60", 0, false},
		{"x", "60", 0, false},
		{"1", "7", 0, false},
		{"1", "", 0, false},
		{"100000", "86400", 0, false}, // past 2^31-1 seconds
	} {
		got, msg := parseDuration(tt.number, tt.unit)
		if (msg == "") != tt.ok || got != tt.want {
			t.Errorf("%q %q: %d %q", tt.number, tt.unit, got, msg)
		}
	}
}

func TestDisplayText(t *testing.T) {
	for in, want := range map[string]string{
		"${role_view-users}":         "View users",
		"${role_uma_authorization}":  "Obtain permissions",
		"${client_my-app}":           "My app",
		"${profileScopeConsentText}": "User profile",
		"plain":                      "plain",
		"${unknownKey}":              "${unknownKey}",
		"<b>${role_view-users}</b>":  "<b>${role_view-users}</b>",
	} {
		if got := displayText(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
