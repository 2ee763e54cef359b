package metrics

import (
	"errors"
	"sync"

	vm "github.com/VictoriaMetrics/metrics"

	"github.com/gatehouse-iam/gatehouse/internal/web"
)

// The counters handlers bump with one call. They are process-wide, like the
// Go runtime's own metrics, so a handler needs no field to reach them; every
// Metrics serves them.
var counters = vm.NewSet()

// Each counter is found by its label values, so a token request builds a
// series name only for a realm, grant type and error it has not seen.
var (
	grantsIssued = counterFamily(func(k [2]string) string {
		return series("gatehouse_grants_issued_total", "grant_type", k[1], "realm", k[0])
	})
	grantsRefused = counterFamily(func(k [3]string) string {
		return series("gatehouse_grants_refused_total", "error", k[2], "grant_type", k[1], "realm", k[0])
	})
	logins = counterFamily(func(realm string) string {
		return series("gatehouse_logins_total", "realm", realm)
	})
	loginFailures = counterFamily(func(realm string) string {
		return series("gatehouse_login_failures_total", "realm", realm)
	})
)

// counterFamily is a counter family in counters, by label values K.
func counterFamily[K comparable](name func(K) string) *family[K, *vm.Counter] {
	return &family[K, *vm.Counter]{create: func(k K) *vm.Counter { return counters.GetOrCreateCounter(name(k)) }}
}

// family finds a series of one metric family by its label values K. The
// series (and its name) is made the first time K is seen; after that a
// lookup costs a map read.
type family[K comparable, M any] struct {
	create func(K) M
	m      sync.Map // K → M
}

func (f *family[K, M]) with(k K) M {
	if v, ok := f.m.Load(k); ok {
		return v.(M)
	}
	v := f.create(k)
	f.m.Store(k, v)
	return v
}

// Grant records the outcome of a token request for a grant type the
// endpoint supports: issued when err is nil, else refused with the OAuth
// error code of err ("server_error" for a failure without one).
//
// A password grant is also a login: its success counts as one, and its
// invalid_grant refusals (wrong credentials, disabled or locked account) as
// a login failure. Client authentication failures are not login failures.
func Grant(realm, grantType string, err error) {
	if err == nil {
		grantsIssued.with([2]string{realm, grantType}).Inc()
		if grantType == "password" {
			logins.with(realm).Inc()
		}
		return
	}
	code := errorCode(err)
	grantsRefused.with([3]string{realm, grantType, code}).Inc()
	if grantType == "password" && code == "invalid_grant" {
		loginFailures.with(realm).Inc()
	}
}

// Login records a login form submission: ok when the user's credentials
// were accepted.
func Login(realm string, ok bool) {
	if ok {
		logins.with(realm).Inc()
	} else {
		loginFailures.with(realm).Inc()
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
