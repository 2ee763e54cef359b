package token

import (
	"errors"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

func TestActionTokens(t *testing.T) {
	rsaKey, _, hs := testKeys(t)
	const iss = "https://id.example/realms/acme"
	a := Action{Type: ActionExecuteActions, UserID: "u1", Issuer: iss, ClientID: "account", ID: "j1",
		IssuedAt: 1000, Expires: 1300, Email: "a@example.com", Actions: []string{"UPDATE_PASSWORD"},
		RedirectURI: "https://app.example/", AuthSession: "as1"}
	raw, err := Sign(a.Claims(), hs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := VerifyAction(raw, []keys.Key{hs}, iss, 1299)
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != a.Type || got.UserID != "u1" || got.ClientID != "account" || got.ID != "j1" || got.Email != a.Email ||
		!slices.Equal(got.Actions, a.Actions) || got.RedirectURI != a.RedirectURI || got.AuthSession != "as1" || got.Expires != 1300 {
		t.Errorf("round trip: %+v", got)
	}
	// The first broker login's link names the upstream identity it links.
	link := Action{Type: ActionIdpVerifyAccountLink, UserID: "u1", Issuer: iss, ClientID: "app", ID: "j2", IssuedAt: 1000,
		Expires: 1300, Email: "a@example.com", AuthSession: "as2", IdentityProviderAlias: "corp", IdentityProviderUsername: "ann"}
	rawLink, err := Sign(link.Claims(), hs)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := VerifyAction(rawLink, []keys.Key{hs}, iss, 1000); err != nil || got.Type != ActionIdpVerifyAccountLink ||
		got.IdentityProviderAlias != "corp" || got.IdentityProviderUsername != "ann" || got.AuthSession != "as2" || got.Email != link.Email {
		t.Errorf("idp link round trip: %+v %v", got, err)
	}
	if _, err := VerifyAction(raw, []keys.Key{hs}, iss, 1300); !errors.Is(err, ErrActionExpired) {
		t.Errorf("at exp: %v", err)
	}
	if _, err := VerifyAction(raw, []keys.Key{hs}, "https://id.example/realms/other", 1000); err == nil {
		t.Error("another realm's token accepted")
	}
	// Signed with the realm's RSA key instead of its HMAC key: refused.
	rs, err := Sign(a.Claims(), rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyAction(rs, []keys.Key{hs, rsaKey}, iss, 1000); err == nil {
		t.Error("an RS256 action token accepted")
	}
	// Not an action token: a refresh token's typ.
	c := a.Claims()
	c["typ"] = "Refresh"
	other, _ := Sign(c, hs)
	if _, err := VerifyAction(other, []keys.Key{hs}, iss, 1000); err == nil {
		t.Error("a refresh token accepted as an action token")
	}
	rl := realm.Realm{ActionTokenGeneratedByUserLifespan: 300, ActionTokenGeneratedByAdminLifespan: 43200,
		Attributes: map[string]string{"actionTokenGeneratedByUserLifespan.reset-credentials": "900"}}
	if n := ActionLifespan(rl, ActionResetCredentials, false); n != 900 {
		t.Errorf("per-type override: %d", n)
	}
	if n := ActionLifespan(rl, ActionVerifyEmail, false); n != 300 {
		t.Errorf("user lifespan: %d", n)
	}
	if n := ActionLifespan(rl, ActionResetCredentials, true); n != 43200 {
		t.Errorf("admin lifespan: %d", n)
	}
}
