package login

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/grant"
	"github.com/gatehouse-iam/gatehouse/internal/pkce"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
)

// authorize serves the authorization endpoint (OpenID Connect Core §3.1.2),
// by GET or by a form POST.
//
// Until the client and its redirect URI are known to be good, every error
// is a page: redirecting to an unchecked URI would make us an open redirector
// (RFC 6749 §4.1.2.1). After that, errors go back to the client.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) error {
	rl, err := h.loadRealm(r)
	if err != nil {
		return err
	}
	p, err := readParams(w, r, &rl)
	if err != nil {
		return err
	}
	p, origin, err := h.expandRequest(r, rl, p)
	if err != nil {
		return err
	}
	c, req, err := h.checkClient(r, rl, p)
	if err != nil {
		return err
	}
	if done, err := h.checkOrigin(w, r, rl, c, req, origin); done {
		return err
	}
	if code, desc := h.checkRequest(r.Context(), rl, c, p, &req); code != "" {
		return h.redirectError(w, r, rl, req, code, desc)
	}
	return h.start(w, r, rl, c, req)
}

// checkClient finds the client and its redirect URI.
func (h *Handler) checkClient(r *http.Request, rl realm.Realm, p params) (client.Client, authRequest, error) {
	var req authRequest
	clientID := p.get("client_id")
	if clientID == "" {
		return client.Client{}, req, errPage(http.StatusBadRequest, &rl, "missingParameterMessage", "client_id")
	}
	c, err := h.Store.GetClientByClientID(r.Context(), rl.ID, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return c, req, errPage(http.StatusBadRequest, &rl, "clientNotFoundMessage")
	}
	if err != nil {
		return c, req, err
	}
	switch {
	case !c.Enabled:
		return c, req, errPage(http.StatusBadRequest, &rl, "clientDisabledMessage")
	case c.BearerOnly:
		return c, req, errPage(http.StatusBadRequest, &rl, "bearerOnlyMessage")
	case c.Protocol != "" && c.Protocol != "openid-connect":
		return c, req, errPage(http.StatusBadRequest, &rl, "invalidParameterMessage", "client_id")
	}
	rules := c.RedirectRules(h.URLs.Base(r))
	req = authRequest{ClientID: c.ClientID, MaxAge: -1}
	if p.has("redirect_uri") {
		target, ok := rules.Match(p.get("redirect_uri"))
		if !ok {
			return c, req, &pageError{Status: http.StatusBadRequest, Key: "invalidParameterMessage", Args: []string{"redirect_uri"},
				Realm: &rl, Err: errors.New("redirect_uri not registered for " + c.ClientID)}
		}
		req.RedirectURI, req.Target = p.get("redirect_uri"), target
	} else {
		target, ok := rules.Single()
		if !ok {
			return c, req, errPage(http.StatusBadRequest, &rl, "invalidParameterMessage", "redirect_uri")
		}
		req.Target = target
	}
	req.State, req.HasState = p.get("state"), p.get("state") != ""
	return c, req, nil
}

