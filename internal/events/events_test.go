package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

// memStore keeps what a Recorder stores.
type memStore struct {
	events []events.Event
	admin  []events.AdminEvent
	fail   bool
}

func (m *memStore) CreateEvent(_ context.Context, e events.Event) error {
	if m.fail {
		return errors.New("disk full")
	}
	m.events = append(m.events, e)
	return nil
}

func (m *memStore) CreateAdminEvent(_ context.Context, e events.AdminEvent) error {
	if m.fail {
		return errors.New("disk full")
	}
	m.admin = append(m.admin, e)
	return nil
}

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func recorder() (events.Recorder, *memStore) {
	m := &memStore{}
	return events.Recorder{Store: m, Now: func() time.Time { return now }}, m
}

func TestWants(t *testing.T) {
	on := realm.New("r1", "demo")
	on.EventsEnabled = true
	listed := on
	listed.EnabledEventTypes = []string{"REFRESH_TOKEN", "LOGIN_ERROR"}
	off := realm.New("r1", "demo")
	for _, tc := range []struct {
		name string
		rl   realm.Realm
		typ  string
		want bool
	}{
		{"events disabled keep nothing", off, events.Login, false},
		{"no list: LOGIN is saved by default", on, events.Login, true},
		{"no list: LOGIN_ERROR is saved by default", on, events.LoginError, true},
		{"no list: REFRESH_TOKEN is not saved by default", on, events.RefreshToken, false},
		{"no list: INTROSPECT_TOKEN is not saved by default", on, events.IntrospectToken, false},
		{"no list: an unknown type is not saved", on, "NO_SUCH_TYPE", false},
		{"a list keeps exactly its types", listed, events.RefreshToken, true},
		{"a list leaves out the default ones it does not name", listed, events.Login, false},
		{"a list names error types separately", listed, events.LoginError, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := events.Wants(tc.rl, tc.typ); got != tc.want {
				t.Errorf("Wants(%s) = %v, want %v", tc.typ, got, tc.want)
			}
		})
	}
}

func TestDefaultTypes(t *testing.T) {
	d := events.DefaultTypes()
	for _, typ := range []string{"LOGIN", "LOGIN_ERROR", "LOGOUT", "CODE_TO_TOKEN", "CLIENT_LOGIN", "REVOKE_GRANT", "UPDATE_PASSWORD"} {
		if !slices.Contains(d, typ) {
			t.Errorf("default types lack %s", typ)
		}
	}
	for _, typ := range []string{"REFRESH_TOKEN", "REFRESH_TOKEN_ERROR", "INTROSPECT_TOKEN", "PERMISSION_TOKEN_ERROR"} {
		if slices.Contains(d, typ) {
			t.Errorf("default types hold %s, which Keycloak does not save by default", typ)
		}
	}
	all := events.Types()
	for _, typ := range d {
		if !slices.Contains(all, typ) {
			t.Errorf("default type %s is not a type", typ)
		}
	}
	if !slices.Contains(all, "REFRESH_TOKEN_ERROR") {
		t.Error("Types lacks error types")
	}
}

func TestRecord(t *testing.T) {
	rl := realm.New("r1", "demo")
	rl.EventsEnabled = true
	rc, m := recorder()
	rc.Record(context.Background(), rl, events.Event{
		Type: events.Login, RealmID: "forged", ClientID: "app", UserID: "u1", SessionID: "s1", IPAddress: "10.0.0.1",
		Details: map[string]string{
			events.DetailUsername: "alice", events.DetailAuthMethod: "openid-connect", events.DetailScope: "",
			"password": "hunter2", "code": "abc", "client_secret": "s3cr3t", "access_token": "eyJ...",
		},
	})
	if len(m.events) != 1 {
		t.Fatalf("stored %d events", len(m.events))
	}
	e := m.events[0]
	if e.RealmID != "r1" || e.Time != now.UnixMilli() || e.ClientID != "app" || e.UserID != "u1" || e.SessionID != "s1" {
		t.Errorf("fields: %+v", e)
	}
	want := map[string]string{events.DetailUsername: "alice", events.DetailAuthMethod: "openid-connect"}
	if len(e.Details) != len(want) || e.Details[events.DetailUsername] != "alice" || e.Details[events.DetailAuthMethod] != "openid-connect" {
		t.Errorf("details must keep only known harmless names: %v", e.Details)
	}

	// A username anyone can type is bounded, and stays valid UTF-8.
	rc.Record(context.Background(), rl, events.Event{Type: events.LoginError, ClientID: strings.Repeat("é", 300),
		Details: map[string]string{events.DetailUsername: strings.Repeat("x", 5000)}})
	e = m.events[1]
	if len(e.ClientID) > 255 || !strings.HasPrefix(e.ClientID, "éé") || strings.ContainsRune(e.ClientID, '\uFFFD') {
		t.Errorf("client id not bounded cleanly: %d bytes", len(e.ClientID))
	}
	if len(e.Details[events.DetailUsername]) > 2048 {
		t.Errorf("detail not bounded: %d bytes", len(e.Details[events.DetailUsername]))
	}

	rc.Record(context.Background(), rl, events.Event{Type: events.RefreshToken})
	if len(m.events) != 2 {
		t.Error("a type the realm does not keep was stored")
	}

	// A store failure is logged, not returned: the login goes on.
	m.fail = true
	rc.Record(context.Background(), rl, events.Event{Type: events.Login})
}

