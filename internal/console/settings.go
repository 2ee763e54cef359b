package console

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
)

// A settings form is a list of settings of one representation (a realm's
// tokens tab, …) that the console reads with GET, shows by kind and sends
// back with PUT as a partial representation holding exactly those fields.

// Kinds of setting.
const (
	kindSection  = "section"  // a heading, no value
	kindText     = "text"     // a string
	kindBool     = "bool"     // a checkbox
	kindNumber   = "number"   // a whole number, 0 or more
	kindDuration = "duration" // seconds, shown as a number and a unit
	kindSelect   = "select"   // one of Options
	kindList     = "list"     // strings, one a line; any of Options when set
	// kindMap is a list of name/value pairs kept as the JSON
	// [{"key":…,"value":…}] (a mapper's "Map" property, such as the claims
	// of the advanced claim mappers), edited as "name=value" lines.
	kindMap = "map"
)

// option is one choice of a select.
type option struct {
	Value, Label string
	Selected     bool
}

// spec describes one setting: its JSON name in the representation, its
// label and help text as Keycloak's console words them.
type spec struct {
	Kind, Name, Label, Help string
	Options                 []option // for kindSelect; for kindList, the values allowed
}

// setting is a spec with its current value, as the template shows it.
type setting struct {
	spec
	Text  string // kindText, kindNumber, kindSelect, kindList (one value a line)
	On    bool   // kindBool
	Dur   duration
	Error string
}

// fromJSON builds the settings from a representation read as JSON.
func fromJSON(specs []spec, values map[string]any) []setting {
	out := make([]setting, 0, len(specs))
	for _, sp := range specs {
		s := setting{spec: sp}
		v := values[sp.Name]
		switch sp.Kind {
		case kindText:
			s.Text, _ = v.(string)
		case kindSelect:
			s.Text, _ = v.(string)
			s.Options = selectOptions(sp.Options, s.Text)
		case kindList:
			list, _ := v.([]any)
			lines := make([]string, 0, len(list))
			for _, x := range list {
				if str, ok := x.(string); ok {
					lines = append(lines, str)
				}
			}
			s.Text = strings.Join(lines, "\n")
		case kindMap:
			j, _ := v.(string)
			s.Text = mapLines(j)
		case kindBool:
			s.On, _ = v.(bool)
		case kindNumber:
			f, _ := v.(float64)
			s.Text = strconv.FormatInt(int64(f), 10)
		case kindDuration:
			f, _ := v.(float64)
			s.Dur = newDuration(sp.Name, sp.Label, sp.Help, int(f))
		}
		out = append(out, s)
	}
	return out
}

func selectOptions(opts []option, value string) []option {
	out := make([]option, 0, len(opts)+1)
	found := false
	for _, o := range opts {
		o.Selected = o.Value == value
		found = found || o.Selected
		out = append(out, o)
	}
	if !found && value != "" {
		out = append(out, option{Value: value, Label: value, Selected: true})
	}
	return out
}

// fromForm reads the settings back from a submitted form. It returns the
// settings as submitted (to show them again), the partial representation to
// send, and whether every field could be read.
func fromForm(specs []spec, q *rq) ([]setting, map[string]any, bool) {
	out := make([]setting, 0, len(specs))
	body := map[string]any{}
	ok := true
	for _, sp := range specs {
		s := setting{spec: sp}
		switch sp.Kind {
		case kindText:
			s.Text = q.form(sp.Name)
			body[sp.Name] = s.Text
		case kindSelect:
			s.Text = q.form(sp.Name)
			s.Options = selectOptions(sp.Options, "")
			valid := false
			for i := range s.Options {
				if s.Options[i].Value == s.Text {
					s.Options[i].Selected, valid = true, true
				}
			}
			// Choices built from other calls (the realm's key algorithms)
			// may be missing; the API then judges the value.
			if !valid && len(s.Options) > 0 {
				s.Error, ok = "Choose one of the options.", false
			}
			body[sp.Name] = s.Text
		case kindList:
			s.Text = q.form(sp.Name)
			list := listLines(s.Text)
			for _, x := range list {
				if len(sp.Options) > 0 && !slices.ContainsFunc(sp.Options, func(o option) bool { return o.Value == x }) {
					s.Error, ok = "Not one of the values offered: "+x+".", false
				}
			}
			body[sp.Name] = list
		case kindMap:
			s.Text = strings.TrimSpace(q.r.PostForm.Get(sp.Name))
			j, valid := mapJSON(s.Text)
			if !valid {
				s.Error, ok = "Enter one pair per line, as name=value.", false
			}
			body[sp.Name] = j
		case kindBool:
			s.On = q.checked(sp.Name)
			body[sp.Name] = s.On
		case kindNumber:
			s.Text = q.form(sp.Name)
			n, err := strconv.Atoi(s.Text)
			if err != nil || n < 0 || n > math.MaxInt32 {
				s.Error, ok = "Enter a whole number, 0 or more.", false
			}
			body[sp.Name] = n
		case kindDuration:
			number, unit := q.form(sp.Name), q.form(sp.Name+".unit")
			secs, msg := parseDuration(number, unit)
			s.Dur = newDuration(sp.Name, sp.Label, sp.Help, secs)
			if msg != "" {
				s.Dur.Number, s.Error, ok = number, msg, false
				for i := range s.Dur.Units {
					s.Dur.Units[i].Selected = strconv.Itoa(s.Dur.Units[i].Seconds) == unit
				}
			}
			body[sp.Name] = secs
		}
		s.Dur.Error = s.Error
		out = append(out, s)
	}
	return out, body, ok
}

// listLines are the values of a list field: its lines, trimmed, without
// the empty ones.
func listLines(text string) []string {
	out := []string{}
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// markError shows an API error next to the setting it names: Keycloak's
// realm validation messages start with the field's JSON name
// ("accessTokenLifespan must not be negative").
func markError(settings []setting, msg string) {
	for i := range settings {
		s := &settings[i]
		if s.Name != "" && len(msg) > len(s.Name) && msg[:len(s.Name)+1] == s.Name+" " {
			s.Error, s.Dur.Error = msg, msg
		}
	}
}

// settingsData is the data of a settings page.
type settingsData struct {
	Action   string // where the form posts
	Settings []setting
	// Editable: the administrator may save; otherwise the form is shown
	// disabled and without a save button.
	Editable bool
}

// mapPair is one entry of a kindMap value.
type mapPair struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// mapLines shows a kindMap value as "name=value" lines; a value that is not
// such JSON is shown as it is, for the administrator to correct.
func mapLines(s string) string {
	var pairs []mapPair
	if s == "" || json.Unmarshal([]byte(s), &pairs) != nil {
		return s
	}
	var b strings.Builder
	for _, p := range pairs {
		b.WriteString(p.Key + "=" + p.Value + "\n")
	}
	return b.String()
}

// mapJSON reads "name=value" lines back into a kindMap value; a line
// without "=" or without a name is refused.
func mapJSON(s string) (string, bool) {
	pairs := []mapPair{}
	for _, l := range lines(s) {
		k, v, ok := strings.Cut(l, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return "", false
		}
		pairs = append(pairs, mapPair{strings.TrimSpace(k), strings.TrimSpace(v)})
	}
	b, err := json.Marshal(pairs)
	if err != nil {
		return "", false
	}
	return string(b), true
}
