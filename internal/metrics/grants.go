package metrics

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// The counters handlers bump with one call. They are process-wide, like the
// Go runtime's own metrics, so a handler needs no field to reach them; New
// registers them with each registry it builds.
var (
	grantsIssued = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_grants_issued_total",
		Help: "Token endpoint requests answered with tokens, by realm and grant type.",
	}, []string{"realm", "grant_type"})
	grantsRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_grants_refused_total",
		Help: "Token endpoint requests refused, by realm, grant type and OAuth error code.",
	}, []string{"realm", "grant_type", "error"})
	logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_logins_total",
		Help: "Successful password logins (login form and password grant), by realm.",
	}, []string{"realm"})
	loginFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_login_failures_total",
		Help: "Failed password logins (login form and password grant), by realm.",
	}, []string{"realm"})
)

// Grant records the outcome of a token request for a grant type the
// endpoint supports: issued when err is nil, else refused with the OAuth
// error code of err ("server_error" for a failure without one).
//
// A password grant is also a login: its success counts as one, and its
// invalid_grant refusals (wrong credentials, disabled or locked account) as
// a login failure. Client authentication failures are not login failures.
func Grant(realm, grantType string, err error) {
	if err == nil {
		grantsIssued.WithLabelValues(realm, grantType).Inc()
		if grantType == "password" {
			logins.WithLabelValues(realm).Inc()
		}
		return
	}
	code := errorCode(err)
	grantsRefused.WithLabelValues(realm, grantType, code).Inc()
	if grantType == "password" && code == "invalid_grant" {
		loginFailures.WithLabelValues(realm).Inc()
	}
}

// Login records a login form submission: ok when the user's credentials
// were accepted.
func Login(realm string, ok bool) {
	if ok {
		logins.WithLabelValues(realm).Inc()
	} else {
		loginFailures.WithLabelValues(realm).Inc()
	}
}

// errorCode is the Code of err's web.Error. The codes are the server's own
// constants (RFC 6749 §5.2 and Keycloak's additions), but anything
// unexpected is folded into "other" so the label stays small; a failure
// without a code is "server_error" when it was the server's.
func errorCode(err error) string {
	var he *web.Error
	if !errors.As(err, &he) {
		return "server_error"
	}
	code := string(he.Code)
	if code == "" {
		if he.Status >= 500 {
			return "server_error"
		}
		return "other"
	}
	if len(code) > 40 {
		return "other"
	}
	for _, r := range code {
		if (r < 'a' || r > 'z') && r != '_' {
			return "other"
		}
	}
	return code
}
