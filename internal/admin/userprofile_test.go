package admin_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// The user profile through the admin API: the default document, a custom
// attribute with validators enforced on POST and PUT /users, documents
// refused, metadata, the unmanaged attribute policy, and permissions.
func TestUserProfileAdmin(t *testing.T) {
	both(t, func(t *testing.T, s *testServer) {
		e := newUsersEnv(t, s, "up")
		p := e.path("/users/profile")

		// The default: the four root attributes; unmanaged attributes stay
		// the administrators'.
		var def map[string]any
		s.get(p, e.tok, &def)
		attrs, _ := def["attributes"].([]any)
		if len(attrs) != 4 || attrs[0].(map[string]any)["name"] != "username" || def["unmanagedAttributePolicy"] != "ADMIN_EDIT" {
			t.Fatalf("default profile: %v", def)
		}

		// Documents refused, with nothing stored.
		for name, doc := range map[string]string{
			"unknown validator": `{"attributes":[{"name":"username"},{"name":"email"},{"name":"x","validations":{"no-such":{}}}]}`,
			"bad pattern":       `{"attributes":[{"name":"username"},{"name":"email"},{"name":"x","validations":{"pattern":{"pattern":"(?<=a)b"}}}]}`,
			"email removed":     `{"attributes":[{"name":"username"}]}`,
			"duplicate":         `{"attributes":[{"name":"username"},{"name":"email"},{"name":"email"}]}`,
			"bad policy":        `{"attributes":[{"name":"username"},{"name":"email"}],"unmanagedAttributePolicy":"SOMETIMES"}`,
			"bad role":          `{"attributes":[{"name":"username"},{"name":"email"},{"name":"x","permissions":{"view":["root"],"edit":[]}}]}`,
			"not JSON":          `{"attributes":`,
		} {
			st, _, b := s.do("PUT", p, e.tok, doc)
			if st != 400 || !strings.Contains(string(b), `"errorMessage"`) {
				t.Errorf("%s: %d %s", name, st, b)
			}
		}
		var still map[string]any
		s.get(p, e.tok, &still)
		if len(still["attributes"].([]any)) != 4 {
			t.Fatalf("a refused document was stored: %v", still)
		}

		// A profile with validated custom attributes and no unmanaged ones.
		doc := `{"attributes":[
			{"name":"username","validations":{"length":{"min":3,"max":255}},"permissions":{"view":["admin","user"],"edit":["admin","user"]}},
			{"name":"email","validations":{"email":{}},"permissions":{"view":["admin","user"],"edit":["admin","user"]}},
			{"name":"firstName","permissions":{"view":["admin","user"],"edit":["admin","user"]}},
			{"name":"lastName","permissions":{"view":["admin","user"],"edit":["admin","user"]}},
			{"name":"employeeNumber","displayName":"Employee number","group":"work",
			 "validations":{"pattern":{"pattern":"^[0-9]{4}$","error-message":"employeeNumberInvalid"}},
			 "annotations":{"inputType":"text"},
			 "required":{"roles":["admin"]},
			 "permissions":{"view":["admin","user"],"edit":["admin"]}},
			{"name":"shoeSize","validations":{"integer":{"min":30,"max":50}},"permissions":{"view":["admin"],"edit":["admin"]}},
			{"name":"height","validations":{"double":{"min":0.5}},"permissions":{"view":["admin"],"edit":["admin"]}},
			{"name":"site","validations":{"uri":{}},"permissions":{"view":["admin"],"edit":["admin"]}},
			{"name":"team","validations":{"options":{"options":["red","blue"]}},"permissions":{"view":["admin"],"edit":["admin"]}},
			{"name":"nick","validations":{"length":{"min":2,"max":4},"person-name-prohibited-characters":{}},"permissions":{"view":["admin"],"edit":["admin"]}},
			{"name":"backup","validations":{"email":{}},"permissions":{"view":["admin"],"edit":["admin"]}},
			{"name":"handle","validations":{"username-prohibited-characters":{}},"permissions":{"view":["admin"],"edit":["admin"]}}],
			"groups":[{"name":"work","displayHeader":"Work"}]}`
		st, _, b := s.do("PUT", p, e.tok, doc)
		if st != 200 || !strings.Contains(string(b), "employeeNumber") {
			t.Fatalf("PUT profile: %d %s", st, b)
		}
		var stored map[string]any
		s.get(p, e.tok, &stored)
		if len(stored["attributes"].([]any)) != 12 || stored["unmanagedAttributePolicy"] != nil {
			t.Fatalf("stored profile: %v", stored)
		}

		good := map[string][]string{"employeeNumber": {"1234"}, "shoeSize": {"42"}, "height": {"1.8"},
			"site": {"https://example.org/x"}, "team": {"red"}, "nick": {"Al"}, "backup": {"b@example.org"}, "handle": {"al_1"}}
		with := func(k, v string) map[string][]string {
			out := map[string][]string{}
			for kk, vv := range good {
				out[kk] = vv
			}
			if v == "" {
				delete(out, k)
			} else {
				out[k] = []string{v}
			}
			return out
		}
		type errBody struct {
			Field        string   `json:"field"`
			ErrorMessage string   `json:"errorMessage"`
			Params       []string `json:"params"`
		}
		for _, tc := range []struct{ attr, value, msg string }{
			{"employeeNumber", "12ab", "employeeNumberInvalid"},
			{"employeeNumber", "", "error-user-attribute-required"},
			{"shoeSize", "big", "error-invalid-number"},
			{"shoeSize", "51", "error-number-out-of-range"},
			{"height", "0.1", "error-number-out-of-range-too-small"},
			{"site", "ftp://example.org", "error-invalid-uri-scheme"},
			{"site", "not a uri", "error-invalid-uri"},
			{"team", "green", "error-invalid-value"},
			{"nick", "Alexander", "error-invalid-length"},
			{"nick", "A<b", "error-person-name-invalid-character"},
			{"backup", "no-at-sign", "error-invalid-email"},
			{"handle", "a/b", "error-username-invalid-character"},
		} {
			st, _, b := s.do("POST", e.path("/users"), e.tok, map[string]any{"username": "bad-" + tc.attr, "attributes": with(tc.attr, tc.value)})
			var eb errBody
			json.Unmarshal(b, &eb)
			if st != 400 || eb.Field != tc.attr || eb.ErrorMessage != tc.msg {
				t.Errorf("POST %s=%q: %d %s, want 400 %s", tc.attr, tc.value, st, b, tc.msg)
			}
		}
		var none []any
		s.get(e.path("/users?username=bad-"), e.tok, &none)
		if len(none) != 0 {
			t.Errorf("refused users were created: %v", none)
		}

		// Good values are stored; an unmanaged attribute is dropped, as the
		// profile (no policy) does not keep them.
		attrs2 := with("", "")
		attrs2["unmanaged"] = []string{"x"}
		st, h, b := s.do("POST", e.path("/users"), e.tok, map[string]any{"username": "alice", "attributes": attrs2})
		if st != 201 {
			t.Fatalf("good user: %d %s", st, b)
		}
		loc := h.Get("Location")
		id := loc[strings.LastIndex(loc, "/")+1:]
		var u map[string]any
		s.get(e.path("/users/"+id), e.tok, &u)
		ua := u["attributes"].(map[string]any)
		if ua["employeeNumber"].([]any)[0] != "1234" || ua["unmanaged"] != nil {
			t.Errorf("stored attributes: %v", ua)
		}
		// PUT: the pattern refuses with the attribute's own message; the
		// user is unchanged.
		st, _, b = s.do("PUT", e.path("/users/"+id), e.tok, map[string]any{"attributes": with("employeeNumber", "99")})
		var eb errBody
		json.Unmarshal(b, &eb)
		if st != 400 || eb.ErrorMessage != "employeeNumberInvalid" || len(eb.Params) != 2 || eb.Params[0] != "Employee number" {
			t.Errorf("PUT bad employeeNumber: %d %s", st, b)
		}
		s.get(e.path("/users/"+id), e.tok, &u)
		if u["attributes"].(map[string]any)["employeeNumber"].([]any)[0] != "1234" {
			t.Errorf("refused PUT changed the user: %v", u)
		}
		if st, _, b := s.do("PUT", e.path("/users/"+id), e.tok, map[string]any{"attributes": with("employeeNumber", "4321")}); st != 204 {
			t.Errorf("PUT good employeeNumber: %d %s", st, b)
		}

		// Metadata for administrators: every attribute, required and
		// read-only as the profile says, with its group.
		var md struct {
			Attributes []struct {
				Name     string `json:"name"`
				Required bool   `json:"required"`
				ReadOnly bool   `json:"readOnly"`
				Group    string `json:"group"`
			} `json:"attributes"`
			Groups []struct{ Name string } `json:"groups"`
		}
		s.get(p+"/metadata", e.tok, &md)
		if len(md.Attributes) != 12 || md.Attributes[4].Name != "employeeNumber" || !md.Attributes[4].Required ||
			md.Attributes[4].ReadOnly || md.Attributes[4].Group != "work" || len(md.Groups) != 1 {
			t.Errorf("metadata: %+v", md)
		}

		// Unmanaged attributes under ADMIN_EDIT: kept, and listed.
		pol := strings.Replace(doc, `"groups":`, `"unmanagedAttributePolicy":"ADMIN_EDIT","groups":`, 1)
		if st, _, b := s.do("PUT", p, e.tok, pol); st != 200 {
			t.Fatalf("PUT ADMIN_EDIT: %d %s", st, b)
		}
		attrs3 := with("employeeNumber", "4321")
		attrs3["dept"] = []string{"research"}
		if st, _, b := s.do("PUT", e.path("/users/"+id), e.tok, map[string]any{"attributes": attrs3}); st != 204 {
			t.Fatalf("PUT unmanaged: %d %s", st, b)
		}
		var un map[string][]string
		s.get(e.path("/users/"+id+"/unmanagedAttributes"), e.tok, &un)
		if len(un) != 1 || un["dept"][0] != "research" {
			t.Errorf("unmanagedAttributes: %v", un)
		}
		if st, _, _ := s.do("GET", e.path("/users/nope/unmanagedAttributes"), e.tok, nil); st != 404 {
			t.Errorf("unknown user: %d", st)
		}

		// The partial export carries the profile, never the realm's keys.
		st, _, b = s.do("POST", e.path("/partial-export"), e.tok, nil)
		if st != 200 || !strings.Contains(string(b), "kc.user.profile.config") || !strings.Contains(string(b), "employeeNumber") ||
			strings.Contains(string(b), "privateKey") || strings.Contains(string(b), "org.keycloak.keys.KeyProvider") {
			t.Errorf("partial export: %d %s", st, b)
		}

		// Permissions: reading needs an admin role of the realm, writing
		// manage-realm.
		viewer := s.realmAdmin(e.realm, "viewer", "view-users")
		if st, _, _ := s.do("GET", p, viewer, nil); st != 200 {
			t.Errorf("GET as view-users: %d", st)
		}
		if st, _, _ := s.do("PUT", p, viewer, doc); st != 403 {
			t.Errorf("PUT as view-users: %d", st)
		}
		if st, _, _ := s.do("GET", p, "", nil); st != 401 {
			t.Errorf("GET without a token: %d", st)
		}
	})
}
