package ldap

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf16"

	goldap "github.com/go-ldap/ldap/v3"
)

// Error classes every caller distinguishes. An LDAP failure is wrapped in
// one of them (errors.Is); the wrapped text never holds a credential.
var (
	// ErrUnreachable: no configured server answered (outage, refused
	// connection, timeout, TLS failure). Callers must not treat it as a
	// wrong password, and must not lock anyone out over it.
	ErrUnreachable = errors.New("ldap server unreachable")
	// ErrInvalidCredentials: the server refused a bind (wrong password,
	// unknown DN, or an empty password, which we never send).
	ErrInvalidCredentials = errors.New("invalid ldap credentials")
	// ErrNotFound: no entry matched.
	ErrNotFound = errors.New("ldap entry not found")
	// ErrAmbiguous: more than one entry matched a lookup that must name
	// one user; nobody is picked.
	ErrAmbiguous = errors.New("more than one ldap entry matches")
)

// PolicyError is a change the directory refused (password policy,
// constraint or schema violation); Msg is the server's diagnostic.
type PolicyError struct {
	DN   string
	Code uint16
	Msg  string
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("ldap refused change of %s: %s (code %d)", e.DN, e.Msg, e.Code)
}

// Default timeouts when the provider sets none: a directory that hangs
// must not hang a login.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultReadTimeout    = 30 * time.Second
)

// Entry is a directory entry; attribute names are lower-cased.
type Entry struct {
	DN    string
	UUID  string
	Attrs map[string][]string
}

// First returns the first value of attr ("" when absent).
func (e Entry) First(attr string) string {
	if v := e.Attrs[strings.ToLower(attr)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Client is a connection bound as the provider's bindDn.
type Client struct {
	cfg  Config
	conn *goldap.Conn
}

func (c Config) connectTimeout() time.Duration {
	if c.ConnectionTimeout > 0 {
		return c.ConnectionTimeout
	}
	return DefaultConnectTimeout
}

func (c Config) readTimeout() time.Duration {
	if c.ReadTimeout > 0 {
		return c.ReadTimeout
	}
	return DefaultReadTimeout
}

// truststore is the server's truststore (--truststore-paths): the system
// roots and the operator's certificates; nil when none is configured.
var truststore atomic.Pointer[x509.CertPool]

// SetTruststore makes pool the truststore of every provider whose
// useTruststoreSpi is not "never"; nil goes back to the system roots. The
// server sets it once at start.
func SetTruststore(pool *x509.CertPool) { truststore.Store(pool) }

// tlsConfig verifies the server against cfg.RootCAs when set, else against
// the server's truststore (unless useTruststoreSpi is "never"), else
// against the system roots.
func (c Config) tlsConfig(host string) *tls.Config {
	pool := c.RootCAs
	if pool == nil && c.UseTruststoreSPI != "never" {
		pool = truststore.Load()
	}
	if pool == nil {
		if sys, err := x509.SystemCertPool(); err == nil {
			pool = sys
		}
	}
	return &tls.Config{ServerName: host, RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// LoadTruststore reads the PEM certificates of paths (files, or
// directories whose regular files are read) and returns them added to the
// system roots. A path that holds no certificate is an error.
func LoadTruststore(paths []string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for _, p := range paths {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		files := []string{p}
		if st, err := os.Stat(p); err != nil {
			return nil, err
		} else if st.IsDir() {
			ents, err := os.ReadDir(p)
			if err != nil {
				return nil, err
			}
			files = files[:0]
			for _, e := range ents {
				if e.Type().IsRegular() {
					files = append(files, filepath.Join(p, e.Name()))
				}
			}
		}
		found := false
		for _, f := range files {
			pem, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			found = pool.AppendCertsFromPEM(pem) || found
		}
		if !found {
			return nil, fmt.Errorf("%s holds no PEM certificate", p)
		}
	}
	return pool, nil
}

// connect opens a connection to the first server that answers, with TLS
// as configured, without binding.
func connect(ctx context.Context, cfg Config) (*goldap.Conn, error) {
	if len(cfg.ConnectionURLs) == 0 {
		return nil, fmt.Errorf("%w: no connection URL configured", ErrUnreachable)
	}
	var errs []string
	for _, raw := range cfg.ConnectionURLs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
			errs = append(errs, fmt.Sprintf("%q: not an ldap:// or ldaps:// URL", raw))
			continue
		}
		timeout := cfg.connectTimeout()
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
			timeout = time.Until(dl)
		}
		dialer := &net.Dialer{Timeout: timeout}
		tc := cfg.tlsConfig(u.Hostname())
		if cfg.StartTLS && u.Scheme == "ldap" {
			conn, err := startTLS(ctx, dialer, u, tc, timeout, cfg.readTimeout())
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", raw, err))
				continue
			}
			return conn, nil
		}
		conn, err := goldap.DialURL(raw, goldap.DialWithDialer(dialer), goldap.DialWithTLSConfig(tc))
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", raw, err))
			continue
		}
		conn.SetTimeout(cfg.readTimeout())
		return conn, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrUnreachable, strings.Join(errs, "; "))
}

