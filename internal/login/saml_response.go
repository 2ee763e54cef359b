package login

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/client"
	"github.com/gatehouse-iam/gatehouse/internal/grant"
	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/saml"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
	"github.com/gatehouse-iam/gatehouse/internal/user"
)

// protocol is the login protocol of the request, as the user session's
// AuthMethod records it.
func (req authRequest) protocol() string {
	if req.SAML != nil {
		return protocolSAML
	}
	return "openid-connect"
}

// samlPrepared is what a SAML login decided before its sessions are
// stored: the client's settings and the NameID the assertion (and later
// the logout) names the user by.
type samlPrepared struct {
	settings     saml.ClientSettings
	nameID       string
	nameIDFormat string
	binding      string
	idpInitiated string
}

// samlPrepare reads the client's settings and chooses the NameID. A user
// the client's NameID format cannot name (an email format and no email)
// is answered with a failed Response, as nothing else can be sent.
func (h *Handler) samlPrepare(r *http.Request, rl realm.Realm, c client.Client, st loginState, u user.User) (*samlPrepared, error) {
	cs, err := h.samlSettings(r, c)
	if err != nil {
		return nil, fmt.Errorf("SAML settings of client %q: %w", c.ClientID, err)
	}
	value, format, err := saml.NameID(cs, st.Req.SAML.NameIDFormat, u)
	if err != nil {
		return nil, &samlFailure{code: "invalid_request", err: err}
	}
	return &samlPrepared{settings: cs, nameID: value, nameIDFormat: format, binding: st.Req.SAML.Binding,
		idpInitiated: st.Req.SAML.IdPInitiated}, nil
}

// samlFailure is a SAML login that cannot succeed: it is answered to the
// client with an error status, code naming it as an OAuth error would.
type samlFailure struct {
	code string
	err  error
}

func (f *samlFailure) Error() string { return "SAML login failed: " + f.code + ": " + f.err.Error() }
func (f *samlFailure) Unwrap() error { return f.err }

// sessionIndex is the SessionIndex of a client's assertion, as Keycloak
// forms it: the user session and the client session, so a LogoutRequest
// carrying it names both.
func sessionIndex(userSessionID, clientSessionID string) string {
	return userSessionID + "::" + clientSessionID
}

// addNotes writes the client session notes of a SAML login into notes
// (nothing for an OpenID Connect login, whose sp is nil).
func (sp *samlPrepared) addNotes(notes map[string]string, userSessionID, clientSessionID string) {
	if sp == nil {
		return
	}
	maps.Copy(notes, sp.notes(userSessionID, clientSessionID))
}

func (sp *samlPrepared) notes(userSessionID, clientSessionID string) map[string]string {
	n := map[string]string{
		noteSAMLNameID:       sp.nameID,
		noteSAMLNameIDFormat: sp.nameIDFormat,
		noteSAMLSessionIndex: sessionIndex(userSessionID, clientSessionID),
		noteSAMLBinding:      sp.binding,
	}
	if sp.idpInitiated != "" {
		n[noteSAMLIdPInitiated] = sp.idpInitiated
	}
	return n
}

// notesDiffer reports whether the client session's notes lack some of this
// login's.
func (sp *samlPrepared) notesDiffer(notes map[string]string, userSessionID, clientSessionID string) bool {
	if sp == nil {
		return false
	}
	for k, v := range sp.notes(userSessionID, clientSessionID) {
		if notes[k] != v {
			return true
		}
	}
	return false
}

// samlRespond ends a successful SAML login: the Response with its
// assertion (the attributes of the client's and its default scopes' SAML
// mappers, the user's roles within the client's role scope), signed and
// encrypted as the client asks, delivered to the ACS.
func (h *Handler) samlRespond(w http.ResponseWriter, r *http.Request, rl realm.Realm, c client.Client, st loginState,
	u user.User, us session.UserSession, cs session.ClientSession, sp *samlPrepared) error {
	ctx := r.Context()
	scopes, err := grant.DefaultScopes(ctx, h.Store, rl, c, protocolSAML)
	if err != nil {
		return err
	}
	access, err := grant.Resolve(ctx, h.Store, rl, c, u, scopes)
	if err != nil {
		return err
	}
	mappers := samlMappers(c.ProtocolMappers)
	for _, sc := range access.Scopes {
		mappers = append(mappers, samlMappers(sc.ProtocolMappers)...)
	}
	attrs := saml.MapAttributes(mappers, saml.Subject{User: u, RealmRoles: access.RealmRoles,
		ClientRoles: access.ClientRoles, Groups: access.Groups})
	set := sp.settings
	signer, err := h.samlSigner(ctx, rl, set)
	if err != nil {
		return err
	}
	now := h.Now()
	in := saml.ResponseInput{
		Issuer: h.URLs.RealmURL(r, rl.Name), Destination: st.Req.SAML.ACS, InResponseTo: st.Req.SAML.RequestID,
		Audience: c.ClientID, ExtraAudiences: saml.MapAudiences(mappers), NameID: sp.nameID, NameIDFormat: sp.nameIDFormat,
		SessionIndex: sessionIndex(us.ID, cs.ID), AuthnInstant: time.Unix(st.AuthTime, 0), Now: now,
		Lifespan: assertionLifespan(rl, set), Attributes: attrs,
		AuthnStatement: set.AuthnStatement, SignDocument: set.ServerSignature, SignAssertion: set.AssertionSignature,
		Signer: signer,
	}
	if exp := session.MaxExpiresAt(rl, us); exp > 0 {
		in.SessionNotOnOrAfter = time.Unix(exp, 0)
	}
	if set.Encrypt {
		in.EncryptTo = set.EncryptionCert
		in.EncryptionAlgorithm, in.KeyEncryptionAlgorithm = set.EncryptionAlgorithm, set.KeyEncryptionAlgorithm
		in.KeyEncryptionDigest, in.KeyEncryptionMGF = set.KeyEncryptionDigest, set.KeyEncryptionMGF
	}
	doc, err := saml.BuildResponse(in)
	if err != nil {
		return fmt.Errorf("build SAML response for %q: %w", c.ClientID, err)
	}
	return h.samlSend(w, r, rl, st.Req.UILocales, st.Req.SAML.ACS, st.Req.SAML.Binding, "SAMLResponse", doc,
		st.Req.SAML.RelayState, signer, set.ServerSignature)
}

