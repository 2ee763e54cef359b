package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// health answers load balancer and orchestrator probes in the JSON shape of
// Keycloak's (SmallRye Health) /health endpoints, so existing probes and
// dashboards that read "status" keep working.
type health struct {
	store *store.DB
	log   *slog.Logger
}

type healthCheck struct {
	Name   string `json:"name"`
	Status string `json:"status"`
}

type healthReport struct {
	Status string        `json:"status"`
	Checks []healthCheck `json:"checks"`
}

const (
	statusUp   = "UP"
	statusDown = "DOWN"
	dbCheck    = "Gatehouse database connections health check"
	// pingTimeout bounds a readiness probe, so a hung database shows as
	// DOWN before the prober's own timeout instead of piling up requests.
	pingTimeout = 5 * time.Second
)

// live reports that the process serves HTTP. It checks nothing else on
// purpose: a database outage must not make an orchestrator restart every node.
func (h *health) live(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	web.WriteJSON(w, http.StatusOK, healthReport{Status: statusUp, Checks: []healthCheck{}})
}

// ready reports whether this node can serve requests: migrations ran (the
// store exists only after Open applied them) and the database answers now.
func (h *health) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), pingTimeout)
	defer cancel()
	status, code := statusUp, http.StatusOK
	if err := h.store.Ping(ctx); err != nil {
		h.log.WarnContext(ctx, "database not ready", "err", err)
		status, code = statusDown, http.StatusServiceUnavailable
	}
	w.Header().Set("Cache-Control", "no-store")
	web.WriteJSON(w, code, healthReport{Status: status, Checks: []healthCheck{{Name: dbCheck, Status: status}}})
}
