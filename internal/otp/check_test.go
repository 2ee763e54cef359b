package otp_test

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	potp "github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/otp"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// t0 is the fake clock's start, on a 30 s and 60 s step boundary.
var t0 = time.Unix(1_800_000_000, 0)

const secret = "Gh7pQ2xLm9ZaT4vW1bNc"

func b32(s string) string { return base32.StdEncoding.EncodeToString([]byte(s)) }

var algs = map[string]potp.Algorithm{"HmacSHA1": potp.AlgorithmSHA1, "HmacSHA256": potp.AlgorithmSHA256, "HmacSHA512": potp.AlgorithmSHA512}

// totpCode computes a code as an authenticator app does, with the library
// directly: the package under test is not asked.
func totpCode(t testing.TB, s string, p realm.OTPPolicy, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(b32(s), at, totp.ValidateOpts{Period: uint(p.Period), Digits: potp.Digits(p.Digits), Algorithm: algs[p.Algorithm]})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func hotpCode(t testing.TB, s string, p realm.OTPPolicy, counter uint64) string {
	t.Helper()
	c, err := hotp.GenerateCodeCustom(b32(s), counter, hotp.ValidateOpts{Digits: potp.Digits(p.Digits), Algorithm: algs[p.Algorithm]})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type fixture struct {
	db *store.DB
	rl realm.Realm
	u  user.User
}

func setup(t *testing.T, db *store.DB, p realm.OTPPolicy, edit func(*realm.Realm)) fixture {
	t.Helper()
	rl := realm.New(store.NewID(), "otp-"+strings.ToLower(rand.Text()[:8]))
	rl.OTPPolicy = &p
	if edit != nil {
		edit(&rl)
	}
	if err := db.CreateRealm(t.Context(), rl); err != nil {
		t.Fatal(err)
	}
	u := user.User{ID: store.NewID(), RealmID: rl.ID, Username: "alice", Enabled: true}
	if err := db.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return fixture{db, rl, u}
}

// enroll sets a credential up as the setup page does, with a valid first code.
func (f fixture) enroll(t *testing.T, s, label string, at time.Time) user.Credential {
	t.Helper()
	p := f.rl.OTP()
	code := ""
	if p.Type == otp.HOTP {
		code = hotpCode(t, s, p, uint64(p.InitialCounter))
	} else {
		code = totpCode(t, s, p, at)
	}
	c, err := otp.Setup(t.Context(), f.db, f.rl, f.u, s, code, label, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f fixture) check(t *testing.T, code string, at time.Time) bool {
	t.Helper()
	ok, err := otp.Check(t.Context(), f.db, f.rl, f.u, code, at)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestTOTP(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		for _, p := range []realm.OTPPolicy{
			realm.DefaultOTPPolicy(),
			{Type: "totp", Algorithm: "HmacSHA256", Digits: 8, Period: 60, LookAheadWindow: 1},
			{Type: "totp", Algorithm: "HmacSHA512", Digits: 6, Period: 30, LookAheadWindow: 0},
		} {
			t.Run(p.Algorithm, func(t *testing.T) {
				f := setup(t, db, p, nil)
				c := f.enroll(t, secret, "", t0)
				if c.CredentialData != `{"subType":"totp","digits":`+itoa(p.Digits)+`,"counter":0,"period":`+itoa(p.Period)+`,"algorithm":"`+p.Algorithm+`"}` ||
					c.SecretData != `{"value":"`+secret+`"}` || c.Type != "otp" {
					t.Errorf("stored credential: %+v", c)
				}
				period := time.Duration(p.Period) * time.Second
				now := t0.Add(5 * period)
				if !f.check(t, totpCode(t, secret, p, now), now) {
					t.Error("the current code is refused")
				}
				if f.check(t, totpCode(t, secret, p, now), now) {
					t.Error("the same code is accepted twice")
				}
				// The window allows the previous step (a slow typist) and the
				// next one (a fast clock), never two away.
				now = now.Add(3 * period)
				prev, next := totpCode(t, secret, p, now.Add(-period)), totpCode(t, secret, p, now.Add(period))
				if got := f.check(t, prev, now); got != (p.LookAheadWindow >= 1) {
					t.Errorf("previous step's code: %v", got)
				}
				if got := f.check(t, next, now); got != (p.LookAheadWindow >= 1) {
					t.Errorf("next step's code: %v", got)
				}
				if f.check(t, totpCode(t, secret, p, now.Add(-2*period)), now) {
					t.Error("a code two steps old is accepted")
				}
				if f.check(t, "12345", now) || f.check(t, "", now) || f.check(t, "abcdef", now) {
					t.Error("malformed code accepted")
				}
			})
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

func authnCtx(t *testing.T) context.Context { return authn.WithClientIP(t.Context(), "203.0.113.7") }

func TestCodeReusable(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		p := realm.DefaultOTPPolicy()
		p.CodeReusable = true
		f := setup(t, open(t), p, nil)
		f.enroll(t, secret, "", t0)
		code := totpCode(t, secret, p, t0.Add(time.Hour))
		for i := range 2 {
			if !f.check(t, code, t0.Add(time.Hour)) {
				t.Errorf("use %d of a reusable code refused", i+1)
			}
		}
	})
}

func TestSeveralDevices(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		p := realm.DefaultOTPPolicy()
		f := setup(t, open(t), p, nil)
		f.enroll(t, secret, "phone", t0)
		other := otp.NewSecret()
		f.enroll(t, other, "tablet", t0)
		now := t0.Add(time.Hour)
		if !f.check(t, totpCode(t, other, p, now), now) || !f.check(t, totpCode(t, secret, p, now), now) {
			t.Error("a code of one of the devices is refused")
		}
	})
}

func TestHOTP(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		p := realm.OTPPolicy{Type: "hotp", Algorithm: "HmacSHA1", Digits: 6, InitialCounter: 3, LookAheadWindow: 2, Period: 30}
		f := setup(t, open(t), p, nil)
		c := f.enroll(t, secret, "", t0) // spends counter 3
		if c.CredentialData != `{"subType":"hotp","digits":6,"counter":4,"period":30,"algorithm":"HmacSHA1"}` {
			t.Errorf("credential data after setup: %s", c.CredentialData)
		}
		if f.check(t, hotpCode(t, secret, p, 3), t0) {
			t.Error("the setup code is accepted again")
		}
		// The app made codes 4 and 5 that nobody used: 6 is in the window.
		if !f.check(t, hotpCode(t, secret, p, 6), t0) {
			t.Error("a code within the look-ahead window is refused")
		}
		if f.check(t, hotpCode(t, secret, p, 5), t0) || f.check(t, hotpCode(t, secret, p, 6), t0) {
			t.Error("a code behind the counter is accepted")
		}
		if f.check(t, hotpCode(t, secret, p, 10), t0) {
			t.Error("a code past the look-ahead window is accepted")
		}
		if !f.check(t, hotpCode(t, secret, p, 7), t0) {
			t.Error("the next code is refused")
		}
		cs, _ := f.db.ListCredentials(t.Context(), f.u.ID)
		if len(cs) != 1 || cs[0].CredentialData != `{"subType":"hotp","digits":6,"counter":8,"period":30,"algorithm":"HmacSHA1"}` {
			t.Errorf("stored counter: %+v", cs)
		}
	})
}

