package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
)

// The Events page (user events and admin events, with the admin API's
// filters and paging) and the realm settings' Events tab (the realm's
// /events/config).

// eventFilter is one filter of an events list: the query parameter the
// console and the admin API share, its label, and whether it takes several
// values (chosen from Options).
type eventFilter struct {
	Name, Label string
	Multi       bool
	Options     []option
	Value       string // single-valued filters
	Date        bool
}

// eventsData is an events tab.
type eventsData struct {
	Admin      bool // the admin events tab
	Action     string
	Filters    []eventFilter
	Max        int
	Events     []rep.Event
	AdminRows  []rep.AdminEvent
	CanClear   bool
	Prev, Next string // page links, "" when there is none
	Filtered   bool
}

// Filters of the two tabs, with the admin API's parameter names.
var (
	userEventFilters = []eventFilter{
		{Name: "user", Label: "User ID"},
		{Name: "type", Label: "Event type", Multi: true},
		{Name: "client", Label: "Client"},
		{Name: "dateFrom", Label: "Date(from)", Date: true},
		{Name: "dateTo", Label: "Date(to)", Date: true},
		{Name: "ipAddress", Label: "IP address"},
	}
	adminEventFilters = []eventFilter{
		{Name: "resourceTypes", Label: "Resource types", Multi: true},
		{Name: "operationTypes", Label: "Operation types", Multi: true},
		{Name: "resourcePath", Label: "Resource path"},
		{Name: "authRealm", Label: "Realm"},
		{Name: "authClient", Label: "Client"},
		{Name: "authUser", Label: "User"},
		{Name: "authIpAddress", Label: "IP address"},
		{Name: "dateFrom", Label: "Date(from)", Date: true},
		{Name: "dateTo", Label: "Date(to)", Date: true},
	}
)

// eventPageSizes are the page sizes offered, as in Keycloak's tables.
var eventPageSizes = []int{10, 20, 50, 100}

func (h *Handler) userEvents(q *rq) error  { return h.eventsTab(q, false) }
func (h *Handler) adminEvents(q *rq) error { return h.eventsTab(q, true) }

