package login

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-iam/gatehouse/internal/realm"
	"github.com/gatehouse-iam/gatehouse/internal/ui"
)

// Client attributes of front-channel logout, with Keycloak's names.
const (
	attrFrontChannelURL             = "frontchannel.logout.url"
	attrFrontChannelSessionRequired = "frontchannel.logout.session.required"
)

// frontChannelApps lists the clients of user session sid that are logged
// out in the browser (OpenID Connect Front-Channel Logout 1.0): those with
// front-channel logout on and a frontchannel.logout.url. Each URL carries
// iss and sid when the client's frontchannel.logout.session.required is
// true. It must run before the session is deleted, with its client
// sessions.
func (h *Handler) frontChannelApps(ctx context.Context, r *http.Request, rl realm.Realm, sid string) ([]ui.FrontChannelApp, error) {
	css, err := h.Store.ListClientSessions(ctx, sid)
	if err != nil {
		return nil, err
	}
	var out []ui.FrontChannelApp
	for _, cs := range css {
		c, err := h.Store.GetClient(ctx, rl.ID, cs.ClientID)
		if err != nil {
			continue // deleted meanwhile
		}
		raw := c.Attributes[attrFrontChannelURL]
		if !c.FrontchannelLogout || raw == "" || (c.Protocol != "" && c.Protocol != "openid-connect") {
			continue
		}
		u, err := url.Parse(c.ResolveURL(raw, h.URLs.Base(r)))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			continue
		}
		if c.Attributes[attrFrontChannelSessionRequired] == "true" {
			q := u.Query()
			q.Set("iss", h.URLs.RealmURL(r, rl.Name))
			q.Set("sid", sid)
			u.RawQuery = q.Encode()
		}
		name := c.Name
		if name == "" {
			name = c.ClientID
		}
		out = append(out, ui.FrontChannelApp{Name: name, URL: u.String()})
	}
	return out, nil
}

// renderFrontChannelLogout shows the page whose hidden iframes load each
// application's logout URL, then continues to next (if any). Its policy
// lets exactly those origins be framed, in the base policy and in a realm
// policy that restricts frame-src.
func (h *Handler) renderFrontChannelLogout(w http.ResponseWriter, r *http.Request, rl realm.Realm, apps []ui.FrontChannelApp, next, uiLocales string) {
	h.renderFrontChannel(w, r, rl, apps, uiLocales, func(p *ui.Page) { p.ContinueTo = next })
}

// renderFrontChannelLogoutPost is renderFrontChannelLogout continuing with
// a form posted to postTo (a SAML LogoutResponse by the POST binding).
func (h *Handler) renderFrontChannelLogoutPost(w http.ResponseWriter, r *http.Request, rl realm.Realm, apps []ui.FrontChannelApp, postTo string, params []ui.Param, uiLocales string) {
	h.renderFrontChannel(w, r, rl, apps, uiLocales, func(p *ui.Page) { p.PostTo, p.Params = postTo, params })
}

func (h *Handler) renderFrontChannel(w http.ResponseWriter, r *http.Request, rl realm.Realm, apps []ui.FrontChannelApp, uiLocales string, then func(*ui.Page)) {
	noStore(w)
	p := h.page(r, &rl, "frontchannel-logout.title", uiLocales)
	p.FrontChannel = apps
	then(&p)
	script := ""
	if p.ContinueTo != "" || p.PostTo != "" {
		script = h.ui().ScriptSource("frontchannel-logout.js")
	}
	pageHeaders(w, &rl, script)
	var origins []string
	for _, a := range apps {
		if u, err := url.Parse(a.URL); err == nil {
			origins = append(origins, u.Scheme+"://"+u.Host)
		}
	}
	allowFrames(w.Header(), strings.Join(origins, " "))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", p.Lang)
	w.WriteHeader(http.StatusOK)
	if err := h.ui().Render(w, "frontchannel-logout.html", p); err != nil {
		h.Log.ErrorContext(r.Context(), "render page", "page", "frontchannel-logout.html", "err", err)
	}
}

// allowFrames adds sources to frame-src in every Content-Security-Policy
// header that restricts framing (a frame-src, or a default-src without
// one).
func allowFrames(hdr http.Header, sources string) {
	vals := hdr.Values("Content-Security-Policy")
	for i, v := range vals {
		dirs := strings.Split(v, ";")
		found := false
		for j, d := range dirs {
			if f := strings.Fields(d); len(f) > 0 && strings.EqualFold(f[0], "frame-src") {
				dirs[j] = strings.TrimRight(d, " ") + " " + sources
				found = true
			}
		}
		switch {
		case found:
			vals[i] = strings.Join(dirs, ";")
		case strings.Contains(v, "default-src"):
			vals[i] = strings.TrimRight(v, "; ") + "; frame-src 'self' " + sources
		}
	}
	hdr.Del("Content-Security-Policy")
	for _, v := range vals {
		hdr.Add("Content-Security-Policy", v)
	}
}
