package console

import (
	"math"
	"strconv"
	"strings"
)

// Time units of a duration field, in seconds. Keycloak's console shows a
// lifespan as a number and a unit (minutes, hours or days) and stores
// seconds.
const (
	second = 1
	minute = 60
	hour   = 60 * minute
	day    = 24 * hour
)

// unitOption is one choice of a duration's unit select.
type unitOption struct {
	Seconds  int
	Label    string
	Selected bool
}

// duration is a duration field as the form shows it.
type duration struct {
	Name   string // form field name; the unit is Name+".unit"
	Label  string
	Help   string
	Number string
	Units  []unitOption
	Error  string
}

// unitLabels name the units, largest first.
var unitLabels = []struct {
	seconds int
	label   string
}{{day, "Days"}, {hour, "Hours"}, {minute, "Minutes"}, {second, "Seconds"}}

// splitDuration shows seconds in the largest unit that holds it whole, as
// Keycloak's time selector does: 3600 is 1 hour, 5184000 is 60 days, 0 is 0
// minutes. A value that is no whole number of minutes is shown in seconds.
func splitDuration(seconds int) (n, unit int) {
	if seconds == 0 {
		return 0, minute
	}
	for _, u := range unitLabels {
		if seconds%u.seconds == 0 {
			return seconds / u.seconds, u.seconds
		}
	}
	return seconds, second
}

// newDuration is the field for a value in seconds. Seconds are offered as a
// unit only when the value needs them.
func newDuration(name, label, help string, seconds int) duration {
	n, unit := splitDuration(seconds)
	d := duration{Name: name, Label: label, Help: help, Number: strconv.Itoa(n)}
	for i := len(unitLabels) - 1; i >= 0; i-- {
		u := unitLabels[i]
		if u.seconds == second && unit != second {
			continue
		}
		d.Units = append(d.Units, unitOption{Seconds: u.seconds, Label: u.label, Selected: u.seconds == unit})
	}
	return d
}

// parseDuration reads a duration field back into seconds. It accepts a
// whole number from 0 up and one of the units; the result must fit the
// API's 32-bit integers.
func parseDuration(number, unit string) (int, string) {
	n, err := strconv.Atoi(strings.TrimSpace(number))
	if err != nil || n < 0 {
		return 0, "Enter a whole number, 0 or more."
	}
	u, err := strconv.Atoi(unit)
	switch {
	case err != nil:
		return 0, "Choose a unit."
	case u != second && u != minute && u != hour && u != day:
		return 0, "Choose a unit."
	case n > math.MaxInt32/u:
		return 0, "This is too long."
	}
	return n * u, ""
}
