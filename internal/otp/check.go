package otp

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/authn"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// maxCode bounds what is worth checking: no policy has more than 9 digits.
const maxCode = 16

// Check reports whether code is a valid one-time password of any of u's OTP
// credentials at now. It is the one check of an OTP code at login (the OTP
// form, the direct grant's OTP step): the authenticators call it and act on
// the answer.
//
// A code works once. For TOTP, unless the realm's policy allows code reuse,
// the time step a code was accepted for is spent in the store
// (store.ConsumeOnce), so that two logins racing with one code, on any
// nodes sharing the database, give one success. For HOTP the credential's
// counter moves past the accepted code by compare-and-set, with the same
// effect, and the realm's look-ahead window lets the app be a few codes
// ahead.
//
// The check is an attempt under the realm's brute-force detection
// (authn.Attempt): a wrong or spent code counts as a failed login, and a
// locked-out user's code is not looked at. The client's address for the
// failure record comes from ctx (authn.WithClientIP). Neither the code nor
// a secret reaches a log line or an error.
func Check(ctx context.Context, db *store.DB, rl realm.Realm, u user.User, code string, now time.Time) (bool, error) {
	code = strings.TrimSpace(code)
	_, verdict, err := authn.Attempt(ctx, db, nil, rl, u, authn.ClientIP(ctx), now, func(tx *store.DB, cur user.User) (bool, error) {
		if code == "" || len(code) > maxCode {
			return false, nil
		}
		return use(ctx, tx, rl, cur, code, now)
	})
	return err == nil && verdict == authn.Accepted, err
}

// use finds the credential code is valid for and spends the code.
func use(ctx context.Context, db *store.DB, rl realm.Realm, u user.User, code string, now time.Time) (bool, error) {
	creds, err := db.ListCredentials(ctx, u.ID)
	if err != nil {
		return false, err
	}
	p := rl.OTP()
	for _, sc := range creds {
		if sc.Type != Type {
			continue
		}
		c, err := decode(sc)
		if err != nil {
			// One unreadable credential must not hide the others.
			continue
		}
		n, ok := c.match(code, p.LookAheadWindow, now)
		if !ok {
			continue
		}
		if c.data.SubType == HOTP {
			next := c.data
			next.Counter = int(n) + 1
			err := db.UpdateCredentialData(ctx, c.ID, c.CredentialData, marshal(next))
			if errors.Is(err, store.ErrNotFound) {
				// Another login moved the counter (or removed the
				// credential) first: this code is spent.
				return false, nil
			}
			return err == nil, err
		}
		return spendStep(ctx, db, rl, c.ID, c.data.Period, n)
	}
	return false, nil
}

// spendStep marks TOTP time step n of credential id as used, unless the
// realm's policy allows code reuse, and reports whether it was still
// unused. The step stays spent while any window could still accept it.
func spendStep(ctx context.Context, db *store.DB, rl realm.Realm, id string, period int, n int64) (bool, error) {
	p := rl.OTP()
	if p.CodeReusable {
		return true, nil
	}
	until := (n + int64(max(p.LookAheadWindow, 0)) + 1) * int64(period)
	return db.ConsumeOnce(ctx, rl.ID, "otp:"+id+":"+strconv.FormatInt(n, 10), until)
}