func TestRecordAdmin(t *testing.T) {
	body := []byte(`{"clientId":"svc","secret":"canary-1","attributes":{"client.secret.rotated":"old"}}`)
	for _, tc := range []struct {
		name    string
		enabled bool
		details bool
		stored  bool
		rep     string
	}{
		{"admin events disabled store nothing", false, true, false, ""},
		{"without details no representation", true, false, true, ""},
		{"with details the body, secrets masked", true, true, true,
			`{"attributes":{"client.secret.rotated":"**********"},"clientId":"svc","secret":"**********"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rl := realm.New("r1", "demo")
			rl.AdminEventsEnabled, rl.AdminEventsDetails = tc.enabled, tc.details
			rc, m := recorder()
			rc.RecordAdmin(context.Background(), rl, events.AdminEvent{OperationType: events.OpCreate,
				ResourceType: events.ResourceClient, ResourcePath: "clients/x", Representation: "forged"}, body)
			if got := len(m.admin) == 1; got != tc.stored {
				t.Fatalf("stored = %v, want %v", got, tc.stored)
			}
			if !tc.stored {
				return
			}
			e := m.admin[0]
			if e.RealmID != "r1" || e.Time != now.UnixMilli() || e.Representation != tc.rep {
				t.Errorf("got %+v, representation want %s", e, tc.rep)
			}
		})
	}
}

func TestMaskRepresentation(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want string
	}{
		{"client secret", `{"clientId":"a","secret":"s1"}`, `{"clientId":"a","secret":"**********"}`},
		{"credential value at any depth", `{"username":"u","credentials":[{"type":"password","value":"pw","temporary":false}]}`,
			`{"credentials":[{"temporary":false,"type":"password","value":"**********"}],"username":"u"}`},
		{"reset-password body", `{"type":"password","value":"pw","temporary":true}`, `{"temporary":true,"type":"password","value":"**********"}`},
		{"hashes of an imported credential", `{"secretData":"{\"value\":\"h\",\"salt\":\"s\"}","credentialData":"{\"hashIterations\":5}","hashedSaltedValue":"h","salt":"s"}`,
			`{"credentialData":"{\"hashIterations\":5}","hashedSaltedValue":"**********","salt":"**********","secretData":"**********"}`},
		{"smtp password, settings stay readable", `{"smtpServer":{"host":"mx","password":"p","authTokenClientSecret":"q"},"passwordPolicy":"length(8)","resetPasswordAllowed":true}`,
			`{"passwordPolicy":"length(8)","resetPasswordAllowed":true,"smtpServer":{"authTokenClientSecret":"**********","host":"mx","password":"**********"}}`},
		{"a secret that is an object or a number", `{"secret":{"a":"b"},"password":12345}`, `{"password":"**********","secret":"**********"}`},
		{"tokens and codes", `{"token":"t","refresh_token":"r","code":"c","registrationAccessToken":"x"}`,
			`{"code":"**********","refresh_token":"**********","registrationAccessToken":"**********","token":"**********"}`},
		{"a null secret stays null", `{"secret":null}`, `{"secret":null}`},
		{"numbers keep their text", `{"accessTokenLifespan":300,"big":12345678901234567890}`, `{"accessTokenLifespan":300,"big":12345678901234567890}`},
		{"arrays of roles", `[{"id":"1","name":"r"}]`, `[{"id":"1","name":"r"}]`},
		{"not JSON is not kept", `password=pw`, ``},
		{"two JSON values are not kept", `{"a":1} {"secret":"s"}`, ``},
		{"empty body", ``, ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := events.MaskRepresentation([]byte(tc.in))
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if got != "" && !json.Valid([]byte(got)) {
				t.Errorf("not JSON: %s", got)
			}
		})
	}
	big := `{"a":"` + strings.Repeat("x", events.MaxRepresentation) + `"}`
	if got := events.MaskRepresentation([]byte(big)); got != "" {
		t.Errorf("a body over the bound is not kept, got %d bytes", len(got))
	}
}
