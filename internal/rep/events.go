package rep

import (
	"maps"

	"github.com/gatehouse-iam/gatehouse/internal/events"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

// Event is Keycloak's EventRepresentation: a login event as the admin API
// lists it. Time is epoch milliseconds.
type Event struct {
	ID        string            `json:"id"`
	Time      int64             `json:"time"`
	Type      string            `json:"type"`
	RealmID   string            `json:"realmId"`
	ClientID  string            `json:"clientId,omitempty"`
	UserID    string            `json:"userId,omitempty"`
	SessionID string            `json:"sessionId,omitempty"`
	IPAddress string            `json:"ipAddress,omitempty"`
	Error     string            `json:"error,omitempty"`
	Details   map[string]string `json:"details,omitzero"`
}

// EventFromDomain maps a stored login event. An event without details has
// none in its representation, as in Keycloak.
func EventFromDomain(e events.Event) Event {
	x := Event{ID: e.ID, Time: e.Time, Type: e.Type, RealmID: e.RealmID, ClientID: e.ClientID, UserID: e.UserID,
		SessionID: e.SessionID, IPAddress: e.IPAddress, Error: e.Error}
	if len(e.Details) > 0 {
		x.Details = maps.Clone(e.Details)
	}
	return x
}

// AdminEvent is Keycloak's AdminEventRepresentation.
type AdminEvent struct {
	ID             string      `json:"id"`
	Time           int64       `json:"time"`
	RealmID        string      `json:"realmId"`
	AuthDetails    AuthDetails `json:"authDetails"`
	OperationType  string      `json:"operationType"`
	ResourceType   string      `json:"resourceType"`
	ResourcePath   string      `json:"resourcePath"`
	Representation string      `json:"representation,omitempty"`
	Error          string      `json:"error,omitempty"`
}

// AuthDetails is Keycloak's AuthDetailsRepresentation: who made an admin
// change. ClientID is the internal id of the client the admin's token was
// issued to.
type AuthDetails struct {
	RealmID   string `json:"realmId"`
	ClientID  string `json:"clientId"`
	UserID    string `json:"userId"`
	IPAddress string `json:"ipAddress"`
}

// AdminEventFromDomain maps a stored admin event.
func AdminEventFromDomain(e events.AdminEvent) AdminEvent {
	return AdminEvent{ID: e.ID, Time: e.Time, RealmID: e.RealmID,
		AuthDetails:   AuthDetails{RealmID: e.AuthRealmID, ClientID: e.AuthClientID, UserID: e.AuthUserID, IPAddress: e.AuthIPAddress},
		OperationType: e.OperationType, ResourceType: e.ResourceType, ResourcePath: e.ResourcePath,
		Representation: e.Representation, Error: e.Error}
}

// EventsConfig is Keycloak's RealmEventsConfigRepresentation, served and
// taken at /admin/realms/{realm}/events/config. On input every field is
// optional and an absent one keeps the realm's setting.
type EventsConfig struct {
	EventsEnabled             *bool    `json:"eventsEnabled,omitempty"`
	EventsExpiration          *int64   `json:"eventsExpiration,omitempty"`
	EventsListeners           []string `json:"eventsListeners,omitzero"`
	EnabledEventTypes         []string `json:"enabledEventTypes,omitzero"`
	AdminEventsEnabled        *bool    `json:"adminEventsEnabled,omitempty"`
	AdminEventsDetailsEnabled *bool    `json:"adminEventsDetailsEnabled,omitempty"`
}

// EventsConfigOf is a realm's event settings. A realm that lists no event
// types shows the types it stores by default, as Keycloak's does.
func EventsConfigOf(r realm.Realm) EventsConfig {
	x := EventsConfig{
		EventsEnabled:             &r.EventsEnabled,
		EventsListeners:           cloneList(r.EventsListeners),
		EnabledEventTypes:         cloneList(r.EnabledEventTypes),
		AdminEventsEnabled:        &r.AdminEventsEnabled,
		AdminEventsDetailsEnabled: &r.AdminEventsDetails,
	}
	if len(x.EnabledEventTypes) == 0 {
		x.EnabledEventTypes = events.DefaultTypes()
	}
	if r.EventsExpiration != 0 {
		x.EventsExpiration = &r.EventsExpiration
	}
	return x
}

// ApplyTo sets the fields present in x on r.
func (x EventsConfig) ApplyTo(r *realm.Realm) {
	set(&r.EventsEnabled, x.EventsEnabled)
	set(&r.EventsExpiration, x.EventsExpiration)
	if x.EventsListeners != nil {
		r.EventsListeners = nilIfNone(x.EventsListeners)
	}
	if x.EnabledEventTypes != nil {
		r.EnabledEventTypes = nilIfNone(x.EnabledEventTypes)
	}
	set(&r.AdminEventsEnabled, x.AdminEventsEnabled)
	set(&r.AdminEventsDetails, x.AdminEventsDetailsEnabled)
}
