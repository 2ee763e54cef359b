package session

import (
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

func TestDecideRefresh(t *testing.T) {
	rotating := func(maxReuse int) realm.Realm {
		r := realm.New("id", "r")
		r.RevokeRefreshToken, r.RefreshTokenMaxReuse = true, maxReuse
		return r
	}
	off := realm.New("id", "r")
	off.RevokeRefreshToken = false
	fresh := ClientSession{ID: "cs", Timestamp: 1000}
	cur := func(jti string, count int, ts int64) ClientSession {
		return ClientSession{ID: "cs", Timestamp: ts, CurrentRefreshToken: jti, RefreshUseCount: count}
	}
	use := func(jti string, iat int64) RefreshUse { return RefreshUse{Jti: jti, Iat: iat} }
	from := func(jti string, iat int64, rotatedFrom string) RefreshUse {
		return RefreshUse{Jti: jti, Iat: iat, RotatedFrom: rotatedFrom, HasLineage: true}
	}
	tests := []struct {
		name   string
		realm  realm.Realm
		stored ClientSession
		use    RefreshUse
		now    int64
		want   RefreshVerdict
		reason string
		next   ClientSession // when accepted
	}{
		{"rotation off: any use, only the timestamp moves", off, cur("t9", 7, 1020), use("t1", 1000), 1030,
			RefreshAccept, "", cur("t9", 7, 1030)},
		{"rotation off: the timestamp never moves back", off, cur("", 0, 1050), use("t1", 1000), 1030,
			RefreshAccept, "", cur("", 0, 1050)},
		{"first use makes the token current", rotating(1), fresh, use("t1", 1000), 1010,
			RefreshAccept, "", cur("t1", 1, 1010)},
		{"second use within max reuse 1", rotating(1), cur("t1", 1, 1010), use("t1", 1000), 1020,
			RefreshAccept, "", cur("t1", 2, 1020)},
		{"third use past max reuse 1 ends the family", rotating(1), cur("t1", 2, 1020), use("t1", 1000), 1030,
			RefreshRevokeFamily, ReasonReuseExceeded, ClientSession{}},
		{"second use with max reuse 0 ends the family", rotating(0), cur("t1", 1, 1010), use("t1", 1000), 1011,
			RefreshRevokeFamily, ReasonReuseExceeded, ClientSession{}},
		{"older sibling issued before the last token is stale", rotating(1), cur("t1", 2, 1020), use("t2", 1010), 1040,
			RefreshRevokeFamily, ReasonStale, ClientSession{}},
		{"latest token becomes current with a fresh count", rotating(1), cur("t1", 2, 1020), use("t3", 1020), 1050,
			RefreshAccept, "", cur("t3", 1, 1050)},
		{"token minted from the current one is accepted", rotating(0), cur("t1", 1, 1010), from("t2", 1010, "t1"), 1010,
			RefreshAccept, "", cur("t2", 1, 1010)},
		// Within one second the clock cannot tell t1 from t2; the lineage can.
		{"rotated-out token ends the family within the same second", rotating(0), cur("t3", 1, 1010), from("t2", 1010, "t1"), 1010,
			RefreshRevokeFamily, ReasonStale, ClientSession{}},
		{"token minted in a new session once another is current", rotating(0), cur("t2", 1, 1010), from("t1", 1010, ""), 1010,
			RefreshRevokeFamily, ReasonStale, ClientSession{}},
		{"lineage does not matter for the current token itself", rotating(1), cur("t2", 1, 1010), from("t2", 1005, "t0"), 1020,
			RefreshAccept, "", cur("t2", 2, 1020)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := DecideRefresh(tt.realm, tt.stored, tt.use, tt.now)
			if d.Verdict != tt.want || d.Reason != tt.reason {
				t.Fatalf("verdict %v %q, want %v %q", d.Verdict, d.Reason, tt.want, tt.reason)
			}
			if d.Verdict == RefreshAccept && (d.Session.CurrentRefreshToken != tt.next.CurrentRefreshToken ||
				d.Session.RefreshUseCount != tt.next.RefreshUseCount || d.Session.Timestamp != tt.next.Timestamp || d.Session.ID != "cs") {
				t.Fatalf("stores %+v, want %+v", d.Session, tt.next)
			}
		})
	}
}
