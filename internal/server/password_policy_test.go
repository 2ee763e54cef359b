package server_test

// The realm's password policy on every way a user's password is replaced
// (issue 12, hole 2): the admin API's reset-password and user update, the
// account console's password form and the update-password page of a login. Each must refuse
// the same passwords with Keycloak's message, and each must keep the
// replaced password as history.

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

const (
	ppRealm    = "pp"
	ppPolicy   = "passwordHistory(3) and regexPattern(^Z.*) and notContainsUsername"
	ppTemp     = "bob-temp-pw1"
	msgHistory = "Invalid password: must not be equal to any of last 3 passwords."
	msgRegex   = "Invalid password: fails to match regex pattern(s)."
	msgNotUser = "Invalid password: Can not contain the username."
)

// ppEnv is realm "pp" with policy ppPolicy and user bob (password ppTemp,
// the realm's default roles), served over real HTTP.
type ppEnv struct {
	t     *testing.T
	db    *store.DB
	srv   *httptest.Server
	clock *bfClock
	rl    realm.Realm
	bob   user.User
}

func newPPEnv(t *testing.T, db *store.DB, requiredActions ...string) *ppEnv {
	t.Helper()
	ctx := context.Background()
	ck := &bfClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	if _, err := provision.Master(ctx, db, "admin", "admin-pw", ck.Now()); err != nil {
		t.Fatal(err)
	}
	rl := realm.New(store.NewID(), ppRealm)
	rl.PasswordPolicy = ppPolicy
	if err := provision.NewRealm(ctx, db, rl, ck.Now()); err != nil {
		t.Fatal(err)
	}
	rl, err := db.GetRealm(ctx, rl.ID)
	if err != nil {
		t.Fatal(err)
	}
	bob := user.User{ID: store.NewID(), RealmID: rl.ID, Username: "bob", Email: "bob@example.com", Enabled: true,
		CreatedTimestamp: ck.Now().UnixMilli(), RequiredActions: requiredActions}
	if err := db.CreateUser(ctx, bob); err != nil {
		t.Fatal(err)
	}
	if err := db.AddUserRoles(ctx, bob.ID, rl.DefaultRoleID); err != nil {
		t.Fatal(err)
	}
	cred, err := user.NewPasswordCredential(store.NewID(), bob.ID, ppTemp, ck.Now().UnixMilli(), user.HashPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.ReplacePassword(ctx, cred); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Options{Store: db, Now: ck.Now, Log: slog.New(slog.NewTextHandler(t.Output(), nil))}))
	t.Cleanup(srv.Close)
	return &ppEnv{t: t, db: db, srv: srv, clock: ck, rl: rl, bob: bob}
}

// adminReset sets bob's password through PUT .../reset-password and returns
// "" when it was taken, else the error_description.
func (e *ppEnv) adminReset(pw string) string {
	e.t.Helper()
	return e.adminPut("/reset-password", map[string]any{"type": "password", "value": pw, "temporary": false})
}

// adminUpdate sets bob's password through PUT .../users/{id} with a
// credential in the representation, like adminReset.
func (e *ppEnv) adminUpdate(pw string) string {
	e.t.Helper()
	return e.adminPut("", map[string]any{"credentials": []any{map[string]any{"type": "password", "value": pw, "temporary": false}}})
}

func (e *ppEnv) adminPut(path string, v any) string {
	e.t.Helper()
	e.clock.Add(time.Second)
	tok := adminToken(e.t, e.srv.URL, "admin-pw")
	body, _ := json.Marshal(v)
	r := do(e.t, http.MethodPut, e.srv.URL+"/admin/realms/"+ppRealm+"/users/"+e.bob.ID+path,
		map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}, strings.NewReader(string(body)))
	if r.status == http.StatusNoContent {
		return ""
	}
	var out struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if err := json.Unmarshal(r.body, &out); r.status != http.StatusBadRequest || err != nil || out.ErrorDescription == "" {
		e.t.Fatalf("PUT user%s: %d %s", path, r.status, r.body)
	}
	return out.ErrorDescription
}

func adminToken(t *testing.T, base, password string) string {
	t.Helper()
	r := do(t, http.MethodPost, base+"/realms/master/protocol/openid-connect/token",
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		strings.NewReader(url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {"admin"}, "password": {password}}.Encode()))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(r.body, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("admin token: %d %s", r.status, r.body)
	}
	return tok.AccessToken
}

