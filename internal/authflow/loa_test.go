package authflow

import (
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

func TestRequestedLoAAndACR(t *testing.T) {
	rl := realm.Realm{Attributes: map[string]string{AttrACRLoAMap: `{"bronze":1,"platinum":3}`}}
	withMap := client.Client{Attributes: map[string]string{AttrACRLoAMap: `{"silver":1,"gold":2}`, AttrDefaultACR: "gold"}}
	plain := client.Client{Attributes: map[string]string{}}
	cases := []struct {
		name              string
		c                 client.Client
		acrValues, claims string
		level             int
		forced            bool
	}{
		{"nothing asked", plain, "", "", NoLoA, false},
		{"the client's map", withMap, "gold", "", 2, false},
		{"the lowest of several", withMap, "gold silver", "", 1, false},
		{"a number", plain, "2", "", 2, false},
		{"the realm's map when the client has none", plain, "platinum", "", 3, false},
		{"unknown names are ignored", plain, "nope", "", NoLoA, false},
		{"the client's default", withMap, "", "", 2, false},
		{"an essential claim forces", plain, "1", `{"id_token":{"acr":{"essential":true,"values":["platinum"]}}}`, 3, true},
		{"a voluntary claim does not", plain, "", `{"id_token":{"acr":{"values":["bronze"]}}}`, 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			level, forced := RequestedLoA(rl, tc.c, tc.acrValues, tc.claims)
			if level != tc.level || forced != tc.forced {
				t.Errorf("got %d %v, want %d %v", level, forced, tc.level, tc.forced)
			}
		})
	}
	for _, tc := range []struct {
		c     client.Client
		level int
		sso   bool
		want  string
	}{
		{plain, NoLoA, false, "1"},
		{plain, NoLoA, true, "0"},
		{withMap, 2, false, "gold"},
		{plain, 3, true, "platinum"},
		{withMap, 5, false, "5"},
	} {
		if got := ACR(rl, tc.c, tc.level, tc.sso); got != tc.want {
			t.Errorf("ACR(level %d, sso %v) = %q, want %q", tc.level, tc.sso, got, tc.want)
		}
	}
}
