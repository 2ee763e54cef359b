package console

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/gatehouse-iam/gatehouse/internal/rep"
)

// realmSessionsPage is the realm's sessions overview: every online and
// offline session of every client, with sign-out of one session and of
// everyone. The admin API lists sessions client by client (Keycloak's own
// console uses an endpoint of its UI extension for this page), so the page
// gathers them from each client and shows each session once.
func (h *Handler) realmSessionsPage(q *rq) error {
	v := q.view("Sessions", "sessions", "")
	action := q.realmURL("/sessions")
	d := &sessionsData{CanEnd: q.perms.can("manage-users"), Action: action, All: q.perms.can("manage-users")}
	v.Data = d
	status := http.StatusOK
	if q.post() {
		var err error
		if status, err = q.sessionAction(v, action, q.adminPath("/logout-all")); status == 0 || err != nil {
			return err
		}
	}
	var cs []rep.Client
	if err := q.get(q.adminPath("/clients"), &cs); err != nil {
		return err
	}
	type key struct {
		id      string
		offline bool
	}
	seen := map[key]bool{}
	for _, c := range cs {
		for _, kind := range []string{"user-sessions", "offline-sessions"} {
			var ss []sessionListing
			if err := q.get(q.adminPath("/clients/"+seg(c.ID)+"/"+kind), &ss); err != nil {
				return err
			}
			offline := kind == "offline-sessions"
			for _, s := range ss {
				if k := (key{s.ID, offline}); !seen[k] {
					seen[k] = true
					d.Sessions = append(d.Sessions, s.row(offline))
				}
			}
		}
	}
	slices.SortFunc(d.Sessions, func(a, b sessionRow) int { return cmp.Compare(b.Start, a.Start) })
	return q.render(status, "sessions.html", v)
}
