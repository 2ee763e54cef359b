package account

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// sessionRep is Keycloak's account SessionRepresentation: one SSO session
// (a browser or a password-grant login), times in epoch seconds.
type sessionRep struct {
	ID         string      `json:"id"`
	IPAddress  string      `json:"ipAddress,omitempty"`
	Started    int64       `json:"started"`
	LastAccess int64       `json:"lastAccess"`
	Expires    int64       `json:"expires"`
	Clients    []clientRep `json:"clients"`
	Browser    string      `json:"browser,omitempty"`
	Current    bool        `json:"current,omitempty"`

	device device // what the session's user agent says, for grouping
}

// deviceRep is Keycloak's DeviceRepresentation: the sessions of one kind of
// device (Keycloak groups them by operating system and its version).
type deviceRep struct {
	ID         string       `json:"id,omitempty"`
	IPAddress  string       `json:"ipAddress,omitempty"`
	OS         string       `json:"os"`
	OSVersion  string       `json:"osVersion"`
	Browser    string       `json:"browser,omitempty"`
	Device     string       `json:"device"`
	LastAccess int64        `json:"lastAccess"`
	Current    bool         `json:"current,omitempty"`
	Sessions   []sessionRep `json:"sessions"`
	Mobile     bool         `json:"mobile"`
}

// userSessions returns the user's live online sessions, oldest first, with
// the clients signed in to each. current is the caller's own session; its
// user agent is the request's when the session did not record one (the
// caller is using that very browser).
func (h *Handler) userSessions(ctx context.Context, rl realm.Realm, userID, current, requestUA string) ([]sessionRep, error) {
	now := h.nowS()
	online, err := h.Store.ListUserSessions(ctx, rl.ID, userID, false)
	if err != nil {
		return nil, err
	}
	offline, err := h.offlineClients(ctx, rl, userID)
	if err != nil {
		return nil, err
	}
	clients := clientCache{h: h, realm: rl, byID: map[string]*client.Client{}}
	out := []sessionRep{}
	for _, us := range online {
		if !session.Valid(rl, us, now) {
			continue
		}
		ua := us.Notes[noteUserAgent]
		if ua == "" && us.ID == current {
			ua = requestUA
		}
		d := parseUserAgent(ua)
		rep := sessionRep{ID: us.ID, IPAddress: us.IPAddress, Started: us.Started, LastAccess: us.LastRefresh,
			Expires: us.Started + ssoMaxLifespan(rl, us.RememberMe), Browser: d.Browser, Current: us.ID == current,
			Clients: []clientRep{}, device: d}
		css, err := h.Store.ListClientSessions(ctx, us.ID)
		if err != nil {
			return nil, err
		}
		for _, cs := range css {
			c, err := clients.get(ctx, cs.ClientID)
			if err != nil {
				return nil, err
			}
			if c == nil {
				continue
			}
			rep.Clients = append(rep.Clients, clientRep{ClientID: c.ClientID, ClientName: c.Name,
				UserConsentRequired: c.ConsentRequired, InUse: true, OfflineAccess: offline[c.ID]})
		}
		out = append(out, rep)
	}
	return out, nil
}

// ssoMaxLifespan is the session's max lifespan, as Keycloak computes the
// "expires" of a session for the account console.
func ssoMaxLifespan(rl realm.Realm, rememberMe bool) int64 {
	if rememberMe && rl.SSOSessionMaxLifespanRememberMe > 0 {
		return int64(rl.SSOSessionMaxLifespanRememberMe)
	}
	return int64(rl.SSOSessionMaxLifespan)
}