// eventsTab lists the realm's user events or admin events, filtered and
// paged by the admin API; a POST clears them.
func (h *Handler) eventsTab(q *rq, admin bool) error {
	if !q.perms.can("view-events") {
		return errPage(http.StatusForbidden, "You do not have permission to view events.")
	}
	apiPath := q.adminPath("/events")
	tab, path, filters := "user-events", "/events", userEventFilters
	if admin {
		apiPath = q.adminPath("/admin-events")
		tab, path, filters = "admin-events", "/events/admin-events", adminEventFilters
	}
	v := q.view("Events", "events", tab)
	v.Tabs = tabs(q.realmURL("/events"), tab, "user-events", "", "User events", "admin-events", "/admin-events", "Admin events")
	if q.post() {
		if q.form("action") != "clear" {
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		if _, err := q.api(http.MethodDelete, apiPath, nil, nil); err != nil {
			return err
		}
		return q.redirect(q.realmURL(path), tab+"-cleared")
	}
	enums, err := q.serverEnums()
	if err != nil {
		return err
	}
	choices := map[string][]string{"type": enums["eventType"], "operationTypes": enums["operationType"],
		"resourceTypes": enums["resourceType"]}

	qs := q.r.URL.Query()
	d := &eventsData{Admin: admin, Action: q.realmURL(path), CanClear: q.perms.can("manage-events"), Max: 10}
	v.Data = d
	if n, err := strconv.Atoi(qs.Get("max")); err == nil && slices.Contains(eventPageSizes, n) {
		d.Max = n
	}
	first := 0
	if n, err := strconv.Atoi(qs.Get("first")); err == nil && n > 0 {
		first = n
	}
	// The filters go to the API as they came; the API judges the values.
	params := url.Values{}
	for _, f := range filters {
		if f.Multi {
			picked := qs[f.Name]
			for _, c := range choices[f.Name] {
				f.Options = append(f.Options, option{Value: c, Label: c, Selected: slices.Contains(picked, c)})
			}
			for _, p := range picked {
				if p = strings.TrimSpace(p); p != "" {
					params.Add(f.Name, p)
				}
			}
		} else if f.Value = strings.TrimSpace(qs.Get(f.Name)); f.Value != "" {
			params.Set(f.Name, f.Value)
		}
		d.Filters = append(d.Filters, f)
	}
	d.Filtered = len(params) > 0
	params.Set("max", strconv.Itoa(d.Max))
	link := func(at int) string {
		params.Set("first", strconv.Itoa(at))
		return d.Action + "?" + params.Encode()
	}
	// One row more than shown tells whether there is a next page.
	params.Set("first", strconv.Itoa(first))
	params.Set("max", strconv.Itoa(d.Max+1))
	api := apiPath + "?" + params.Encode()
	params.Set("max", strconv.Itoa(d.Max))
	var n int
	if admin {
		if err := q.get(api, &d.AdminRows); err != nil {
			return q.eventsRefused(v, err)
		}
		n = len(d.AdminRows)
		d.AdminRows = d.AdminRows[:min(n, d.Max)]
	} else {
		if err := q.get(api, &d.Events); err != nil {
			return q.eventsRefused(v, err)
		}
		n = len(d.Events)
		d.Events = d.Events[:min(n, d.Max)]
	}
	if first > 0 {
		d.Prev = link(max(first-d.Max, 0))
	}
	if n > d.Max {
		d.Next = link(first + d.Max)
	}
	return q.render(http.StatusOK, "events.html", v)
}

// eventsRefused shows a filter the API refused (a date it cannot read)
// above the list.
func (q *rq) eventsRefused(v *view, err error) error {
	status, err := failed(v, err)
	if err != nil {
		return err
	}
	return q.render(status, "events.html", v)
}

// eventsConfigData is the realm settings' Events tab.
type eventsConfigData struct {
	Action          string
	Editable        bool
	EventsEnabled   bool
	Expiration      duration
	Types           []option
	AdminEnabled    bool
	AdminDetails    bool
	CanClearRecords bool
}

// realmEventsConfig is Realm settings → Events: whether the realm saves
// user events, for how long and of which types, and whether it saves admin
// events and their representations. Clearing goes to the Events page's
// clear actions, which post here too.
func (h *Handler) realmEventsConfig(q *rq) error {
	if !q.perms.can("view-events") {
		return errPage(http.StatusForbidden, "You do not have permission to view the event settings.")
	}
	v := q.view("Realm settings", "realm-settings", "events")
	v.Tabs = q.realmTabs("events")
	action := q.realmURL("/realm-settings/events")
	d := &eventsConfigData{Action: action, Editable: q.perms.can("manage-events")}
	v.Data = d
	enums, err := q.serverEnums()
	if err != nil {
		return err
	}
	status := http.StatusOK
	var cfg *rep.EventsConfig // as submitted, when a save was refused
	if q.post() {
		var err error
		switch q.form("action") {
		case "clear-user", "clear-admin":
			p, notice := "/events", "user-events-cleared"
			if q.form("action") == "clear-admin" {
				p, notice = "/admin-events", "admin-events-cleared"
			}
			if _, err := q.api(http.MethodDelete, q.adminPath(p), nil, nil); err != nil {
				return err
			}
			return q.redirect(action, notice)
		case "save":
			secs, msg := parseDuration(q.form("eventsExpiration"), q.form("eventsExpiration.unit"))
			cfg = &rep.EventsConfig{EventsEnabled: ptr(q.checked("eventsEnabled")), EventsExpiration: ptr(int64(secs)),
				EnabledEventTypes:  append([]string{}, q.r.PostForm["enabledEventTypes"]...),
				AdminEventsEnabled: ptr(q.checked("adminEventsEnabled")), AdminEventsDetailsEnabled: ptr(q.checked("adminEventsDetailsEnabled"))}
			if msg != "" {
				err = &fieldError{"eventsExpiration", msg}
			} else if _, err = q.api(http.MethodPut, q.adminPath("/events/config"), cfg, nil); err == nil {
				return q.redirect(action, "saved")
			}
		default:
			return errPage(http.StatusBadRequest, "Unknown action.")
		}
		if status, err = failed(v, err); err != nil {
			return err
		}
	}
	if cfg == nil {
		cfg = &rep.EventsConfig{}
		if err := q.get(q.adminPath("/events/config"), cfg); err != nil {
			return err
		}
	}
	d.EventsEnabled, d.AdminEnabled, d.AdminDetails = boolean(cfg.EventsEnabled), boolean(cfg.AdminEventsEnabled), boolean(cfg.AdminEventsDetailsEnabled)
	exp := 0
	if cfg.EventsExpiration != nil {
		exp = int(*cfg.EventsExpiration)
	}
	d.Expiration = newDuration("eventsExpiration", "Expiration", "Sets the expiration for events. Expired events are periodically deleted from the database.", exp)
	if msg := v.FieldError("eventsExpiration"); msg != "" {
		d.Expiration.Number, d.Expiration.Error = q.form("eventsExpiration"), msg
	}
	for _, t := range enums["eventType"] {
		d.Types = append(d.Types, option{Value: t, Label: t, Selected: slices.Contains(cfg.EnabledEventTypes, t)})
	}
	return q.render(status, "realm-events.html", v)
}

// serverEnums are the value lists serverinfo names (event types, operation
// types, resource types), which the console offers as choices.
func (q *rq) serverEnums() (map[string][]string, error) {
	var info struct {
		Enums map[string][]string `json:"enums"`
	}
	err := q.get("/admin/serverinfo", &info)
	return info.Enums, err
}

// prettyJSON indents a representation for display; text that is no JSON
// stays as it is.
func prettyJSON(s string) string {
	var v any
	if s == "" || json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return s
	}
	return string(b)
}
