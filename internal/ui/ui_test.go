package ui

import (
	"bytes"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func TestEveryPageRenders(t *testing.T) {
	u := Default()
	pages, err := fs.Glob(FS(), "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	data := Page{Realm: "Demo <Realm>", Resources: "/resources/v", Title: "loginAccountTitle",
		Message: &Message{Type: "error", Text: "bad <b>"}, Action: "/x?a=1&b=2", CSRF: "tok", Username: `"><script>`,
		UsernameLabel: "usernameOrEmail", ShowRememberMe: true, Client: "App", Scopes: []string{"User profile"},
		PostTo: "https://app.example/cb", Params: []Param{{"code", "c<1>"}}, Result: "supported"}
	for _, file := range pages {
		name := strings.TrimPrefix(file, "templates/")
		if name == "layout.html" {
			continue
		}
		for _, locale := range Locales() {
			var buf bytes.Buffer
			if err := u.Render(&buf, name, data.WithLocale(locale)); err != nil {
				t.Fatalf("%s in %s: %v", name, locale, err)
			}
			out := buf.String()
			if strings.Contains(out, "<script>\"") || strings.Contains(out, `"><script>`) || strings.Contains(out, "<b>") {
				t.Errorf("%s: data not escaped: %s", name, out)
			}
		}
	}
}

// Every message key a template or the login package uses must exist in
// English, the fallback of every locale; a missing key would show as the
// key itself.
func TestTemplateMessageKeysExist(t *testing.T) {
	key := regexp.MustCompile(`\.T "([A-Za-z0-9_.-]+)"`)
	pages, _ := fs.Glob(FS(), "templates/*.html")
	for _, file := range pages {
		b, _ := fs.ReadFile(FS(), file)
		for _, m := range key.FindAllStringSubmatch(string(b), -1) {
			if _, ok := messagesEN[m[1]]; !ok {
				t.Errorf("%s uses unknown message %q", file, m[1])
			}
		}
	}
	for locale, c := range catalogs {
		for k := range c.messages {
			if _, ok := messagesEN[k]; !ok {
				t.Errorf("%s has %q, which English lacks", locale, k)
			}
		}
	}
}

func TestMessages(t *testing.T) {
	if got := Text("en", "invalidUserMessage"); got != "Invalid username or password." {
		t.Errorf("invalidUserMessage = %q", got)
	}
	if got := Text("en", "loginAccountTitle"); got != "Sign in to your account" {
		t.Errorf("loginAccountTitle = %q", got)
	}
	if got := Text("de", "oauthGrantTitle", "App"); got != "Zugriff für App gewähren" {
		t.Errorf("argument: %q", got)
	}
	if got := Text("de", "cookieNotFoundMessage"); got != messagesEN["cookieNotFoundMessage"] {
		t.Errorf("missing German text does not fall back to English: %q", got)
	}
	if got := Text("xx", "doLogIn"); got != "Sign In" {
		t.Errorf("unknown locale: %q", got)
	}
	if got := Resolve("en", "${profileScopeConsentText}"); got != "User profile" {
		t.Errorf("Resolve = %q", got)
	}
	if got := Resolve("en", "${notAKey}"); got != "${notAKey}" {
		t.Errorf("Resolve of an unknown key = %q", got)
	}
}

func TestPickLocale(t *testing.T) {
	all := []string{"en", "de"}
	for _, tt := range []struct {
		supported            []string
		uiLocales, accept    string
		fallback, want, name string
	}{
		{all, "de", "", "", "de", "ui_locales"},
		{all, "fr de-AT", "", "", "de", "first supported ui_locale, by language"},
		{all, "", "fr;q=0.9, de-CH;q=0.8, en;q=0.1", "", "de", "Accept-Language by q"},
		{all, "", "de;q=0", "", "en", "q=0 is a refusal"},
		{[]string{"en"}, "de", "de", "", "en", "unsupported locale"},
		{all, "", "", "de", "de", "realm default"},
		{all, "", "", "", "en", "English last"},
		{[]string{"fr"}, "fr", "", "", "en", "supported locale without a catalogue"},
	} {
		if got := PickLocale(tt.supported, tt.uiLocales, tt.accept, tt.fallback); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestScriptSourceMatchesTheInlinedScript(t *testing.T) {
	u := Default()
	var buf bytes.Buffer
	if err := u.Render(&buf, "form-post.html", Page{PostTo: "https://a.example/cb"}.WithLocale("en")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "<script>"+u.scripts["form-post.js"]+"</script>") {
		t.Fatal("the inlined script differs from the file the hash is taken of")
	}
	if src := u.ScriptSource("form-post.js"); !strings.HasPrefix(src, "'sha256-") || len(src) != len("'sha256-'")+44 {
		t.Errorf("ScriptSource = %q", src)
	}
}

func TestAssets(t *testing.T) {
	u := Default()
	for _, tt := range []struct {
		path  string
		code  int
		cache string
	}{
		{"/resources/" + u.Version() + "/login.css", 200, "immutable"},
		{"/resources/old/login.css", 200, "no-cache"},
		{"/resources/" + u.Version() + "/nope.css", 404, ""},
		{"/resources/" + u.Version() + "/", 404, ""},
		{"/resources/login.css", 404, ""},
	} {
		rec := httptest.NewRecorder()
		u.Assets().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
		if rec.Code != tt.code || !strings.Contains(rec.Header().Get("Cache-Control"), tt.cache) {
			t.Errorf("%s: %d %q", tt.path, rec.Code, rec.Header().Get("Cache-Control"))
		}
	}
}

func TestThemeFromAnotherFS(t *testing.T) {
	theme := fstest.MapFS{
		"templates/layout.html":    {Data: []byte(`{{define "layout"}}<main>{{template "content" .}}</main>{{end}}`)},
		"templates/login.html":     {Data: []byte(`{{define "content"}}custom {{.T "doLogIn"}}{{end}}`)},
		"templates/form-post.html": {Data: []byte(`<script>{{script "a.js"}}</script>`)},
		"static/a.js":              {Data: []byte(`go()`)},
	}
	u, err := New(theme)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := u.Render(&buf, "login.html", Page{}.WithLocale("en")); err != nil || buf.String() != "<main>custom Sign In</main>" {
		t.Fatalf("%q %v", buf.String(), err)
	}
}

// Regression: the consent page's <title> read "Grant Access to {0}"; the
// title's arguments must reach the <title> as well as the heading.
func TestTitleArguments(t *testing.T) {
	for locale, want := range map[string]string{"en": "Grant Access to App", "de": "Zugriff für App gewähren"} {
		var buf bytes.Buffer
		p := Page{Realm: "Demo", Title: "oauthGrantTitle", TitleArgs: []string{"App"}, Client: "App"}
		if err := Default().Render(&buf, "consent.html", p.WithLocale(locale)); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if !strings.Contains(out, "<title>"+want+" – Demo</title>") || !strings.Contains(out, `<h1 id="page-title">`+want+"</h1>") {
			t.Errorf("%s: title or heading lacks %q: %s", locale, want, out)
		}
		if strings.Contains(out, "{0}") {
			t.Errorf("%s: unfilled placeholder: %s", locale, out)
		}
	}
}
