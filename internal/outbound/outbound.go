// Package outbound is the one HTTP client every request Gatehouse makes to
// another server goes through: back-channel logout today, identity brokering
// and metadata fetches later. The URLs it is given are configured by realm
// administrators (or, with dynamic registration, by anyone), so it guards
// against server-side request forgery: by default it refuses to connect to
// loopback, private, link-local, unspecified, multicast and other
// non-public addresses. The check runs at dial time on the address the name
// resolved to, so a name that resolves to a public address when checked and
// to 127.0.0.1 when used (DNS rebinding) cannot get through, and every
// redirect is dialled through the same check. Responses are read up to a
// size limit, and every request has connect and overall timeouts.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Defaults for a Client's zero fields.
const (
	DefaultTimeout        = 10 * time.Second
	DefaultConnectTimeout = 5 * time.Second
	DefaultMaxBody        = 1 << 20
	maxRedirects          = 5
)

// ErrForbiddenAddress is returned (wrapped) when a request would reach an
// address the client refuses.
var ErrForbiddenAddress = errors.New("outbound: address not allowed")

// ErrTooLarge is returned (wrapped) when a response body passes the limit.
var ErrTooLarge = errors.New("outbound: response body too large")

// Options configure a Client.
type Options struct {
	// AllowPrivate lets requests reach loopback and private addresses, for
	// deployments whose relying parties live on an internal network (and
	// for tests, whose servers listen on loopback). Off by default.
	AllowPrivate bool
	// Timeout bounds a whole request, body included; ConnectTimeout the
	// TCP connect. Zero means the defaults above.
	Timeout, ConnectTimeout time.Duration
	// FollowRedirects follows up to five redirects, each checked like the
	// first request; off, a redirect is returned to the caller as is.
	FollowRedirects bool
}

// Client makes outbound requests. It is safe for concurrent use.
type Client struct {
	hc      *http.Client
	timeout time.Duration
}

// Response is a finished response whose body was read in full.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// New returns a client with o's settings.
func New(o Options) *Client {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	return newClient(o, Public)
}

// newClient builds a client whose dialer connects only to addresses permit
// accepts (unless o.AllowPrivate); tests pass a narrower rule than Public.
func newClient(o Options, permit func(netip.Addr) bool) *Client {
	d := &net.Dialer{Timeout: o.ConnectTimeout}
	if !o.AllowPrivate {
		// Control runs after the name is resolved and before connect, for
		// each address tried: the address checked is the one connected to.
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
			}
			if !permit(ap.Addr()) {
				return fmt.Errorf("%w: %s", ErrForbiddenAddress, ap.Addr())
			}
			return nil
		}
	}
	tr := &http.Transport{
		// No proxy from the environment: a proxy would connect on our
		// behalf and the address check would see only the proxy.
		Proxy:                 nil,
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   o.ConnectTimeout,
		ResponseHeaderTimeout: o.Timeout,
		MaxIdleConns:          16,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	hc := &http.Client{Transport: tr, Timeout: o.Timeout}
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !o.FollowRedirects {
			return http.ErrUseLastResponse
		}
		if len(via) >= maxRedirects {
			return errors.New("outbound: too many redirects")
		}
		return checkURL(req.URL)
	}
	return &Client{hc: hc, timeout: o.Timeout}
}

// Public reports whether a is an address outbound requests may reach by
// default: a global unicast address outside the private, shared (CGNAT),
// documentation, benchmarking and other special-purpose ranges.
func Public(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsUnspecified() || a.IsLoopback() || a.IsPrivate() || a.IsMulticast() ||
		a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() || !a.IsGlobalUnicast() {
		return false
	}
	for _, p := range special {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// special are ranges IsPrivate and IsGlobalUnicast let through that are
// not the public Internet (RFC 6890 and its updates).
var special = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
		"64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "2002::/16",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

func checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("outbound: scheme %q not allowed", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("outbound: URL has no host")
	}
	if u.User != nil {
		return errors.New("outbound: URL carries credentials")
	}
	return nil
}

// Get fetches rawURL and reads at most maxBody bytes of its body (0 means
// DefaultMaxBody).
func (c *Client) Get(ctx context.Context, rawURL string, header http.Header, maxBody int64) (*Response, error) {
	return c.Do(ctx, http.MethodGet, rawURL, header, nil, maxBody)
}

// PostForm posts form as application/x-www-form-urlencoded.
func (c *Client) PostForm(ctx context.Context, rawURL string, form url.Values, maxBody int64) (*Response, error) {
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	return c.Do(ctx, http.MethodPost, rawURL, h, strings.NewReader(form.Encode()), maxBody)
}

// Do sends one request. The body of the answer is read in full, up to
// maxBody bytes (0 means DefaultMaxBody); a longer body is ErrTooLarge.
func (c *Client) Do(ctx context.Context, method, rawURL string, header http.Header, body io.Reader, maxBody int64) (*Response, error) {
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("outbound: %w", err)
	}
	if err := checkURL(u); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("outbound: %w", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "Gatehouse")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("outbound: read %s: %w", u.Host, err)
	}
	if int64(len(b)) > maxBody {
		return nil, fmt.Errorf("%w (over %d bytes)", ErrTooLarge, maxBody)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}
