package regpolicy

import (
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

func TestTrustedHosts(t *testing.T) {
	hosts := []string{"10.0.0.7", "localhost", "*.corp.example", "app.example"}
	for _, c := range []struct {
		ip   string
		want bool
	}{{"10.0.0.7", true}, {"10.0.0.8", false}, {"127.0.0.1", true}, {"::1", true}, {"", false}, {"not-an-ip", false}} {
		if got := hostTrusted(c.ip, hosts); got != c.want {
			t.Errorf("hostTrusted(%q) = %v", c.ip, got)
		}
	}
	for _, c := range []struct {
		cl   Client
		want string
	}{
		{Client{RedirectURIs: []string{"https://app.example/cb", "https://x.corp.example/cb", "https://corp.example/"}}, ""},
		{Client{RedirectURIs: []string{"https://evil.example/cb"}}, "URI doesn't match any trusted host or trusted domain"},
		{Client{RootURL: "https://app.example", BaseURL: "/home", RedirectURIs: []string{"/cb"}}, ""},
		{Client{RootURL: "https://evil.example", RedirectURIs: []string{"/cb"}}, "URL doesn't match any trusted host or trusted domain"},
		{Client{AdminURL: "https://app.example.evil/"}, "URL doesn't match any trusted host or trusted domain"},
	} {
		if got := urlsTrusted(c.cl, hosts); got != c.want {
			t.Errorf("urlsTrusted(%+v) = %q, want %q", c.cl, got, c.want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, p := range Defaults() {
		if err := Validate(p); err != nil {
			t.Errorf("default %s: %v", p.Name, err)
		}
	}
	for _, p := range []realm.RegistrationPolicy{
		{ProviderID: "nope", SubType: Anonymous},
		{ProviderID: Scope, SubType: "both"},
		{ProviderID: TrustedHosts, SubType: Anonymous, Config: map[string][]string{cfgHostMustMatch: {"false"}, cfgURIsMustMatch: {"false"}}},
		{ProviderID: TrustedHosts, SubType: Anonymous, Config: map[string][]string{cfgHostMustMatch: {"yes"}}},
		{ProviderID: MaxClients, SubType: Anonymous, Config: map[string][]string{cfgMaxClients: {"-1"}}},
	} {
		if Validate(p) == nil {
			t.Errorf("%+v accepted", p)
		}
	}
}

func TestOfIsStable(t *testing.T) {
	r := realm.New("r1", "r")
	a, b := Of(r), Of(r)
	if len(a) != 10 || a[0].ID != b[0].ID || a[0].ID == Of(realm.New("r2", "r"))[0].ID {
		t.Errorf("ids %v %v", a[0].ID, b[0].ID)
	}
}
