package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/bearer"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
	"github.com/gatehouse-iam/gatehouse/internal/user"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// caller is who an API call acts for: the user behind a valid access token.
type caller struct {
	realm realm.Realm
	user  user.User
	// sid is the user session the token belongs to (the "current" session).
	sid   string
	roles map[string]bool // names of the account client's roles the user holds
	// origins are the token's allowed-origins, for CORS.
	origins []string
}

// Error bodies, in Keycloak's shapes.
var (
	errUnauthorized  = &web.Error{Status: http.StatusUnauthorized, Body: map[string]string{"error": "HTTP 401 Unauthorized"}}
	errForbidden     = &web.Error{Status: http.StatusForbidden, Body: map[string]string{"error": "HTTP 403 Forbidden"}}
	errRealmNotFound = &web.Error{Status: http.StatusNotFound, Body: map[string]string{"error": "Realm does not exist"}}
	errBadJSON       = &web.Error{Status: http.StatusBadRequest, Body: map[string]string{"error": "invalid_request", "error_description": "Cannot parse the JSON"}}
)

func notFound(msg string) *web.Error {
	return &web.Error{Status: http.StatusNotFound, Body: map[string]string{"error": msg}}
}

// maxJSONBytes bounds an API request body; a profile update is a few hundred bytes.
const maxJSONBytes = 64 << 10

// apiFunc is an API endpoint: it runs only for an authenticated caller who
// holds the endpoint's role.
type apiFunc func(w http.ResponseWriter, r *http.Request, c *caller) error

// api authenticates the call, checks that the caller holds one of roles
// (403 otherwise, before anything is read or changed), adds CORS headers
// for the token's allowed origins and runs fn.
func (h *Handler) api(roles []string, fn apiFunc) http.Handler {
	return web.Handle(h.Log, func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "no-cache")
		h.cors(w, r, nil)
		c, err := h.authenticate(r)
		if err != nil {
			if errors.Is(err, errUnauthorized) {
				challenge := bearer.DPoPChallenge(err)
				if challenge == "" {
					challenge = `Bearer realm="` + r.PathValue("realm") + `"`
				}
				w.Header().Set("WWW-Authenticate", challenge)
			}
			return err
		}
		h.cors(w, r, c.origins)
		if !holdsAny(c.roles, roles) {
			return errForbidden
		}
		return fn(w, r, c)
	})
}

// authenticate validates the bearer token against the realm in the path.
// The token must be an access token of a user session (service accounts
// have no account), meant for the account service: with the "account"
// audience, or issued to the account console itself.
func (h *Handler) authenticate(r *http.Request) (*caller, error) {
	ctx := r.Context()
	rl, err := h.loadRealm(r)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errRealmNotFound
	}
	if err != nil {
		return nil, err
	}
	pt := bearer.FromRequest(r)
	raw := pt.Raw
	if raw == "" || len(raw) > token.MaxTokenSize {
		return nil, errUnauthorized
	}
	t, err := bearer.ValidateRequest(ctx, h.Store, rl, h.URLs.RealmURL(r, rl.Name), r, h.URLs.RequestURL(r), pt, h.Now())
	if errors.Is(err, bearer.ErrInvalid) {
		return nil, fmt.Errorf("%w (%w)", errUnauthorized, err) // the refusal rides along for the challenge
	}
	if err != nil {
		return nil, err
	}
	if !t.HasSession || t.User.ServiceAccountClientID != "" {
		return nil, errUnauthorized
	}
	if !t.Claims.HasAudience(accountClientID) && t.Client.ClientID != accountConsoleClientID {
		return nil, errUnauthorized
	}
	roles, err := h.accountRoles(ctx, rl, t.User.ID)
	if err != nil {
		return nil, err
	}
	c := &caller{realm: rl, user: t.User, sid: t.UserSession.ID, roles: roles}
	if list, ok := t.Claims.Raw["allowed-origins"].([]any); ok {
		for _, o := range list {
			if s, ok := o.(string); ok {
				c.origins = append(c.origins, s)
			}
		}
	}
	return c, nil
}

// accountRoles returns the names of the account client's roles the user
// holds, directly, through groups or through composites (manage-account
// includes manage-account-links, manage-consent includes view-consent).
// The user's roles are read from the store rather than the token: the
// account console's own tokens carry none.
func (h *Handler) accountRoles(ctx context.Context, rl realm.Realm, userID string) (map[string]bool, error) {
	held := map[string]bool{}
	acc, err := h.Store.GetClientByClientID(ctx, rl.ID, accountClientID)
	if errors.Is(err, store.ErrNotFound) {
		return held, nil
	}
	if err != nil {
		return nil, err
	}
	ids, err := h.Store.EffectiveRoleIDs(ctx, rl.ID, userID)
	if err != nil {
		return nil, err
	}
	roles, err := h.Store.ListClientRoles(ctx, rl.ID, acc.ID)
	if err != nil {
		return nil, err
	}
	for _, ro := range roles {
		if slices.Contains(ids, ro.ID) {
			held[ro.Name] = true
		}
	}
	return held, nil
}

// cors lets a browser page read the answer when it comes from the server's
// own origin (the console) or from one of the token's allowed origins.
// Cookies are never accepted by the API, so CORS only governs who may read.
func (h *Handler) cors(w http.ResponseWriter, r *http.Request, allowed []string) {
	web.CORS(w, r, append(slices.Clip(allowed), h.serverOrigin(r)))
}

// preflight answers CORS preflight requests. Whether an origin may read a
// response is decided on the request itself, with the token in hand.
var preflight = web.Preflight("GET, POST, PUT, DELETE, OPTIONS", "Authorization, Content-Type, Accept, DPoP")

// decodeJSON reads a bounded JSON body into v.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBytes))
	if err != nil {
		return &web.Error{Status: http.StatusRequestEntityTooLarge, Body: map[string]string{"error": "invalid_request", "error_description": "Request body too large"}}
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errBadJSON
	}
	return nil
}

func noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}