// checkRequest validates the rest of the request, in Keycloak's order, and
// fills req. It returns the OAuth error to send to the client, if any.
func (h *Handler) checkRequest(ctx context.Context, rl realm.Realm, c client.Client, p params, req *authRequest) (code, desc string) {
	req.ResponseMode = "query"
	responseType := p.get("response_type")
	if responseType == "" {
		return "invalid_request", "Missing parameter: response_type"
	}
	types, ok := parseResponseType(responseType)
	if !ok {
		return "unsupported_response_type", ""
	}
	implicit := slices.Contains(types, "token") || slices.Contains(types, "id_token")
	switch mode := p.get("response_mode"); mode {
	case "":
		if implicit {
			req.ResponseMode = "fragment"
		}
	case "query", "fragment", "form_post":
		req.ResponseMode = mode
	case "query.jwt", "fragment.jwt", "form_post.jwt", "jwt":
		if c.Attributes[attrAuthzEncryptedAlg] != "" {
			// Encrypted responses are not served: the client gets a plain
			// error rather than a response it would not accept.
			return "invalid_request", "Invalid parameter: response_mode"
		}
		req.ResponseMode = resolveJWTMode(mode, implicit)
	default:
		return "invalid_request", "Invalid parameter: response_mode"
	}
	if implicit && req.ResponseMode == "query" {
		return "invalid_request", "Response_mode 'query' not allowed for implicit or hybrid flow"
	}
	if implicit && req.ResponseMode == "query.jwt" {
		return "invalid_request", "Response_mode 'query.jwt' is allowed only when the authorization response token is encrypted"
	}
	if (slices.Contains(types, "code") || slices.Contains(types, "none")) && !c.StandardFlowEnabled {
		return "unauthorized_client", "Client is not allowed to initiate browser login with given response_type. Standard flow is disabled for the client."
	}
	if implicit {
		if code, desc := checkImplicit(c, p.get("nonce")); code != "" {
			return code, desc
		}
	}
	if slices.Contains(types, "none") {
		return "unsupported_response_type", "response_type=none is not supported"
	}
	req.ResponseType = strings.Join(types, " ")
	req.Prompt = strings.Fields(p.get("prompt"))
	if slices.Contains(req.Prompt, "none") && len(req.Prompt) > 1 {
		return "invalid_request", "Invalid parameter: prompt"
	}
	if p.has("max_age") {
		n, err := strconv.ParseInt(p.get("max_age"), 10, 64)
		if err != nil || n < 0 {
			return "invalid_request", "Invalid parameter: max_age"
		}
		req.MaxAge = n
	}
	req.Scope = p.get("scope")
	if _, err := h.requestedScopes(ctx, rl, c, req.Scope); err != nil {
		if errors.Is(err, grant.ErrInvalidScope) {
			return "invalid_scope", "Invalid scopes: " + req.Scope
		}
		return "server_error", ""
	}
	req.Nonce = p.get("nonce")
	req.LoginHint = p.get("login_hint")
	req.IDPHint = p.get("kc_idp_hint")
	req.ACRValues = p.get("acr_values")
	req.Claims = p.get("claims")
	req.UILocales = p.get("ui_locales")
	req.KcAction = p.get("kc_action")
	method, desc := pkce.CheckChallenge(pkce.RequiredMethod(rl, c), p.get("code_challenge"), p.get("code_challenge_method"))
	if desc != "" {
		return "invalid_request", desc
	}
	if method != "" {
		req.CodeChallenge, req.CodeChallengeMethod = p.get("code_challenge"), method
	}
	// dpop_jkt (RFC 9449 §10) binds the code to a DPoP key: the token
	// request must prove that key.
	req.DPoPJkt = p.get("dpop_jkt")
	return "", ""
}

// parseResponseType splits a response_type into its sorted values; each of
// code, id_token, token at most once, or none alone.
func parseResponseType(s string) ([]string, bool) {
	types := strings.Fields(s)
	slices.Sort(types)
	if len(types) == 0 || len(types) != len(slices.Compact(slices.Clone(types))) {
		return nil, false
	}
	for _, t := range types {
		switch t {
		case "code", "id_token", "token":
		case "none":
			if len(types) > 1 {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return types, true
}

func hasPrompt(req authRequest, v string) bool { return slices.Contains(req.Prompt, v) }

// start walks the realm's browser flow (the client's override, if any):
// the SSO session may complete the login at once, or the flow's first page
// is shown.
func (h *Handler) start(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, req authRequest) error {
	return h.startFlow(w, r, rl, c, req)
}

// enter stores a login that waits for the browser, bound to this browser's
// AUTH_SESSION_ID cookie and given a tab id and a CSRF token.
func (h *Handler) enter(w http.ResponseWriter, r *http.Request, rl realm.Realm, id string, st loginState) (string, loginState, error) {
	if st.Browser == "" {
		st.Browser = h.browserID(w, r, rl)
		st.TabID = randomToken(8)
		st.CSRF = randomToken(32)
	}
	id, err := h.saveState(r, rl, id, st)
	return id, st, err
}

// chosenLocale is the kc_locale parameter when the realm speaks that
// language: internationalization on, and the locale among the realm's
// supported ones (the theme's when the realm lists none).
func chosenLocale(rl realm.Realm, p params) (string, bool) {
	l := p.get("kc_locale")
	if l == "" || len(l) > 32 || !rl.InternationalizationEnabled {
		return "", false
	}
	supported := rl.SupportedLocales
	if len(supported) == 0 {
		supported = ui.Locales()
	}
	return l, slices.Contains(supported, l)
}
