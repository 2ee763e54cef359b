package store

import (
	"context"
	"math"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

// CreateEvent stores a login event; an empty ID gets a new one.
func (s *DB) CreateEvent(ctx context.Context, e events.Event) error {
	if e.ID == "" {
		e.ID = NewID()
	}
	if e.Details == nil {
		e.Details = map[string]string{}
	}
	_, err := s.exec(ctx, `INSERT INTO events (id, realm_id, event_time, type, client_id, user_id, session_id, ip_address, error, details)
		VALUES (`+placeholders(1, 10)+`)`,
		e.ID, e.RealmID, e.Time, e.Type, e.ClientID, e.UserID, e.SessionID, e.IPAddress, e.Error, toJSON(e.Details))
	return err
}

// CreateAdminEvent stores an admin event; an empty ID gets a new one.
func (s *DB) CreateAdminEvent(ctx context.Context, e events.AdminEvent) error {
	if e.ID == "" {
		e.ID = NewID()
	}
	_, err := s.exec(ctx, `INSERT INTO admin_events (id, realm_id, event_time, operation_type, resource_type, resource_path,
		auth_realm_id, auth_client_id, auth_user_id, auth_ip_address, representation, error) VALUES (`+placeholders(1, 12)+`)`,
		e.ID, e.RealmID, e.Time, e.OperationType, e.ResourceType, e.ResourcePath,
		e.AuthRealmID, e.AuthClientID, e.AuthUserID, e.AuthIPAddress, e.Representation, e.Error)
	return err
}

// EventQuery selects a realm's login events with Keycloak's filters
// (JpaEventQuery): every set field must match exactly, Types any of them.
// From and To are inclusive epoch milliseconds, 0 for no bound. Results
// are newest first unless Ascending; Max < 0 means no limit.
type EventQuery struct {
	Types      []string
	ClientID   string
	UserID     string
	IPAddress  string
	From, To   int64
	First, Max int
	Ascending  bool
}

// ListEvents returns a page of the realm's login events matching q.
func (s *DB) ListEvents(ctx context.Context, realmID string, q EventQuery) ([]events.Event, error) {
	ctx = cancellable(ctx) // a scan: an abandoned search stops
	w := newWhere(realmID)
	w.in("type", q.Types)
	w.eq("client_id", q.ClientID)
	w.eq("user_id", q.UserID)
	w.eq("ip_address", q.IPAddress)
	w.between(q.From, q.To)
	rows, err := s.query(ctx, `SELECT id, realm_id, event_time, type, client_id, user_id, session_id, ip_address, error, details
		FROM events WHERE `+w.sql()+w.page(q.Ascending, q.First, q.Max), w.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []events.Event{}
	for rows.Next() {
		var (
			e       events.Event
			details string
		)
		if err := rows.Scan(&e.ID, &e.RealmID, &e.Time, &e.Type, &e.ClientID, &e.UserID, &e.SessionID, &e.IPAddress,
			&e.Error, &details); err != nil {
			return nil, err
		}
		if err := fromJSON(details, &e.Details); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// AdminEventQuery selects a realm's admin events with Keycloak's filters
// (JpaAdminEventQuery). ResourcePath may hold "*" wildcards
// ("users/*/role-mappings/*") and matches ignoring case; the other fields
// match exactly. From, To, First, Max and Ascending are as in EventQuery.
type AdminEventQuery struct {
	OperationTypes []string
	ResourceTypes  []string
	ResourcePath   string
	AuthRealmID    string
	AuthClientID   string
	AuthUserID     string
	AuthIPAddress  string
	From, To       int64
	First, Max     int
	Ascending      bool
}

// ListAdminEvents returns a page of the realm's admin events matching q.
func (s *DB) ListAdminEvents(ctx context.Context, realmID string, q AdminEventQuery) ([]events.AdminEvent, error) {
	ctx = cancellable(ctx)
	w := newWhere(realmID)
	w.in("operation_type", q.OperationTypes)
	w.in("resource_type", q.ResourceTypes)
	if q.ResourcePath != "" {
		pattern := strings.ReplaceAll(escapeLike(strings.ToLower(q.ResourcePath)), "*", "%")
		w.conds = append(w.conds, "lower(resource_path) LIKE "+w.arg(pattern)+likeEscape)
	}
	w.eq("auth_realm_id", q.AuthRealmID)
	w.eq("auth_client_id", q.AuthClientID)
	w.eq("auth_user_id", q.AuthUserID)
	w.eq("auth_ip_address", q.AuthIPAddress)
	w.between(q.From, q.To)
	rows, err := s.query(ctx, `SELECT id, realm_id, event_time, operation_type, resource_type, resource_path,
		auth_realm_id, auth_client_id, auth_user_id, auth_ip_address, representation, error
		FROM admin_events WHERE `+w.sql()+w.page(q.Ascending, q.First, q.Max), w.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []events.AdminEvent{}
	for rows.Next() {
		var e events.AdminEvent
		if err := rows.Scan(&e.ID, &e.RealmID, &e.Time, &e.OperationType, &e.ResourceType, &e.ResourcePath,
			&e.AuthRealmID, &e.AuthClientID, &e.AuthUserID, &e.AuthIPAddress, &e.Representation, &e.Error); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// DeleteEvents removes every login event of a realm.
func (s *DB) DeleteEvents(ctx context.Context, realmID string) error {
	_, err := s.exec(ctx, `DELETE FROM events WHERE realm_id = $1`, realmID)
	return err
}

// DeleteAdminEvents removes every admin event of a realm.
func (s *DB) DeleteAdminEvents(ctx context.Context, realmID string) error {
	_, err := s.exec(ctx, `DELETE FROM admin_events WHERE realm_id = $1`, realmID)
	return err
}

// AdminEventsExpiration is the realm attribute Keycloak keeps the admin
// events' expiration in (seconds), separate from eventsExpiration.
const AdminEventsExpiration = "adminEventsExpiration"

// DeleteExpiredEvents removes realm r's login events older than its
// eventsExpiration and its admin events older than its
// adminEventsExpiration attribute (both in seconds; 0 or unset keeps them
// for ever), as of nowMs (epoch milliseconds).
func (s *DB) DeleteExpiredEvents(ctx context.Context, r realm.Realm, nowMs int64) error {
	if r.EventsExpiration > 0 {
		if _, err := s.exec(ctx, `DELETE FROM events WHERE realm_id = $1 AND event_time < $2`,
			r.ID, nowMs-r.EventsExpiration*1000); err != nil {
			return err
		}
	}
	if exp, err := strconv.ParseInt(r.Attributes[AdminEventsExpiration], 10, 64); err == nil && exp > 0 {
		if _, err := s.exec(ctx, `DELETE FROM admin_events WHERE realm_id = $1 AND event_time < $2`,
			r.ID, nowMs-exp*1000); err != nil {
			return err
		}
	}
	return nil
}

// where collects the conditions and arguments of an event query.
type where struct {
	conds []string
	args  []any
}

func newWhere(realmID string) *where {
	return &where{conds: []string{"realm_id = $1"}, args: []any{realmID}}
}

func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func (w *where) eq(col, v string) {
	if v != "" {
		w.conds = append(w.conds, col+" = "+w.arg(v))
	}
}

func (w *where) in(col string, vs []string) {
	if len(vs) == 0 {
		return
	}
	ps := make([]string, len(vs))
	for i, v := range vs {
		ps[i] = w.arg(v)
	}
	w.conds = append(w.conds, col+" IN ("+strings.Join(ps, ", ")+")")
}

func (w *where) between(from, to int64) {
	if from != 0 {
		w.conds = append(w.conds, "event_time >= "+w.arg(from))
	}
	if to != 0 {
		w.conds = append(w.conds, "event_time <= "+w.arg(to))
	}
}

func (w *where) sql() string { return strings.Join(w.conds, " AND ") }

// page is the ORDER BY, LIMIT and OFFSET of a query: by time, then by
// insertion order within a millisecond.
func (w *where) page(ascending bool, first, limit int) string {
	dir := " DESC"
	if ascending {
		dir = " ASC"
	}
	if limit < 0 {
		limit = math.MaxInt32
	}
	return " ORDER BY event_time" + dir + ", seq" + dir + " LIMIT " + w.arg(limit) + " OFFSET " + w.arg(max(first, 0))
}

// DB is where package events stores what it records.
var _ events.Store = (*DB)(nil)
