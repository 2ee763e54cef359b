package mail

import (
	"context"
	"log/slog"
	"net/url"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// Mailer sends a realm's mail: action links (signed with the realm's
// internal key) and the administrator's test message.
type Mailer struct {
	Store  *store.DB
	Sender *Sender
	Log    *slog.Logger
	Now    func() time.Time
}

// ActionLink is the URL of an action token in realm realmURL, Keycloak's:
// /login-actions/action-token?key=…&client_id=…&tab_id=….
func ActionLink(realmURL, jwt, clientID, tabID string) string {
	link := realmURL + "/login-actions/action-token?key=" + url.QueryEscape(jwt)
	if clientID != "" {
		link += "&client_id=" + url.QueryEscape(clientID)
	}
	if tabID != "" {
		link += "&tab_id=" + url.QueryEscape(tabID)
	}
	return link
}

// SendAction signs a and mails u the message of kind holding its link.
// The realm must have mail settings; the recipient is the user's address.
func (m *Mailer) SendAction(ctx context.Context, rl realm.Realm, u user.User, a token.Action, kind, tabID string) error {
	st, err := ParseSettings(rl.SMTPServer)
	if err != nil {
		return err
	}
	ks, err := m.Store.ListKeys(ctx, rl.ID)
	if err != nil {
		return err
	}
	k, err := provision.SigningKey(ctx, m.Store, m.Log, rl, &ks, keys.HS512, m.Now())
	if err != nil {
		return err
	}
	jwt, err := token.Sign(a.Claims(), k)
	if err != nil {
		return err
	}
	link := ActionLink(a.Issuer, jwt, a.ClientID, tabID)
	msg := Render(Content{Kind: kind, Locale: Locale(rl, u), Realm: rl, Link: link,
		Expires: int(a.Expires - a.IssuedAt), Actions: a.Actions,
		IdentityProvider: a.IdentityProviderAlias, IdentityProviderUsername: a.IdentityProviderUsername}, u.Email)
	return m.sender().Send(ctx, st, msg)
}

// SendTest mails the test message to the address to with settings (the
// smtpServer map an administrator is trying out), in locale.
func (m *Mailer) SendTest(ctx context.Context, rl realm.Realm, settings map[string]string, to, locale string) error {
	st, err := ParseSettings(settings)
	if err != nil {
		return err
	}
	return m.sender().Send(ctx, st, Render(Content{Kind: KindTest, Locale: locale, Realm: rl}, to))
}

func (m *Mailer) sender() *Sender {
	if m.Sender != nil {
		return m.Sender
	}
	return &Sender{Now: m.Now}
}