// startTLS opens a plain connection to u and upgrades it with StartTLS,
// the whole exchange (request and TLS handshake) bounded by the connection
// timeout: a server that accepts the upgrade and then stalls costs at most
// that long.
func startTLS(ctx context.Context, dialer *net.Dialer, u *url.URL, tc *tls.Config, timeout, readTimeout time.Duration) (*goldap.Conn, error) {
	port := u.Port()
	if port == "" {
		port = "389"
	}
	nc, err := dialer.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(timeout))
	conn := goldap.NewConn(nc, false)
	conn.Start()
	conn.SetTimeout(min(timeout, readTimeout))
	if err := conn.StartTLS(tc); err != nil {
		conn.Close()
		return nil, fmt.Errorf("starttls: %w", err)
	}
	nc.SetDeadline(time.Time{})
	conn.SetTimeout(readTimeout)
	return conn, nil
}

// classify maps an LDAP error onto the classes callers act on.
func classify(err error, dn string) error {
	if err == nil {
		return nil
	}
	var le *goldap.Error
	if errors.As(err, &le) {
		switch le.ResultCode {
		case goldap.LDAPResultInvalidCredentials, goldap.LDAPResultInappropriateAuthentication:
			return fmt.Errorf("%w: %s", ErrInvalidCredentials, dn)
		case goldap.LDAPResultNoSuchObject:
			return fmt.Errorf("%w: %s", ErrNotFound, dn)
		case goldap.LDAPResultConstraintViolation, goldap.LDAPResultUnwillingToPerform,
			goldap.LDAPResultObjectClassViolation, goldap.LDAPResultInsufficientAccessRights,
			goldap.LDAPResultInvalidAttributeSyntax, goldap.LDAPResultEntryAlreadyExists,
			goldap.LDAPResultNotAllowedOnRDN, goldap.LDAPResultUndefinedAttributeType:
			return &PolicyError{DN: dn, Code: le.ResultCode, Msg: le.Err.Error()}
		case goldap.ErrorNetwork, goldap.LDAPResultBusy, goldap.LDAPResultUnavailable,
			goldap.LDAPResultServerDown, goldap.LDAPResultTimeout, goldap.LDAPResultConnectError:
			return fmt.Errorf("%w: %v", ErrUnreachable, err)
		}
		return fmt.Errorf("ldap: %v", err)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	return fmt.Errorf("ldap: %v", err)
}

// Dial connects and binds as the provider's bindDn (or anonymously when
// authType is none).
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	conn, err := connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.AuthType != "none" {
		if err := conn.Bind(cfg.BindDN, cfg.BindCredential); err != nil {
			conn.Close()
			return nil, classify(err, cfg.BindDN)
		}
	}
	return &Client{cfg: cfg, conn: conn}, nil
}

// Close ends the connection.
func (c *Client) Close() {
	if c != nil && c.conn != nil {
		c.conn.Close()
	}
}

// Config returns the provider config the client was dialled with.
func (c *Client) Config() Config { return c.cfg }

// TestConnection checks that a server of the config answers (no bind).
func TestConnection(ctx context.Context, cfg Config) error {
	conn, err := connect(ctx, cfg)
	if err != nil {
		return err
	}
	conn.Close()
	return nil
}

// TestAuthentication checks that the config's bindDn and bindCredential
// are accepted.
func TestAuthentication(ctx context.Context, cfg Config) error {
	c, err := Dial(ctx, cfg)
	if err != nil {
		return err
	}
	c.Close()
	return nil
}

// Authenticate checks a user's password by binding as the user's DN on a
// connection of its own. An empty password is refused before any bind:
// LDAP treats it as an unauthenticated bind, which succeeds.
func Authenticate(ctx context.Context, cfg Config, dn, password string) error {
	if password == "" || dn == "" {
		return fmt.Errorf("%w: empty password", ErrInvalidCredentials)
	}
	conn, err := connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	return classify(conn.Bind(dn, password), dn)
}