// devices groups sessions the way Keycloak's SessionResource.devices does,
// by operating system and version; the current device comes first, then
// the most recently used.
func devices(sessions []sessionRep) []deviceRep {
	var out []deviceRep
	index := map[string]int{}
	for _, s := range sessions {
		key := s.device.OS + "\x00" + s.device.OSVersion
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, deviceRep{ID: s.ID, OS: s.device.OS, OSVersion: s.device.OSVersion, Device: s.device.Device, Mobile: s.device.Mobile})
		}
		d := &out[i]
		if s.Current {
			d.Current = true
		}
		if s.LastAccess >= d.LastAccess {
			d.LastAccess, d.IPAddress, d.Browser = s.LastAccess, s.IPAddress, s.Browser
		}
		d.Sessions = append(d.Sessions, s)
	}
	slices.SortStableFunc(out, func(a, b deviceRep) int {
		if a.Current != b.Current {
			if a.Current {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.LastAccess, a.LastAccess)
	})
	if out == nil {
		out = []deviceRep{}
	}
	return out
}

// listSessions serves GET /account/sessions.
func (h *Handler) listSessions(w http.ResponseWriter, r *http.Request, c *caller) error {
	ss, err := h.userSessions(r.Context(), c.realm, c.user.ID, c.sid, r.UserAgent())
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, ss)
}

// listDevices serves GET /account/sessions/devices.
func (h *Handler) listDevices(w http.ResponseWriter, r *http.Request, c *caller) error {
	ss, err := h.userSessions(r.Context(), c.realm, c.user.ID, c.sid, r.UserAgent())
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, devices(ss))
}

// deleteSessions serves DELETE /account/sessions: every session of the
// caller but the current one (that one too with ?current=true).
func (h *Handler) deleteSessions(w http.ResponseWriter, r *http.Request, c *caller) error {
	keep := c.sid
	if r.URL.Query().Get("current") == "true" {
		keep = ""
	}
	if _, err := h.endOtherSessions(r.Context(), c.realm, c.user.ID, keep); err != nil {
		return err
	}
	return noContent(w)
}

// deleteSession serves DELETE /account/sessions/{id}. A session of another
// user, an offline session and an unknown id are all the same 404, and
// nothing changes.
func (h *Handler) deleteSession(w http.ResponseWriter, r *http.Request, c *caller) error {
	err := h.endSession(r.Context(), c.realm, c.user.ID, r.PathValue("id"))
	if errors.Is(err, errNotMine) {
		return notFound("Session not found")
	}
	if err != nil {
		return err
	}
	return noContent(w)
}

// endSession ends one online session of userID. The session is looked up
// by id and then checked to be the user's: an id alone never decides.
func (h *Handler) endSession(ctx context.Context, rl realm.Realm, userID, id string) error {
	if id == "" || len(id) > 64 {
		return errNotMine
	}
	us, err := h.Store.GetUserSession(ctx, rl.ID, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (us.UserID != userID || us.Offline)) {
		return errNotMine
	}
	if err != nil {
		return err
	}
	err = h.Store.DeleteUserSession(ctx, rl.ID, us.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // ended meanwhile
	}
	if err == nil {
		h.Log.InfoContext(ctx, "account: session signed out", "realm", rl.Name, "user", userID, "session", us.ID)
	}
	return err
}

// endOtherSessions ends every online session of userID except keep and
// returns how many ended.
func (h *Handler) endOtherSessions(ctx context.Context, rl realm.Realm, userID, keep string) (int, error) {
	online, err := h.Store.ListUserSessions(ctx, rl.ID, userID, false)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, us := range online {
		if us.ID == keep {
			continue
		}
		if err := h.Store.DeleteUserSession(ctx, rl.ID, us.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return n, err
		}
		n++
	}
	if n > 0 {
		h.Log.InfoContext(ctx, "account: other sessions signed out", "realm", rl.Name, "user", userID, "count", n)
	}
	return n, nil
}

// clientCache loads each client of a realm once per request.
type clientCache struct {
	h     *Handler
	realm realm.Realm
	byID  map[string]*client.Client
}

// get returns the client with internal id, or nil when it is gone.
func (cc clientCache) get(ctx context.Context, id string) (*client.Client, error) {
	if c, ok := cc.byID[id]; ok {
		return c, nil
	}
	c, err := cc.h.Store.GetClient(ctx, cc.realm.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		cc.byID[id] = nil
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cc.byID[id] = &c
	return &c, nil
}
