// Package uma owns UMA 2.0 as Gatehouse serves it: the permission ticket a
// resource server obtains for a client, the permissions a requesting party
// token (RPT) carries, and the translation of a uma-ticket grant's
// permission requests into the evaluator's terms (package decide). The HTTP
// endpoints live in package oidc (the grant) and package protection (the
// protection API); both call this package.
package uma

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/token"
)

// GrantType is the uma-ticket grant (UMA 2.0 Grant §3.3.1).
const GrantType = "urn:ietf:params:oauth:grant-type:uma-ticket"

// Response modes of the uma-ticket grant besides the RPT itself.
const (
	ModeDecision    = "decision"
	ModePermissions = "permissions"
)

// Permission is a permission as a ticket asks for it and an RPT grants it:
// a resource id (rsid) and scope names. Claims are the ones a resource
// server pushed with a ticket request.
type Permission struct {
	Scopes       []string            `json:"scopes,omitempty"`
	Claims       map[string][]string `json:"claims,omitempty"`
	ResourceID   string              `json:"rsid,omitempty"`
	ResourceName string              `json:"rsname,omitempty"`
}

// Error is a refusal with an OAuth error code, answered as is by the
// endpoint that called this package.
type Error struct {
	Status     int
	Code, Desc string
}

func (e *Error) Error() string { return e.Code + ": " + e.Desc }

func fail(status int, code, desc string) *Error {
	return &Error{Status: status, Code: code, Desc: desc}
}

// ParsePermission reads one "permission" parameter of the grant:
// "resource", "resource#scope1,scope2" or "#scope" (scopes on any resource).
func ParsePermission(v string) Permission {
	res, scopes, found := strings.Cut(v, "#")
	p := Permission{ResourceID: strings.TrimSpace(res)}
	if found {
		for _, s := range strings.Split(scopes, ",") {
			if s = strings.TrimSpace(s); s != "" && !slices.Contains(p.Scopes, s) {
				p.Scopes = append(p.Scopes, s)
			}
		}
	}
	return p
}

// Ticket is a permission ticket: what a resource server asked on behalf of
// a client, for the client to redeem at the token endpoint. It is a JWT
// signed by the realm, so any node can verify it and nothing is stored.
type Ticket struct {
	Permissions []Permission
	Claims      map[string][]string
	// Audience is the clientId of the resource server.
	Audience string
	// Subject and IssuedFor are those of the token that asked for it.
	Subject, IssuedFor string
	ID                 string
	IssuedAt, Expires  int64
}

// SignTicket signs t with k.
func SignTicket(t Ticket, k keys.Key) (string, error) {
	perms := t.Permissions
	if perms == nil {
		perms = []Permission{}
	}
	claims := map[string]any{"jti": t.ID, "iat": t.IssuedAt, "aud": t.Audience, "permissions": perms}
	if t.Expires > 0 {
		claims["exp"] = t.Expires
	}
	if t.Subject != "" {
		claims["sub"] = t.Subject
	}
	if t.IssuedFor != "" {
		claims["azp"] = t.IssuedFor
	}
	if len(t.Claims) > 0 {
		claims["claims"] = t.Claims
	}
	return token.Sign(claims, k)
}

// VerifyTicket checks raw's signature against the realm's keys and that it
// is a ticket that has not expired. Tokens carry a typ and tickets none, so
// an access token cannot pass for a ticket nor a ticket for a token. It
// answers ErrTicketSignature or ErrTicketInactive.
func VerifyTicket(raw string, ks []keys.Key, now time.Time) (Ticket, error) {
	claims, err := token.VerifySigned(raw, ks)
	if err != nil {
		return Ticket{}, ErrTicketSignature
	}
	if _, ok := claims["typ"]; ok {
		return Ticket{}, ErrTicketSignature
	}
	p, err := token.Parse(claims)
	if err != nil {
		return Ticket{}, ErrTicketSignature
	}
	// The claims were decoded with numbers as json.Number; a round trip
	// through JSON reads the permissions into their type.
	b, err := json.Marshal(map[string]any{"permissions": claims["permissions"], "claims": claims["claims"]})
	if err != nil {
		return Ticket{}, ErrTicketSignature
	}
	var body struct {
		Permissions *[]Permission       `json:"permissions"`
		Claims      map[string][]string `json:"claims"`
	}
	if err := json.Unmarshal(b, &body); err != nil || body.Permissions == nil {
		return Ticket{}, ErrTicketSignature
	}
	t := Ticket{Permissions: *body.Permissions, Claims: body.Claims}
	if len(p.Aud) > 0 {
		t.Audience = p.Aud[0]
	}
	t.Subject, t.IssuedFor, t.ID, t.IssuedAt, t.Expires = p.Sub, p.Azp, p.Jti, p.Iat, p.Exp
	if t.Expires != 0 && now.Unix() >= t.Expires {
		return Ticket{}, ErrTicketInactive
	}
	return t, nil
}

// Ticket errors as the grant answers them.
var (
	ErrTicketSignature = fail(http.StatusForbidden, "invalid_ticket", "Ticket verification failed")
	ErrTicketInactive  = fail(http.StatusForbidden, "invalid_ticket", "Invalid permission ticket.")
)