func (c *Client) userAttributes() []string {
	attrs := []string{"*", c.cfg.UUIDAttribute, "createTimestamp", "modifyTimestamp"}
	if c.cfg.ActiveDirectory() {
		attrs = append(attrs, "whenCreated", "whenChanged")
	}
	return attrs
}

// userFilter is the filter every user lookup starts from: the object
// classes, the custom filter, and the extra condition (already escaped).
func (c *Client) userFilter(cond string) string {
	var b strings.Builder
	b.WriteString("(&")
	for _, oc := range c.cfg.UserObjectClasses {
		b.WriteString("(objectclass=" + goldap.EscapeFilter(oc) + ")")
	}
	b.WriteString(c.cfg.CustomUserSearchFilter)
	b.WriteString(cond)
	b.WriteString(")")
	return b.String()
}

func (c *Client) scope() int {
	if c.cfg.SearchScope == ScopeOneLevel {
		return goldap.ScopeSingleLevel
	}
	return goldap.ScopeWholeSubtree
}

func (c *Client) toEntry(e *goldap.Entry) Entry {
	out := Entry{DN: e.DN, Attrs: map[string][]string{}}
	for _, a := range e.Attributes {
		name := strings.ToLower(a.Name)
		if strings.EqualFold(a.Name, "objectGUID") {
			out.Attrs[name] = []string{guidString(a.ByteValues)}
			continue
		}
		out.Attrs[name] = append(out.Attrs[name], a.Values...)
	}
	out.UUID = out.First(c.cfg.UUIDAttribute)
	return out
}

// guidString renders AD's binary objectGUID in its usual textual form.
func guidString(vals [][]byte) string {
	if len(vals) == 0 || len(vals[0]) != 16 {
		return ""
	}
	b := vals[0]
	return fmt.Sprintf("%08x-%04x-%04x-%s-%s", binary.LittleEndian.Uint32(b[0:4]), binary.LittleEndian.Uint16(b[4:6]),
		binary.LittleEndian.Uint16(b[6:8]), hex.EncodeToString(b[8:10]), hex.EncodeToString(b[10:16]))
}

func guidFilterValue(s string) string {
	h := strings.ReplaceAll(s, "-", "")
	raw, err := hex.DecodeString(h)
	if err != nil || len(raw) != 16 {
		return goldap.EscapeFilter(s)
	}
	b := make([]byte, 16)
	binary.LittleEndian.PutUint32(b[0:4], binary.BigEndian.Uint32(raw[0:4]))
	binary.LittleEndian.PutUint16(b[4:6], binary.BigEndian.Uint16(raw[4:6]))
	binary.LittleEndian.PutUint16(b[6:8], binary.BigEndian.Uint16(raw[6:8]))
	copy(b[8:], raw[8:])
	var out strings.Builder
	for _, x := range b {
		fmt.Fprintf(&out, "\\%02x", x)
	}
	return out.String()
}

func (c *Client) searchOne(ctx context.Context, cond string) (Entry, error) {
	if err := ctx.Err(); err != nil {
		return Entry{}, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	req := goldap.NewSearchRequest(c.cfg.UsersDN, c.scope(), goldap.NeverDerefAliases, 2, 0, false,
		c.userFilter(cond), c.userAttributes(), nil)
	res, err := c.conn.Search(req)
	if goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) || err == nil && len(res.Entries) > 1 {
		return Entry{}, fmt.Errorf("%w: %s", ErrAmbiguous, cond)
	}
	if err != nil {
		return Entry{}, classify(err, c.cfg.UsersDN)
	}
	if res == nil || len(res.Entries) == 0 {
		return Entry{}, ErrNotFound
	}
	return c.toEntry(res.Entries[0]), nil
}

// SearchUsers returns at most limit user entries matching cond (an
// escaped filter condition such as SearchCondition builds).
func (c *Client) SearchUsers(ctx context.Context, cond string, limit int) ([]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	req := goldap.NewSearchRequest(c.cfg.UsersDN, c.scope(), goldap.NeverDerefAliases, limit, 0, false,
		c.userFilter(cond), c.userAttributes(), nil)
	res, err := c.conn.Search(req)
	if err != nil && !goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) {
		return nil, classify(err, c.cfg.UsersDN)
	}
	if res == nil {
		return nil, nil
	}
	out := make([]Entry, 0, len(res.Entries))
	for _, e := range res.Entries {
		out = append(out, c.toEntry(e))
	}
	return out, nil
}

