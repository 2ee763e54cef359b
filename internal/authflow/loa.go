package authflow

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/flow"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
)

// Levels of authentication (step-up), Keycloak's: NoLoA before a login
// reached any level, MinimumLoA for the SSO cookie alone.
const (
	NoLoA      = -1
	MinimumLoA = 0
)

// Keycloak's names: the acr→level map attribute of clients and realms, the
// user session note keeping the levels reached, the condition's config.
const (
	AttrACRLoAMap     = "acr.loa.map"
	AttrDefaultACR    = "default.acr.values"
	NoteLoAMap        = "loa-map"
	ConfigLoALevel    = "loa-condition-level"
	ConfigLoAMaxAge   = "loa-max-age"
	defaultLoAMaxAge  = 36000
	conditionalLoA    = "conditional-level-of-authentication"
	messageACRMissing = "acrNotFulfilled"
)

// ACRLoAMap is the client's acr→level map, or the realm's when the client
// has none.
func ACRLoAMap(rl realm.Realm, c client.Client) map[string]int {
	m := map[string]int{}
	if v := strings.TrimSpace(c.Attributes[AttrACRLoAMap]); v != "" && v != "{}" {
		if json.Unmarshal([]byte(v), &m) == nil && len(m) > 0 {
			return m
		}
	}
	m = map[string]int{}
	_ = json.Unmarshal([]byte(rl.Attributes[AttrACRLoAMap]), &m)
	return m
}

// RequestedLoA is the level a client asks with acr values: an essential
// acr claim of the claims parameter (forced), else a voluntary one, else
// acr_values, else the client's default.acr.values; each value is mapped
// through the acr→level map or read as a number, and the lowest level
// counts. NoLoA when nothing usable was asked.
func RequestedLoA(rl realm.Realm, c client.Client, acrValues, claims string) (level int, forced bool) {
	values, forced := claimACR(claims)
	if len(values) == 0 {
		values = strings.Fields(acrValues)
	}
	if len(values) == 0 && c.Attributes[AttrDefaultACR] != "" {
		values = strings.Split(c.Attributes[AttrDefaultACR], "##")
	}
	m := ACRLoAMap(rl, c)
	level = NoLoA
	for _, v := range values {
		n, ok := m[v]
		if !ok {
			var err error
			if n, err = strconv.Atoi(v); err != nil {
				continue // Keycloak ignores what it cannot map
			}
		}
		if level == NoLoA || n < level {
			level = n
		}
	}
	if level == NoLoA {
		forced = false
	}
	return level, forced
}

// claimACR reads the acr claim requested for the ID token in the claims
// parameter (OpenID Connect Core §5.5.1.1).
func claimACR(claims string) ([]string, bool) {
	if claims == "" {
		return nil, false
	}
	var doc struct {
		IDToken map[string]*struct {
			Essential bool     `json:"essential"`
			Value     string   `json:"value"`
			Values    []string `json:"values"`
		} `json:"id_token"`
	}
	if json.Unmarshal([]byte(claims), &doc) != nil || doc.IDToken["acr"] == nil {
		return nil, false
	}
	a := doc.IDToken["acr"]
	vals := a.Values
	if a.Value != "" {
		vals = append(vals, a.Value)
	}
	return vals, a.Essential && len(vals) > 0
}

// ACR is the acr claim of tokens from a login that reached level (NoLoA
// when no level condition ran): the level's name in the acr→level map, or
// the level as a number; without levels, "1" after authenticating and "0"
// when the SSO session alone logged in.
func ACR(rl realm.Realm, c client.Client, level int, sso bool) string {
	if level < MinimumLoA {
		if sso {
			return "0"
		}
		return "1"
	}
	m := ACRLoAMap(rl, c)
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if m[k] == level {
			return k
		}
	}
	return strconv.Itoa(level)
}

// EncodeLevels and DecodeLevels keep the levels a session reached (level →
// epoch seconds) as the user session note NoteLoAMap.
func EncodeLevels(levels map[int]int64) string {
	if len(levels) == 0 {
		return ""
	}
	b, _ := json.Marshal(levels)
	return string(b)
}

func DecodeLevels(s string) map[int]int64 {
	if s == "" {
		return nil
	}
	m := map[int]int64{}
	if json.Unmarshal([]byte(s), &m) != nil {
		return nil
	}
	return m
}

// loaConfig reads a level condition's config.
func loaConfig(cfg map[string]string) (level int, ok bool, maxAge int64) {
	maxAge = defaultLoAMaxAge
	if v, err := strconv.ParseInt(cfg[ConfigLoAMaxAge], 10, 64); err == nil && v >= 0 {
		maxAge = v
	}
	n, err := strconv.Atoi(strings.TrimSpace(cfg[ConfigLoALevel]))
	if err != nil {
		return 0, false, maxAge
	}
	return n, true, maxAge
}

// loaMaxAges maps each level the flow's conditions grant to its max age.
func loaMaxAges(model flow.Config, f flow.Flow, depth int, into map[int]int64) {
	if depth > maxDepth {
		return
	}
	for _, e := range f.Executions {
		if e.AuthenticatorFlow {
			if sub, ok := model.FlowByAlias(e.FlowAlias); ok {
				loaMaxAges(model, sub, depth+1, into)
			}
			continue
		}
		if e.Authenticator != conditionalLoA {
			continue
		}
		ac, ok := model.ConfigByAlias(e.AuthenticatorConfig)
		if !ok {
			continue
		}
		if level, ok, maxAge := loaConfig(ac.Config); ok {
			into[level] = maxAge
		}
	}
}

// previousLevel is the highest level of earlier logins still valid by the
// max ages of the flow's conditions (MinimumLoA with none; NoLoA when the
// session has no levels at all).
func previousLevel(c *Context) int {
	if len(c.State.Levels) == 0 {
		return NoLoA
	}
	ages := map[int]int64{}
	loaMaxAges(c.Model, c.TopFlow, 0, ages)
	levels := make([]int, 0, len(c.State.Levels))
	for l := range c.State.Levels {
		levels = append(levels, l)
	}
	sort.Ints(levels)
	best, now := MinimumLoA, c.Now.Unix()
	for _, l := range levels {
		if now > c.State.Levels[l]+ages[l] {
			break
		}
		best = l
	}
	return best
}

// topFlowSuccess refuses a login that did not reach a level the client
// demanded as essential.
func topFlowSuccess(c *Context) error {
	if c.Req.ForceLoA && c.Req.RequestedLoA > c.State.Level {
		return &Error{Event: "generic_authentication_error", Key: messageACRMissing, UserID: c.User.ID,
			Username: c.User.Username, OAuth: OAuthError{http.StatusBadRequest, "invalid_request", "Authentication requirements not fulfilled"},
			Detail: "requested level " + strconv.Itoa(c.Req.RequestedLoA) + ", reached " + strconv.Itoa(c.State.Level)}
	}
	return nil
}

// ACRValuesSupported is the discovery document's acr_values_supported:
// the names of the realm's acr→level map, then the levels the realm's
// browser flow grants.
func ACRValuesSupported(rl realm.Realm, model flow.Config) []string {
	m := map[string]int{}
	_ = json.Unmarshal([]byte(rl.Attributes[AttrACRLoAMap]), &m)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	if top, ok := model.FlowByAlias(model.Bindings.Browser); ok {
		ages := map[int]int64{}
		loaMaxAges(model, top, 0, ages)
		levels := make([]int, 0, len(ages))
		for l := range ages {
			levels = append(levels, l)
		}
		sort.Ints(levels)
		for _, l := range levels {
			out = append(out, strconv.Itoa(l))
		}
	}
	return out
}
