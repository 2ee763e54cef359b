package fault_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// family is one login's tokens as the client saw them: every refresh token
// that came back with a 200, the latest access token, and whether a
// revocation came back with a 200 (revoked) or with no answer (unknown:
// the test cannot say what the server committed).
type family struct {
	rts     []string
	at      string
	revoked bool
	unknown bool
}

// F5: kill -9 a node in the middle of password, refresh, userinfo and
// revocation traffic. Every answer the client got is the truth after the
// restart: every refresh token that came back with a 200 still works, every
// revocation that came back with a 200 still holds. Readiness after the
// restart is measured and logged (SECURITY.md asks < 1 s on SQLite); the
// test does not assert wall-clock time.
func TestF5KillUnderLoad(t *testing.T) {
	forBackends(t, func(t *testing.T, kind store.Dialect) {
		b := newBackend(t, kind, realmSettings{})
		nodes := []*node{startNode(t, "a", b)}
		if kind == store.Postgres {
			nodes = append(nodes, startNode(t, "b", b))
		}
		victim := nodes[0]

		// Logins to start from, through stored codes (no password hashing,
		// so the load is mostly the requests under test).
		fx := loadFixture(t, b.db)
		const workers = 6
		seed := make([][]*family, workers)
		for i, code := range fx.newCodes(t, 8*workers) {
			r := nodes[i%len(nodes)].redeem(code)
			if r.status != http.StatusOK {
				t.Fatalf("redeem a code: %v", r)
			}
			seed[i%workers] = append(seed[i%workers], &family{rts: []string{r.str("refresh_token")}, at: r.str("access_token")})
		}
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			families []*family
			counts   = map[string]int{}
		)
		count := func(what string) {
			mu.Lock()
			counts[what]++
			mu.Unlock()
		}
		stop := make(chan struct{})
		for w := range workers {
			wg.Go(func() {
				mine := seed[w] // a worker owns its families: no two requests race on one
				for i := 0; ; i++ {
					select {
					case <-stop:
						mu.Lock()
						families = append(families, mine...)
						mu.Unlock()
						return
					default:
					}
					n := nodes[(w+i)%len(nodes)]
					live := liveFamilies(mine)
					var r reply
					switch {
					case len(live) == 0 || i%10 == 0:
						r = n.password()
						count("password " + outcome(r))
						if r.status == http.StatusOK {
							mine = append(mine, &family{rts: []string{r.str("refresh_token")}, at: r.str("access_token")})
						}
					case i%10 < 6:
						f := live[i%len(live)]
						r = n.refresh(f.rts[len(f.rts)-1])
						count("refresh " + outcome(r))
						if r.status == http.StatusOK {
							f.rts, f.at = append(f.rts, r.str("refresh_token")), r.str("access_token")
						}
					case i%10 < 9:
						f := live[i%len(live)]
						r = n.userinfo(f.at)
						count("userinfo " + outcome(r))
					default:
						f := live[i%len(live)]
						r = n.revoke(f.rts[0])
						count("revoke " + outcome(r))
						if r.status == http.StatusOK {
							f.revoked = true
						} else {
							f.unknown = true
						}
					}
					if r.err != nil {
						time.Sleep(5 * time.Millisecond) // the node is down; do not spin
					}
				}
			})
		}
		// The kill comes once the load has done enough of what is checked
		// afterwards, however slow the machine: a fixed 1.5 s did too little
		// on a loaded one (CI: 26 requests, no revocation, a failed run).
		enough := func() bool {
			mu.Lock()
			defer mu.Unlock()
			return counts["revoke OK"] >= 2 && counts["refresh OK"] >= 20
		}
		for deadline := time.Now().Add(2 * time.Minute); !enough(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				close(stop)
				wg.Wait()
				t.Fatalf("%s: the load did too little to check in 2 minutes: %v", kind, counts)
			}
		}
		victim.kill()
		killedAt := time.Now()
		time.Sleep(300 * time.Millisecond) // load goes on: refused by the dead node, served by the live one
		close(stop)
		wg.Wait()
		victim.start(t)
		t.Logf("%s: node killed under load; restarted and ready in %s (%.1f s after the kill, load included)",
			kind, victim.readyIn.Round(time.Millisecond/10), time.Since(killedAt).Seconds())
		t.Logf("%s: load outcomes %v", kind, counts)

		checked, revoked, skipped := 0, 0, 0
		for _, f := range families {
			switch {
			case f.unknown:
				skipped++
			case f.revoked:
				revoked++
				for _, n := range nodes {
					if r := n.refresh(f.rts[len(f.rts)-1]); r.status != http.StatusBadRequest {
						t.Errorf("a refresh token whose revocation got a 200 works after the crash: %v", r)
					}
				}
			default:
				for i, rt := range f.rts {
					checked++
					if r := nodes[i%len(nodes)].refresh(rt); r.status != http.StatusOK {
						t.Errorf("a refresh token that got a 200 before the crash fails after it: %v", r)
					}
				}
			}
		}
		t.Logf("%s: %d login families: %d refresh tokens checked live, %d families checked revoked, %d with an unanswered revocation skipped",
			kind, len(families), checked, revoked, skipped)
		if checked == 0 || revoked == 0 {
			t.Errorf("the load produced %d live refresh tokens and %d revocations: too little to check", checked, revoked)
		}
	})
}

func liveFamilies(fs []*family) []*family {
	var out []*family
	for _, f := range fs {
		if !f.revoked && !f.unknown {
			out = append(out, f)
		}
	}
	return out
}

// outcome names a reply for the load summary.
func outcome(r reply) string {
	if r.err != nil {
		return "connection error"
	}
	return http.StatusText(r.status)
}
