// Package backchannel sends OpenID Connect Back-Channel Logout 1.0 logout
// tokens. When a user session is ended on purpose (RP-initiated logout, an
// administrator's logout, the account console's sign-out), every client of
// that session with a backchannel.logout.url attribute gets a signed
// logout_token POSTed to it, through the SSRF-safe outbound client.
//
// Delivery never holds the request that ended the session: the store hands
// the ended sessions over after its commit, they wait in a bounded queue in
// memory, and a few goroutines deliver them with bounded retries. The queue
// is not persisted: if the node stops before delivery, those relying
// parties are not told (their sessions still end when their tokens fail to
// refresh). A full queue drops the newest work with a warning.
package backchannel

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/keys"
	"github.com/gatehouse-iam/gatehouse/internal/outbound"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/token"
)

// Client attributes of back-channel logout, with Keycloak's names.
const (
	AttrURL             = "backchannel.logout.url"
	AttrSessionRequired = "backchannel.logout.session.required"
	AttrRevokeOffline   = "backchannel.logout.revoke.offline.tokens"
)

// Claims of a logout token (Back-Channel Logout 1.0 §2.4), and the event
// Keycloak adds when the client revokes offline tokens on logout.
const (
	EventLogout        = "http://schemas.openid.net/event/backchannel-logout"
	EventRevokeOffline = "revoke_offline_access"
	// TokenType is the typ header of a logout token (§2.4).
	TokenType = "logout+jwt"
	// lifetime of a logout token: the specification asks for at most two
	// minutes.
	lifetime = 2 * time.Minute
)

// Limits of the delivery machinery.
const (
	QueueSize  = 1024
	maxWorkers = 4
	// Attempts is how many times one notification is tried; the waits
	// between them grow from Backoff.
	Attempts = 3
	// maxResponse bounds what is read of a relying party's answer.
	maxResponse = 16 << 10
)

// Sender delivers logout tokens. Build it with New.
type Sender struct {
	store   *store.DB
	client  *outbound.Client
	log     *slog.Logger
	now     func() time.Time
	backoff time.Duration

	queue   chan job
	mu      sync.Mutex
	workers int
}

// job is the sessions one commit ended, with the issuer base of the request
// that ended them.
type job struct {
	base  string
	ended []store.EndedSession
	// browser: the logout goes on in the browser (WithBrowserLogout).
	browser bool
}

// New returns a sender delivering through c. backoff is the first wait
// between attempts (it doubles); zero means one second.
func New(db *store.DB, c *outbound.Client, log *slog.Logger, now func() time.Time, backoff time.Duration) *Sender {
	if backoff <= 0 {
		backoff = time.Second
	}
	return &Sender{store: db, client: c, log: log, now: now, backoff: backoff, queue: make(chan job, QueueSize)}
}

type baseKey struct{}

// WithBase records in ctx the base URL ("https://id.example/auth") of the
// request being served, from which the realm's issuer is built.
func WithBase(ctx context.Context, base string) context.Context {
	return context.WithValue(ctx, baseKey{}, base)
}

// SessionsEnded is the store's hook (store.SessionEndHook): it queues the
// notifications and returns at once.
func (s *Sender) SessionsEnded(ctx context.Context, ended []store.EndedSession) {
	base, _ := ctx.Value(baseKey{}).(string)
	if base == "" {
		s.log.WarnContext(ctx, "back-channel logout skipped: no request base URL", "sessions", len(ended))
		return
	}
	select {
	case s.queue <- job{base: base, ended: ended, browser: browserLogout(ctx)}:
	default:
		s.log.WarnContext(ctx, "back-channel logout queue full: notifications dropped", "sessions", len(ended))
		return
	}
	s.mu.Lock()
	if s.workers < maxWorkers {
		s.workers++
		go s.work()
	}
	s.mu.Unlock()
}

// work delivers queued jobs until the queue is empty. A job queued after
// the last check finds the worker count lowered and starts a new worker.
func (s *Sender) work() {
	for {
		select {
		case j := <-s.queue:
			s.run(j)
			continue
		default:
		}
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.workers--
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
	}
}

