package broker

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/idp"
)

// Social providers have fixed endpoints (package idp knows them). Those
// that issue ID tokens (Google, GitLab, LinkedIn) log in as any OpenID
// Connect provider does; GitHub, Microsoft (Graph) and Facebook answer an
// OAuth 2.0 access token only, and the user is read from their profile
// endpoint, whose fields each name differently.

// cfgEmailsURL carries GitHub's emails endpoint in the effective config.
const cfgEmailsURL = "emailsUrl"

// EffectiveConfig is the configuration a login through a provider of kind
// runs with: a social kind's fixed endpoints, issuer and default scope over
// what the provider's configuration says; other kinds' configuration as is.
func EffectiveConfig(kind idp.Kind, cfg map[string]string) map[string]string {
	out := make(map[string]string, len(cfg)+6)
	for k, v := range cfg {
		out[k] = v
	}
	if !kind.Social {
		return out
	}
	out[CfgAuthorizationURL], out[CfgTokenURL], out[CfgUserInfoURL] = kind.AuthorizationURL, kind.TokenURL, kind.UserInfoURL
	out[CfgJWKSURL], out[CfgIssuer], out[cfgEmailsURL] = kind.JWKSURL, kind.Issuer, kind.EmailsURL
	if out[CfgDefaultScope] == "" {
		out[CfgDefaultScope] = kind.DefaultScope
	}
	if out[CfgClientAuthMethod] == "" {
		out[CfgClientAuthMethod] = AuthSecretPost
	}
	return out
}

// idTokens says whether the provider issues ID tokens the broker checks:
// every configured OpenID Connect provider, and the social ones with keys.
func (p *OIDC) idTokens() bool { return p.Social == "" || p.Config[CfgJWKSURL] != "" }

// loginOAuth2 finishes a login at a social provider without ID tokens.
func (p *OIDC) loginOAuth2(ctx context.Context, code, redirectURI string) (Identity, error) {
	var id Identity
	t, err := p.Exchange(ctx, code, redirectURI, "")
	if err != nil {
		return id, err
	}
	get := func(u string, into any) error {
		resp, err := p.Out.Get(ctx, u, http.Header{"Authorization": {"Bearer " + t.AccessToken}, "Accept": {"application/json"}}, maxUpstreamBody)
		if err != nil {
			return fmt.Errorf("%w: profile: %w", ErrUpstream, err)
		}
		if resp.Status != http.StatusOK {
			return fmt.Errorf("%w: profile endpoint answered %d", ErrUpstream, resp.Status)
		}
		d := json.NewDecoder(strings.NewReader(string(resp.Body)))
		d.UseNumber()
		if err := d.Decode(into); err != nil {
			return fmt.Errorf("%w: profile: %w", ErrUpstream, err)
		}
		return nil
	}
	var c Claims
	if err := get(p.Config[CfgUserInfoURL], &c); err != nil {
		return id, err
	}
	switch p.Social {
	case "github":
		id = Identity{ID: c.String("id"), Username: c.String("login"), Email: c.String("email")}
		id.FirstName, id.LastName = splitName(c.String("name"))
		if u := p.Config[cfgEmailsURL]; id.Email == "" && u != "" {
			// A private address is only on the emails endpoint.
			var emails []struct {
				Email    string `json:"email"`
				Primary  bool   `json:"primary"`
				Verified bool   `json:"verified"`
			}
			if err := get(u, &emails); err == nil {
				for _, e := range emails {
					if e.Primary && e.Verified {
						id.Email, id.EmailVerified = e.Email, true
					}
				}
			}
		}
	case "microsoft":
		id = Identity{ID: c.String("id"), Username: c.String("userPrincipalName"), Email: c.String("mail"),
			FirstName: c.String("givenName"), LastName: c.String("surname")}
		if id.Email == "" {
			id.Email = c.String("userPrincipalName")
		}
	case "facebook":
		id = Identity{ID: c.String("id"), Email: c.String("email"), FirstName: c.String("first_name"), LastName: c.String("last_name")}
		id.Username = id.Email
	default:
		return id, fmt.Errorf("%w: provider %q has no ID tokens and no profile mapping", ErrConfig, p.Social)
	}
	if id.ID == "" {
		return id, fmt.Errorf("%w: profile without an id", ErrUpstream)
	}
	if id.Username == "" {
		id.Username = id.ID
	}
	id.Claims, id.Token = c, t.Raw
	return id, nil
}

func splitName(full string) (first, last string) {
	full = strings.TrimSpace(full)
	if i := strings.LastIndexByte(full, ' '); i > 0 {
		return full[:i], full[i+1:]
	}
	return full, ""
}