// samlMappers keeps the SAML protocol mappers of ms.
func samlMappers(ms []client.ProtocolMapper) []client.ProtocolMapper {
	var out []client.ProtocolMapper
	for _, m := range ms {
		if m.Protocol == protocolSAML {
			out = append(out, m)
		}
	}
	return out
}

// assertionLifespan is how long an assertion is valid: the client's
// saml.assertion.lifespan, else the realm's access code lifespan, as in
// Keycloak.
func assertionLifespan(rl realm.Realm, cs saml.ClientSettings) time.Duration {
	if cs.AssertionLifespan > 0 {
		return cs.AssertionLifespan
	}
	return time.Duration(max(rl.AccessCodeLifespan, 60)) * time.Second
}

// samlSigner is the realm key that signs for a client, with the client's
// algorithm; nil when the client wants nothing signed.
func (h *Handler) samlSigner(ctx context.Context, rl realm.Realm, cs saml.ClientSettings) (*saml.Signer, error) {
	if !cs.ServerSignature && !cs.AssertionSignature {
		return nil, nil
	}
	ks, err := h.Store.ListKeys(ctx, rl.ID)
	if err != nil {
		return nil, err
	}
	s, err := cs.Signer(ks)
	if err != nil {
		return nil, fmt.Errorf("SAML signing key of realm %q: %w", rl.Name, err)
	}
	return s, nil
}

// samlError answers a SAML login that failed after its client and ACS were
// checked with a Response carrying no assertion, only a status: NoPassive
// when IsPassive forbade a page, RequestDenied otherwise (Keycloak's
// choice, a declined consent included).
func (h *Handler) samlError(w http.ResponseWriter, r *http.Request, rl realm.Realm, req authRequest, code string) error {
	ctx := r.Context()
	c, err := h.Store.GetClientByClientID(ctx, rl.ID, req.ClientID)
	if err != nil {
		return errPage(http.StatusBadRequest, &rl, "clientNotFoundMessage")
	}
	set, err := h.samlSettings(r, c)
	if err != nil {
		return err
	}
	status := saml.StatusRequestDenied
	switch code {
	case "login_required", "interaction_required", "consent_required":
		status = saml.StatusNoPassive
	}
	h.Log.DebugContext(ctx, "SAML login error", "realm", rl.Name, "client", c.ClientID, "error", code, "status", status)
	signer, err := h.samlSigner(ctx, rl, set)
	if err != nil {
		return err
	}
	if !set.ServerSignature {
		signer = nil // no assertion: only the document could be signed
	}
	doc, err := saml.BuildResponse(saml.ResponseInput{Issuer: h.URLs.RealmURL(r, rl.Name), Destination: req.SAML.ACS,
		InResponseTo: req.SAML.RequestID, Now: h.Now(), StatusCode: status, SignDocument: signer != nil, Signer: signer})
	if err != nil {
		return err
	}
	return h.samlSend(w, r, rl, req.UILocales, req.SAML.ACS, req.SAML.Binding, "SAMLResponse", doc, req.SAML.RelayState,
		signer, set.ServerSignature)
}

// samlSend delivers a SAML message to dest with binding: a page whose
// form the browser posts at once (HTTP-POST, the message signed inside),
// or a redirect with the deflated message in the query (HTTP-Redirect,
// signed over the query when sign).
func (h *Handler) samlSend(w http.ResponseWriter, r *http.Request, rl realm.Realm, uiLocales, dest, binding, param string,
	doc []byte, relayState string, signer *saml.Signer, sign bool) error {
	noStore(w)
	if binding == saml.BindingRedirect {
		var s *saml.Signer
		if sign {
			s = signer
		}
		loc, err := saml.RedirectURL(dest, param, doc, relayState, s)
		if err != nil {
			return err
		}
		redirect(w, loc)
		return nil
	}
	p := h.page(r, &rl, "doContinue", uiLocales)
	p.PostTo, p.Params = dest, samlParams(param, doc, relayState)
	pageHeaders(w, &rl, h.ui().ScriptSource("form-post.js"))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	return h.ui().Render(w, "form-post.html", p)
}

// samlParams are the form fields of the HTTP-POST binding.
func samlParams(param string, doc []byte, relayState string) []ui.Param {
	ps := []ui.Param{{Name: param, Value: saml.PostValue(doc)}}
	if relayState != "" {
		ps = append(ps, ui.Param{Name: "RelayState", Value: relayState})
	}
	return ps
}