// FindByUsername looks a user up by the username attribute.
func (c *Client) FindByUsername(ctx context.Context, username string) (Entry, error) {
	if username == "" {
		return Entry{}, ErrNotFound
	}
	return c.searchOne(ctx, "("+c.cfg.UsernameAttribute+"="+goldap.EscapeFilter(username)+")")
}

// FindByEmail looks a user up by email, in the attribute the provider's
// email mapper reads (mappers); ErrNotFound when no mapper reads one.
func (c *Client) FindByEmail(ctx context.Context, mappers []MapperSpec, email string) (Entry, error) {
	attr := AttributeOf(c.cfg, mappers, "email")
	if email == "" || attr == "" {
		return Entry{}, ErrNotFound
	}
	return c.searchOne(ctx, "("+attr+"="+goldap.EscapeFilter(email)+")")
}

// FindByUUID looks a user up by the uuid attribute.
func (c *Client) FindByUUID(ctx context.Context, uuid string) (Entry, error) {
	if uuid == "" {
		return Entry{}, ErrNotFound
	}
	v := goldap.EscapeFilter(uuid)
	if strings.EqualFold(c.cfg.UUIDAttribute, "objectGUID") {
		v = guidFilterValue(uuid)
	}
	return c.searchOne(ctx, "("+c.cfg.UUIDAttribute+"="+v+")")
}

// FindByDN reads one entry.
func (c *Client) FindByDN(ctx context.Context, dn string) (Entry, error) {
	req := goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 1, 0, false,
		"(objectclass=*)", c.userAttributes(), nil)
	res, err := c.conn.Search(req)
	if err != nil {
		return Entry{}, classify(err, dn)
	}
	if len(res.Entries) == 0 {
		return Entry{}, ErrNotFound
	}
	return c.toEntry(res.Entries[0]), nil
}

// ldapTime renders t as LDAP GeneralizedTime.
func ldapTime(t time.Time) string { return t.UTC().Format("20060102150405Z") }

// EachUser calls fn with pages of users (all of them, or those created or
// modified at or after since when since is not zero). Pages are
// batchSizeForSync entries when pagination is on.
func (c *Client) EachUser(ctx context.Context, since time.Time, fn func([]Entry) error) error {
	cond := ""
	if !since.IsZero() {
		created, modified := "createTimestamp", "modifyTimestamp"
		if c.cfg.ActiveDirectory() {
			created, modified = "whenCreated", "whenChanged"
		}
		ts := ldapTime(since)
		if c.cfg.ActiveDirectory() {
			ts = since.UTC().Format("20060102150405.0Z")
		}
		cond = "(|(" + created + ">=" + ts + ")(" + modified + ">=" + ts + "))"
	}
	var paging *goldap.ControlPaging
	var controls []goldap.Control
	if c.cfg.Pagination {
		paging = goldap.NewControlPaging(uint32(c.cfg.BatchSizeForSync))
		controls = []goldap.Control{paging}
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		req := goldap.NewSearchRequest(c.cfg.UsersDN, c.scope(), goldap.NeverDerefAliases, 0, 0, false,
			c.userFilter(cond), c.userAttributes(), controls)
		res, err := c.conn.Search(req)
		if err != nil {
			return classify(err, c.cfg.UsersDN)
		}
		page := make([]Entry, 0, len(res.Entries))
		for _, e := range res.Entries {
			page = append(page, c.toEntry(e))
		}
		if len(page) > 0 {
			if err := fn(page); err != nil {
				return err
			}
		}
		if paging == nil {
			return nil
		}
		ctrl, ok := goldap.FindControl(res.Controls, goldap.ControlTypePaging).(*goldap.ControlPaging)
		if !ok || ctrl == nil || len(ctrl.Cookie) == 0 {
			return nil
		}
		paging.SetCookie(ctrl.Cookie)
	}
}

// Search runs a raw search (groups, roles) under base with filter.
func (c *Client) Search(ctx context.Context, base, filter string, subtree bool, attrs []string) ([]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	scope := goldap.ScopeSingleLevel
	if subtree {
		scope = goldap.ScopeWholeSubtree
	}
	var controls []goldap.Control
	if c.cfg.Pagination {
		res, err := c.conn.SearchWithPaging(goldap.NewSearchRequest(base, scope, goldap.NeverDerefAliases, 0, 0, false, filter, attrs, controls), uint32(c.cfg.BatchSizeForSync))
		if err != nil {
			return nil, classify(err, base)
		}
		return c.entries(res), nil
	}
	res, err := c.conn.Search(goldap.NewSearchRequest(base, scope, goldap.NeverDerefAliases, 0, 0, false, filter, attrs, controls))
	if err != nil {
		return nil, classify(err, base)
	}
	return c.entries(res), nil
}