// ppBrowser is a browser signed in to realm pp's account console.
type ppBrowser struct {
	e      *ppEnv
	client *http.Client
	page   string // the last page
	action string // where the last page's form posts
}

// ppMessage is a refused password's message on a page.
var ppMessage = regexp.MustCompile(`Invalid password: [^<]*`)

func (e *ppEnv) browser() *ppBrowser {
	jar, _ := cookiejar.New(nil)
	return &ppBrowser{e: e, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *ppBrowser) do(method, target string, form url.Values) (int, string) {
	b.e.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = b.e.srv.URL + target
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, target, body)
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.e.srv.URL)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	b.page = string(page)
	if m := formActionRe.FindStringSubmatch(b.page); m != nil {
		b.action = html.UnescapeString(m[1])
	}
	if resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusSeeOther {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	return resp.StatusCode, b.page
}

// fields are the hidden fields of the last page's form.
func (b *ppBrowser) fields() url.Values {
	f := url.Values{}
	for _, h := range hiddenInputRe.FindAllStringSubmatch(b.page, -1) {
		f.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	return f
}

// signIn opens the account console and posts bob's password to the login
// page; it returns the answer to that post.
func (b *ppBrowser) signIn(password string) (int, string) {
	b.e.t.Helper()
	st, loc := b.do("GET", "/realms/"+ppRealm+"/account/", nil)
	if st != http.StatusFound {
		b.e.t.Fatalf("console without a session: %d", st)
	}
	if st, _ := b.do("GET", loc, nil); st != http.StatusOK {
		b.e.t.Fatalf("login page: %d %s", st, b.page)
	}
	f := b.fields()
	f.Set("username", "bob")
	f.Set("password", password)
	return b.do("POST", b.action, f)
}

// enterConsole follows a login's redirect back into the console.
func (b *ppBrowser) enterConsole(loc string) {
	b.e.t.Helper()
	if st, _ := b.do("GET", loc, nil); st != http.StatusSeeOther {
		b.e.t.Fatalf("console after login: %d %s", st, b.page)
	}
}

// consoleChange posts the console's password form and returns "" when it
// was taken, else the policy message shown.
func (b *ppBrowser) consoleChange(current, pw string) string {
	b.e.t.Helper()
	b.e.clock.Add(time.Second)
	if st, _ := b.do("GET", "/realms/"+ppRealm+"/account/account-security/signing-in", nil); st != http.StatusOK {
		b.e.t.Fatalf("signing-in page: %d", st)
	}
	f := b.fields()
	f.Set("password", current)
	f.Set("password-new", pw)
	f.Set("password-confirm", pw)
	st, page := b.do("POST", "/realms/"+ppRealm+"/account/console/password", f)
	if st == http.StatusSeeOther {
		return ""
	}
	m := ppMessage.FindString(page)
	if st != http.StatusBadRequest || m == "" {
		b.e.t.Fatalf("console password change: %d %s", st, page)
	}
	return html.UnescapeString(m)
}

// updatePage posts the update-password page of a login and returns "" when
// the login went on, else the policy message shown.
func (b *ppBrowser) updatePage(pw string) string {
	b.e.t.Helper()
	b.e.clock.Add(time.Second)
	f := b.fields()
	f.Set("password-new", pw)
	f.Set("password-confirm", pw)
	action := b.action
	st, page := b.do("POST", action, f)
	if st == http.StatusFound {
		b.enterConsole(page)
		return ""
	}
	b.action = action
	m := ppMessage.FindString(page)
	if st != http.StatusOK || m == "" {
		b.e.t.Fatalf("update password page: %d %s", st, page)
	}
	return html.UnescapeString(m)
}

// Regression (issue 12): the update-password page checked only length and
// character classes, so it took back the temporary password and
// "abcbob-xyz!", and it kept no history.
func TestPasswordPolicyOnEveryPath(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		for _, path := range []struct {
			name     string
			required []string
			// start prepares the path and returns a browser signed in to
			// the console once the path is done, and how to set a password.
			start func(e *ppEnv) (set func(pw string) string, console func() *ppBrowser)
		}{
			{"admin reset-password", nil, func(e *ppEnv) (func(string) string, func() *ppBrowser) {
				return e.adminReset, func() *ppBrowser { return signedIn(e, "Zgood-pass1") }
			}},
			{"admin user update", nil, func(e *ppEnv) (func(string) string, func() *ppBrowser) {
				return e.adminUpdate, func() *ppBrowser { return signedIn(e, "Zgood-pass1") }
			}},
			{"account console", nil, func(e *ppEnv) (func(string) string, func() *ppBrowser) {
				b := signedIn(e, ppTemp)
				current := ppTemp
				return func(pw string) string {
					msg := b.consoleChange(current, pw)
					if msg == "" {
						current = pw
					}
					return msg
				}, func() *ppBrowser { return b }
			}},
			{"update-password page", []string{"UPDATE_PASSWORD"}, func(e *ppEnv) (func(string) string, func() *ppBrowser) {
				b := e.browser()
				if st, page := b.signIn(ppTemp); st != http.StatusOK || !strings.Contains(page, "Update password") {
					e.t.Fatalf("no update-password page: %d %s", st, page)
				}
				return b.updatePage, func() *ppBrowser { return b }
			}},
		} {
			t.Run(path.name, func(t *testing.T) {
				e := newPPEnv(t, open(t), path.required...)
				set, console := path.start(e)
				for _, tc := range []struct{ name, pw, want string }{
					{"the current password is history", ppTemp, msgHistory},
					{"a password that fails the pattern", "abcbob-xyz!", msgRegex},
					{"a password that holds the username", "Zbob-xyz!", msgNotUser},
					{"a password that holds the username in capitals", "ZBoB-xyz!", msgNotUser},
					{"a password that meets the policy", "Zgood-pass1", ""},
				} {
					if got := set(tc.pw); got != tc.want {
						t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
					}
				}
				// The replaced password was kept: reusing it, or the new one
				// after one more change, is refused through the console.
				b := console()
				if got := b.consoleChange("Zgood-pass1", ppTemp); got != msgHistory {
					t.Errorf("the replaced password again: got %q, want the history message", got)
				}
				if got := b.consoleChange("Zgood-pass1", "Zother-pass2"); got != "" {
					t.Fatalf("a second change: %q", got)
				}
				if got := b.consoleChange("Zother-pass2", "Zgood-pass1"); got != msgHistory {
					t.Errorf("back to the earlier password: got %q, want the history message", got)
				}
				creds, err := e.db.ListCredentials(t.Context(), e.bob.ID)
				if err != nil {
					t.Fatal(err)
				}
				var kept int
				for _, c := range creds {
					if c.Type == user.CredentialPasswordHistory {
						kept++
					}
				}
				if kept != 2 {
					t.Errorf("%d passwords kept as history, want 2 (passwordHistory(3) less the current one)", kept)
				}
				if u, _ := e.db.GetUser(t.Context(), e.rl.ID, e.bob.ID); len(u.RequiredActions) != 0 {
					t.Errorf("required actions left: %v", u.RequiredActions)
				}
			})
		}
	})
}