// run notifies every client of every session in j, the clients of one
// session at once, so one hanging relying party does not delay the others.
func (s *Sender) run(j job) {
	ctx := context.Background()
	var wg sync.WaitGroup
	realms := map[string]*realmData{}
	for _, e := range j.ended {
		rd, ok := realms[e.RealmID]
		if !ok {
			var err error
			rd, err = s.loadRealm(ctx, e.RealmID)
			if err != nil {
				s.log.Warn("back-channel logout: load realm", "realm", e.RealmID, "err", err)
			}
			realms[e.RealmID] = rd
		}
		if rd == nil {
			continue
		}
		for _, cid := range e.ClientIDs {
			c, err := s.store.GetClient(ctx, e.RealmID, cid)
			if err != nil {
				continue // deleted since
			}
			if c.Protocol == "saml" {
				if target, body, ok := s.samlLogout(rd, c, e, j.base, j.browser); ok {
					wg.Add(1)
					go func() {
						defer wg.Done()
						s.deliver(ctx, rd.realm.Name, c.ClientID, target, func(ctx context.Context) (int, error) {
							return s.postSOAP(ctx, target, body)
						})
					}()
				}
				continue
			}
			// A client with front-channel logout on is logged out in the
			// browser instead, and a disabled one not at all, as in
			// Keycloak.
			target := c.Attributes[AttrURL]
			if target == "" || c.FrontchannelLogout || !c.Enabled || (c.Protocol != "" && c.Protocol != "openid-connect") {
				continue
			}
			target = c.ResolveURL(target, j.base)
			raw, err := s.logoutToken(rd, c, e, j.base)
			if err != nil {
				s.log.Warn("back-channel logout: sign", "realm", rd.realm.Name, "client", c.ClientID, "err", err)
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.deliver(ctx, rd.realm.Name, c.ClientID, target, func(ctx context.Context) (int, error) {
					resp, err := s.client.PostForm(ctx, target, url.Values{"logout_token": {raw}}, maxResponse)
					if err != nil {
						return 0, err
					}
					return resp.Status, nil
				})
			}()
		}
	}
	wg.Wait()
}

type realmData struct {
	realm realm.Realm
	keys  []keys.Key
}

func (s *Sender) loadRealm(ctx context.Context, id string) (*realmData, error) {
	rl, err := s.store.GetRealm(ctx, id)
	if err != nil {
		return nil, err
	}
	ks, err := s.store.ListKeys(ctx, id)
	if err != nil {
		return nil, err
	}
	return &realmData{realm: rl, keys: ks}, nil
}

// logoutToken builds and signs the logout token for client c of session e
// (Back-Channel Logout 1.0 §2.4), with the client's ID token algorithm.
func (s *Sender) logoutToken(rd *realmData, c client.Client, e store.EndedSession, base string) (string, error) {
	now := s.now()
	events := map[string]any{EventLogout: map[string]any{}}
	if c.Attributes[AttrRevokeOffline] == "true" {
		events[EventRevokeOffline] = true
	}
	claims := map[string]any{
		"iss":    base + "/realms/" + url.PathEscape(rd.realm.Name),
		"aud":    c.ClientID,
		"iat":    now.Unix(),
		"exp":    now.Add(lifetime).Unix(),
		"jti":    rand.Text(),
		"sub":    e.UserID,
		"typ":    "Logout",
		"events": events,
	}
	if c.Attributes[AttrSessionRequired] == "true" {
		claims["sid"] = e.ID
	}
	alg := token.IDAlg(rd.realm, c)
	k, ok := keys.Active(rd.keys, alg)
	if !ok {
		return "", fmt.Errorf("no active %s key", alg)
	}
	return token.SignTyped(claims, k, TokenType)
}

// deliver sends a notification with send (which answers the HTTP
// status), retrying a failure to connect or a 5xx answer (Back-Channel
// Logout §2.8: the RP answers 200, or 400 when it refuses the token, which
// is not retried; a SAML SOAP endpoint answers likewise).
func (s *Sender) deliver(ctx context.Context, realmName, clientID, target string, send func(context.Context) (int, error)) {
	wait := s.backoff
	for attempt := 1; ; attempt++ {
		status, err := send(ctx)
		switch {
		case err == nil && status >= 200 && status < 300:
			s.log.Debug("back-channel logout delivered", "realm", realmName, "client", clientID)
			return
		case err == nil && status < 500:
			s.log.Warn("back-channel logout refused", "realm", realmName, "client", clientID, "status", status)
			return
		}
		if errors.Is(err, outbound.ErrForbiddenAddress) {
			// Configuration, not a passing fault: trying again cannot help.
			s.log.Warn("back-channel logout refused: the URL's address is not public (see --outbound-allow-private)",
				"realm", realmName, "client", clientID, "err", err)
			return
		}
		if attempt >= Attempts {
			s.log.Warn("back-channel logout failed", "realm", realmName, "client", clientID, "attempts", attempt, "err", errText(err, status))
			return
		}
		time.Sleep(wait)
		wait *= 2
	}
}

func errText(err error, status int) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("status %d", status)
}