func (c *Client) entries(res *goldap.SearchResult) []Entry {
	out := make([]Entry, 0, len(res.Entries))
	for _, e := range res.Entries {
		x := Entry{DN: e.DN, Attrs: map[string][]string{}}
		for _, a := range e.Attributes {
			x.Attrs[strings.ToLower(a.Name)] = append(x.Attrs[strings.ToLower(a.Name)], a.Values...)
		}
		out = append(out, x)
	}
	return out
}

// SetPassword writes a user's new password: AD's unicodePwd, the
// password modify extended operation, or a userPassword replace.
func (c *Client) SetPassword(ctx context.Context, dn, password string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	switch {
	case c.cfg.ActiveDirectory():
		req := goldap.NewModifyRequest(dn, nil)
		req.Replace("unicodePwd", []string{adPassword(password)})
		return classify(c.conn.Modify(req), dn)
	case c.cfg.UsePasswordModifyExtendedOp:
		_, err := c.conn.PasswordModify(goldap.NewPasswordModifyRequest(dn, "", password))
		return classify(err, dn)
	default:
		req := goldap.NewModifyRequest(dn, nil)
		req.Replace("userPassword", []string{password})
		return classify(c.conn.Modify(req), dn)
	}
}

// adPassword is AD's unicodePwd value: the quoted password in UTF-16LE.
func adPassword(p string) string {
	u := utf16.Encode([]rune(`"` + p + `"`))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		binary.LittleEndian.PutUint16(b[2*i:], r)
	}
	return string(b)
}

// Add creates an entry.
func (c *Client) Add(ctx context.Context, dn string, attrs map[string][]string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := goldap.NewAddRequest(dn, nil)
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if len(attrs[k]) > 0 {
			req.Attribute(k, attrs[k])
		}
	}
	return classify(c.conn.Add(req), dn)
}

// Replace sets attributes of an entry (an empty list deletes the attribute).
func (c *Client) Replace(ctx context.Context, dn string, attrs map[string][]string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := goldap.NewModifyRequest(dn, nil)
	for k, v := range attrs {
		req.Replace(k, v)
	}
	return classify(c.conn.Modify(req), dn)
}

// AddValue adds one value to an attribute (group membership).
func (c *Client) AddValue(ctx context.Context, dn, attr, value string) error {
	req := goldap.NewModifyRequest(dn, nil)
	req.Add(attr, []string{value})
	err := c.conn.Modify(req)
	if goldap.IsErrorWithCode(err, goldap.LDAPResultAttributeOrValueExists) {
		return nil
	}
	return classify(err, dn)
}

// Delete removes an entry.
func (c *Client) Delete(ctx context.Context, dn string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return classify(c.conn.Del(goldap.NewDelRequest(dn, nil)), dn)
}

// Capability is one root DSE capability.
type Capability struct {
	OID  string `json:"oid"`
	Type string `json:"type"` // CONTROL, EXTENSION or FEATURE
}

// Capabilities reads the root DSE's supported controls, extensions and features.
func (c *Client) Capabilities(ctx context.Context) ([]Capability, error) {
	req := goldap.NewSearchRequest("", goldap.ScopeBaseObject, goldap.NeverDerefAliases, 1, 0, false, "(objectClass=*)",
		[]string{"supportedControl", "supportedExtension", "supportedFeatures"}, nil)
	res, err := c.conn.Search(req)
	if err != nil {
		return nil, classify(err, "root DSE")
	}
	var out []Capability
	if len(res.Entries) == 0 {
		return out, nil
	}
	e := res.Entries[0]
	for attr, typ := range map[string]string{"supportedControl": "CONTROL", "supportedExtension": "EXTENSION", "supportedFeatures": "FEATURE"} {
		for _, v := range e.GetAttributeValues(attr) {
			out = append(out, Capability{OID: v, Type: typ})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].OID < out[j].OID
	})
	return out, nil
}

// RandomPassword is a value for hardcoded ${RANDOM} attributes.
func RandomPassword() string { return rand.Text() }

// EscapeFilter escapes a value for a search filter.
func EscapeFilter(v string) string { return goldap.EscapeFilter(v) }