// TestConcurrentUse is two logins with one code on two nodes sharing the
// database: exactly one is let in.
func TestConcurrentUse(t *testing.T) {
	for _, typ := range []string{"totp", "hotp"} {
		t.Run(typ, func(t *testing.T) {
			both(t, func(t *testing.T, a, b *store.DB) {
				p := realm.DefaultOTPPolicy()
				p.Type = typ
				f := setup(t, a, p, nil)
				f.enroll(t, secret, "", t0)
				now := t0.Add(10 * time.Minute)
				code := totpCode(t, secret, p, now)
				if typ == "hotp" {
					code = hotpCode(t, secret, p, 1)
				}
				for round := range 5 {
					var (
						wg   sync.WaitGroup
						mu   sync.Mutex
						wins int
					)
					for i := range 2 {
						db := []*store.DB{a, b}[i]
						wg.Go(func() {
							ok, err := otp.Check(context.Background(), db, f.rl, f.u, code, now)
							if err != nil {
								t.Error(err)
							}
							if ok {
								mu.Lock()
								wins++
								mu.Unlock()
							}
						})
					}
					wg.Wait()
					if want := map[bool]int{true: 1, false: 0}[round == 0]; wins != want {
						t.Errorf("round %d: %d logins let in with one code, want %d", round, wins, want)
					}
				}
			})
		})
	}
}

// both gives fn two handles on one database, as two nodes have: one SQLite
// file, one PostgreSQL schema.
func both(t *testing.T, fn func(t *testing.T, a, b *store.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "g.db")
		fn(t, openAt(t, store.SQLite, path), openAt(t, store.SQLite, path))
	})
	t.Run("postgres", func(t *testing.T) {
		url := storetest.PostgresURL(t)
		fn(t, openAt(t, store.Postgres, url), openAt(t, store.Postgres, url))
	})
}

func openAt(t *testing.T, d store.Dialect, dsn string) *store.DB {
	db, err := store.Open(context.Background(), d, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestBruteForce: wrong codes count toward the same lockout as wrong
// passwords, and a locked user's right code is refused.
func TestBruteForce(t *testing.T) {
	storetest.Both(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		p := realm.DefaultOTPPolicy()
		f := setup(t, open(t), p, func(rl *realm.Realm) {
			rl.BruteForceProtected, rl.FailureFactor, rl.WaitIncrementSeconds = true, 3, 60
			rl.MaxFailureWaitSeconds, rl.MaxDeltaTimeSeconds = 900, 43200
		})
		f.enroll(t, secret, "", t0)
		now := t0.Add(time.Hour)
		ctx := authnCtx(t)
		for i := range 3 {
			at := now.Add(time.Duration(i) * 5 * time.Second)
			if ok, err := otp.Check(ctx, f.db, f.rl, f.u, "000000", at); ok || err != nil {
				t.Fatalf("wrong code %d: %v %v", i, ok, err)
			}
		}
		lf, err := f.db.GetLoginFailure(t.Context(), f.rl.ID, f.u.ID)
		if err != nil || lf.NumFailures != 3 || lf.LastIPFailure != "203.0.113.7" || lf.LockedUntil == 0 {
			t.Fatalf("failure record: %+v %v", lf, err)
		}
		at := now.Add(20 * time.Second)
		if f.check(t, totpCode(t, secret, p, at), at) {
			t.Error("a locked user's right code is accepted")
		}
		at = now.Add(5 * time.Minute)
		if !f.check(t, totpCode(t, secret, p, at), at) {
			t.Error("the right code after the lockout is refused")
		}
		if lf, _ := f.db.GetLoginFailure(t.Context(), f.rl.ID, f.u.ID); lf.NumFailures != 0 {
			t.Errorf("a success left failures: %+v", lf)
		}
	})
}