// signedIn is a browser signed in to the console as bob with password.
func signedIn(e *ppEnv, password string) *ppBrowser {
	e.t.Helper()
	b := e.browser()
	st, loc := b.signIn(password)
	if st != http.StatusFound {
		e.t.Fatalf("sign in: %d %s", st, loc)
	}
	b.enterConsole(loc)
	return b
}

// Creating a user with the ID of another realm's user must not test the
// password against that user's history: the answer would tell a realm's
// admin whether the password was the other user's.
func TestPasswordHistoryStaysInItsRealm(t *testing.T) {
	e := newPPEnv(t, storetest.Open(t))
	master, err := e.db.GetRealmByName(t.Context(), "master")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := e.db.GetUserByUsername(t.Context(), master.ID, "admin")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"id": admin.ID, "username": "carl", "enabled": true,
		"credentials": []any{map[string]any{"type": "password", "value": "admin-pw"}}})
	r := do(t, http.MethodPost, e.srv.URL+"/admin/realms/"+ppRealm+"/users",
		map[string]string{"Authorization": "Bearer " + adminToken(t, e.srv.URL, "admin-pw"), "Content-Type": "application/json"},
		strings.NewReader(string(body)))
	if strings.Contains(string(r.body), "invalidPasswordHistoryMessage") {
		t.Fatalf("the other realm's password history answered: %d %s", r.status, r.body)
	}
}
