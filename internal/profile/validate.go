package profile

import (
	"fmt"
	"maps"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Context is who changes the user: an administrator through the admin API
// (Keycloak's USER_API) or the user through the account API and console
// (ACCOUNT).
type Context struct {
	Role string // RoleAdmin or RoleUser
	// EditUsername is the realm's editUsernameAllowed: without it a user
	// cannot change their own username.
	EditUsername bool
	// Storage is what the user's federation provider keeps from being
	// changed here (zero for a local user).
	Storage Storage
}

// Storage are the attributes of a federated user its provider owns: all
// of them (a read-only directory) or the names listed.
type Storage struct {
	All   bool
	Fixed []string
}

// fixes reports whether the user's provider keeps name from changing.
func (s Storage) fixes(name string) bool {
	return s.All || slices.ContainsFunc(s.Fixed, func(f string) bool { return strings.EqualFold(f, name) })
}

// The two contexts.
var (
	Admin = Context{Role: RoleAdmin, EditUsername: true}
)

// Account is the user's own context in realm settings editUsername.
func Account(editUsername bool) Context { return Context{Role: RoleUser, EditUsername: editUsername} }

// CanView reports whether ctx may see attribute name.
func (c Config) CanView(ctx Context, name string) bool {
	a, ok := c.Attribute(name)
	if !ok {
		switch c.UnmanagedAttributePolicy {
		case UnmanagedEnabled:
			return true
		case UnmanagedAdminView, UnmanagedAdminEdit:
			return ctx.Role == RoleAdmin
		}
		return false
	}
	return slices.Contains(viewOf(a.Permissions), ctx.Role) || slices.Contains(editOf(a.Permissions), ctx.Role)
}

// readOnly are the attributes no one edits through a profile, whatever the
// realm's user profile says: the links of a federated user to its directory
// entry (password writes and lookups follow them) and the directory's
// timestamps; a user does not set their own certificate, enabled state or
// e-mail verification either. A trailing "*" matches any suffix; names
// compare case-insensitively.
var readOnly = map[string][]string{
	RoleAdmin: {"KERBEROS_PRINCIPAL", "LDAP_ID", "LDAP_ENTRY_DN", "CREATED_TIMESTAMP", "createTimestamp", "modifyTimestamp"},
	RoleUser: {"KERBEROS_PRINCIPAL", "LDAP_ID", "LDAP_ENTRY_DN", "CREATED_TIMESTAMP", "createTimestamp", "modifyTimestamp",
		"userCertificate", "saml.persistent.name.id.for.*", "ENABLED", "EMAIL_VERIFIED", "disabledReason"},
}

// ReadOnly reports whether attribute name is one ctx can never change.
func ReadOnly(ctx Context, name string) bool {
	for _, p := range readOnly[ctx.Role] {
		if pre, ok := strings.CutSuffix(p, "*"); ok {
			if len(name) >= len(pre) && strings.EqualFold(name[:len(pre)], pre) {
				return true
			}
		} else if strings.EqualFold(name, p) {
			return true
		}
	}
	return false
}

// CanEdit reports whether ctx may change attribute name.
func (c Config) CanEdit(ctx Context, name string) bool {
	if ReadOnly(ctx, name) || ctx.Storage.fixes(name) {
		return false
	}
	a, ok := c.Attribute(name)
	if !ok {
		switch c.UnmanagedAttributePolicy {
		case UnmanagedEnabled:
			return true
		case UnmanagedAdminEdit:
			return ctx.Role == RoleAdmin
		}
		return false
	}
	if name == "username" && !ctx.EditUsername {
		return false
	}
	return slices.Contains(editOf(a.Permissions), ctx.Role)
}

// IsRequired reports whether ctx must give attribute name a value.
func (c Config) IsRequired(ctx Context, name string) bool {
	a, ok := c.Attribute(name)
	if !ok || a.Required == nil {
		return name == "username"
	}
	if len(a.Required.Roles) == 0 && len(a.Required.Scopes) == 0 {
		return true
	}
	return slices.Contains(a.Required.Roles, ctx.Role)
}

// Visible returns the free (non-root) attributes of attrs that ctx may see.
func (c Config) Visible(ctx Context, attrs map[string][]string) map[string][]string {
	out := map[string][]string{}
	for k, v := range attrs {
		if !IsRoot(k) && c.CanView(ctx, k) {
			out[k] = v
		}
	}
	return out
}

// Merge returns the free attributes a user has after ctx sends sent as the
// whole set of them: what ctx may edit takes sent's values (an attribute ctx
// may edit but left out is removed), the rest keeps old's. Attributes ctx
// may not even see, and unmanaged ones it may not edit, are dropped from
// sent silently: refusing them would tell the caller they exist. Managed
// ones ctx sees but may not edit are left in place for Validate to refuse
// when they differ.
func (c Config) Merge(ctx Context, old, sent map[string][]string) map[string][]string {
	out := map[string][]string{}
	for k, v := range old {
		if !IsRoot(k) && !c.CanEdit(ctx, k) {
			out[k] = v
		}
	}
	for k, v := range sent {
		if IsRoot(k) {
			continue
		}
		_, managed := c.Attribute(k)
		if c.CanEdit(ctx, k) || (managed && c.CanView(ctx, k)) {
			out[k] = v
		}
	}
	return out
}

// FieldError is Keycloak's ErrorRepresentation of one failed attribute:
// the attribute, a message key and its parameters, the first being the
// attribute's display name.
type FieldError struct {
	Field   string   `json:"field"`
	Message string   `json:"errorMessage"`
	Params  []string `json:"params"`
}

// Errors is a refused change: the failures and the status to answer with
// (400, or 409 for a username or email that belongs to someone else).
type Errors struct {
	Status int
	List   []FieldError
}

func (e *Errors) Error() string { return "user profile refused: " + e.List[0].Message }

// Body is Keycloak's answer to a refused change (ErrorResponse.errors): the
// list, and the first error's members at the top when there is only one.
func (e *Errors) Body() map[string]any {
	b := map[string]any{"errors": e.List}
	if len(e.List) == 1 {
		b["field"], b["errorMessage"], b["params"] = e.List[0].Field, e.List[0].Message, e.List[0].Params
	}
	return b
}

// Add records a failure of field.
func (e *Errors) Add(c Config, field, key string, params ...string) {
	e.List = append(e.List, FieldError{Field: field, Message: key, Params: append([]string{c.display(field)}, params...)})
}

func (c Config) display(name string) string {
	if a, ok := c.Attribute(name); ok && a.DisplayName != "" {
		return a.DisplayName
	}
	if IsRoot(name) {
		return "${" + name + "}"
	}
	return name
}

// missingKeys are Keycloak's messages for an empty required root attribute.
var missingKeys = map[string]string{
	"username": "missingUsernameMessage", "email": "missingEmailMessage",
	"firstName": "missingFirstNameMessage", "lastName": "missingLastNameMessage",
}

// Validate checks next, every attribute of a user root ones included, as
// ctx would save it over old (nil for a new user). An attribute whose
// values did not change is not checked again, so that tightening the
// profile does not lock existing users out of every other change; a new
// user is checked in full. It returns nil or the *Errors.
func (c Config) Validate(ctx Context, old, next map[string][]string) *Errors {
	errs := &Errors{Status: 400}
	names := slices.Sorted(maps.Keys(next))
	for _, a := range c.Attributes {
		if _, ok := next[a.Name]; !ok {
			names = append(names, a.Name)
		}
	}
	// Managed attributes in profile order, then the rest by name.
	order := make([]string, 0, len(names))
	for _, a := range c.Attributes {
		order = append(order, a.Name)
	}
	for _, n := range names {
		if !slices.Contains(order, n) {
			order = append(order, n)
		}
	}
	for _, name := range order {
		nv, ov := nonEmpty(next[name]), nonEmpty(old[name])
		changed := old == nil || !sameValues(name, ov, nv)
		if !changed {
			continue
		}
		if !c.CanEdit(ctx, name) {
			// A new user's values are its first; afterwards a value ctx
			// may not edit must not change.
			if old != nil {
				key := "updateReadOnlyAttributesRejectedMessage"
				if ctx.Storage.fixes(name) && !ReadOnly(ctx, name) {
					key = "error-user-attribute-read-only"
				}
				errs.Add(c, name, key)
			}
			continue
		}
		if len(nv) == 0 {
			if c.IsRequired(ctx, name) {
				if k, ok := missingKeys[name]; ok {
					errs.Add(c, name, k)
				} else {
					errs.Add(c, name, "error-user-attribute-required")
				}
			}
			continue
		}
		a, ok := c.Attribute(name)
		if !ok {
			continue
		}
		if !a.Multivalued && len(nv) > 1 && !IsRoot(name) {
			errs.Add(c, name, "error-invalid-multivalued-size", "1", "1")
			continue
		}
		if fe := c.runValidators(a, nv); fe != nil {
			errs.List = append(errs.List, *fe)
		}
	}
	if len(errs.List) == 0 {
		return nil
	}
	return errs
}

func nonEmpty(vs []string) []string {
	var out []string
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			out = append(out, v)
		}
	}
	return out
}

// sameValues compares two value lists; username and email are compared
// without case, as they are stored lower-case.
func sameValues(name string, a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if name == "username" || name == "email" {
			if !strings.EqualFold(strings.TrimSpace(a[i]), strings.TrimSpace(b[i])) {
				return false
			}
		} else if a[i] != b[i] {
			return false
		}
	}
	return true
}

// validatorOrder is the order validators run in; the first failure of an
// attribute is the one reported, as a form shows one message a field.
var validatorOrder = []string{"length", "email", "username-prohibited-characters", "up-username-not-idn-homograph",
	"person-name-prohibited-characters", "pattern", "options", "integer", "double", "uri"}

func (c Config) runValidators(a Attribute, values []string) *FieldError {
	ids := slices.Collect(maps.Keys(a.Validations))
	slices.SortFunc(ids, func(x, y string) int {
		return slices.Index(validatorOrder, x) - slices.Index(validatorOrder, y)
	})
	for _, id := range ids {
		for _, v := range values {
			if key, params := check(id, a.Validations[id], a.Name, v); key != "" {
				return &FieldError{Field: a.Name, Message: key, Params: append([]string{c.display(a.Name)}, params...)}
			}
		}
	}
	return nil
}

// The characters Keycloak's two prohibited-characters validators refuse;
// with control characters they cover markup and script injection.
const (
	personNameProhibited = `<>&"$%!#?§;*~/\|^=[]{}()`
	usernameProhibited   = `<>&"'$%!#?§,;:*~/\|^=[]{}()`
)

// ValidPersonName reports whether s passes person-name-prohibited-characters.
func ValidPersonName(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsAny(s, personNameProhibited) &&
		!strings.ContainsFunc(s, unicode.IsControl)
}

// ValidUsername reports whether s passes username-prohibited-characters.
func ValidUsername(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsAny(s, usernameProhibited) &&
		!strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}

// emailPatterns follow the address syntax Keycloak's
// EmailValidator accepts: a dot-atom local part of at most 64 bytes
// (non-ASCII characters allowed, as Keycloak allows them), and a domain of
// labels (internationalised ones included) or an IP literal. They are
// compiled on the first address checked: the label's counted repetition
// and the Unicode classes make large programs that a node serving tokens
// never runs.
var emailPatterns = sync.OnceValue(func() (p struct{ local, domainLabel, ipLiteral *regexp.Regexp }) {
	p.local = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\x{80}-\\x{FFFF}-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\x{80}-\\x{FFFF}-]+)*$")
	p.domainLabel = regexp.MustCompile(`^[\p{L}\p{N}]([\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$`)
	p.ipLiteral = regexp.MustCompile(`^\[[0-9A-Fa-f:.]+\]$`)
	return p
})

// ValidEmail reports whether s is an address Keycloak would store.
func ValidEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || !utf8.ValidString(s) ||
		strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }) {
		return false
	}
	local, domain := s[:at], s[at+1:]
	re := emailPatterns()
	if len(local) > 64 || !re.local.MatchString(local) {
		return false
	}
	if re.ipLiteral.MatchString(domain) {
		return true
	}
	for _, label := range strings.Split(domain, ".") {
		if !re.domainLabel.MatchString(label) {
			return false
		}
	}
	return true
}

// compilePattern turns a validator's pattern into a whole-value match, as
// Keycloak's Matcher.matches() does.
func compilePattern(p string) (*regexp.Regexp, error) { return regexp.Compile(`^(?:` + p + `)$`) }

func fmtNum(f float64, ok bool) string {
	if !ok {
		return ""
	}
	if f == math.Trunc(f) {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// check runs validator id on one non-empty value; it returns "" or the
// message key and its parameters after the display name.
func check(id string, cfg map[string]any, attr, v string) (string, []string) {
	switch id {
	case "length":
		s := v
		if t, _ := cfg["trim-disabled"].(bool); !t {
			s = strings.TrimSpace(s)
		}
		if key, params := outOfRange(cfg, float64(utf8.RuneCountInString(s)), "error-invalid-length",
			"error-invalid-length-too-short", "error-invalid-length-too-long"); key != "" {
			return key, params
		}
	case "email":
		if !ValidEmail(strings.TrimSpace(v)) {
			// The root email answers with the message of the built-in
			// address check; other attributes with the validator's own.
			if attr == "email" {
				return "invalidEmailMessage", nil
			}
			return "error-invalid-email", []string{v}
		}
	case "username-prohibited-characters":
		if !ValidUsername(v) {
			return "error-username-invalid-character", nil
		}
	case "person-name-prohibited-characters":
		if !ValidPersonName(v) {
			return "error-person-name-invalid-character", nil
		}
	case "up-username-not-idn-homograph":
		// Names that mix scripts can impersonate others; Keycloak refuses
		// what its IDN homograph check flags. Gatehouse refuses names with
		// characters outside Latin, digits and ASCII punctuation only when
		// they mix Latin letters with another script.
		if mixedScript(v) {
			return "error-username-invalid-character", nil
		}
	case "pattern":
		p, _ := cfg["pattern"].(string)
		re, err := compilePattern(p)
		if err == nil && !re.MatchString(v) {
			key := "error-pattern-no-match"
			if m, ok := cfg["error-message"].(string); ok && m != "" {
				key = m
			}
			return key, []string{p}
		}
	case "options":
		opts, _ := stringList(cfg, "options")
		if !slices.Contains(opts, v) {
			return "error-invalid-value", nil
		}
	case "integer", "double":
		var f float64
		var err error
		if id == "integer" {
			var i int64
			i, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			f = float64(i)
		} else {
			f, err = strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
		if err != nil {
			return "error-invalid-number", nil
		}
		if key, params := outOfRange(cfg, f, "error-number-out-of-range",
			"error-number-out-of-range-too-small", "error-number-out-of-range-too-big"); key != "" {
			return key, params
		}
	case "uri":
		u, err := url.Parse(v)
		if err != nil {
			return "error-invalid-uri", []string{v}
		}
		schemes := []string{"http", "https"}
		if s, ok := stringList(cfg, "allowedSchemes"); ok {
			schemes = s
		}
		if u.Scheme != "" && !slices.Contains(schemes, u.Scheme) {
			return "error-invalid-uri-scheme", []string{v, u.Scheme}
		}
		if f, ok := cfg["allowFragment"].(bool); ok && !f && u.Fragment != "" {
			return "error-invalid-uri-fragment", []string{v, u.Fragment}
		}
		if req, ok := cfg["requireValidUrl"].(bool); (!ok || req) && (u.Scheme == "" || (u.Host == "" && u.Opaque == "")) {
			return "error-invalid-uri", []string{v}
		}
	}
	return "", nil
}

// outOfRange checks n against the validator's min and max; the message
// says which bounds there are (both, only a minimum, only a maximum), and
// its parameters are the bounds, "" for a missing one.
func outOfRange(cfg map[string]any, n float64, both, tooSmall, tooBig string) (string, []string) {
	minV, hasMin, _ := number(cfg, "min")
	maxV, hasMax, _ := number(cfg, "max")
	if (!hasMin || n >= minV) && (!hasMax || n <= maxV) {
		return "", nil
	}
	key := both
	switch {
	case !hasMax:
		key = tooSmall
	case !hasMin:
		key = tooBig
	}
	return key, []string{fmtNum(minV, hasMin), fmtNum(maxV, hasMax)}
}

// mixedScript reports whether s holds Latin letters together with letters
// of another script, the shape of a homograph.
func mixedScript(s string) bool {
	latin, other := false, false
	for _, r := range s {
		switch {
		case !unicode.IsLetter(r):
		case unicode.Is(unicode.Latin, r):
			latin = true
		default:
			other = true
		}
	}
	return latin && other
}

// checkValidatorConfig refuses a validator Gatehouse does not run, or a
// configuration it could not apply.
func checkValidatorConfig(id string, cfg map[string]any) error {
	switch id {
	case "length", "integer", "double":
		minV, hasMin, err := number(cfg, "min")
		if err != nil {
			return err
		}
		maxV, hasMax, err := number(cfg, "max")
		if err != nil {
			return err
		}
		if id == "length" && !hasMin && !hasMax {
			return fmt.Errorf("length needs 'min' or 'max'")
		}
		if hasMin && hasMax && minV > maxV {
			return fmt.Errorf("'min' is greater than 'max'")
		}
	case "pattern":
		p, ok := cfg["pattern"].(string)
		if !ok {
			return fmt.Errorf("pattern needs 'pattern'")
		}
		if _, err := compilePattern(p); err != nil {
			return fmt.Errorf("pattern '%s' is not supported: %v", p, err)
		}
	case "options":
		if _, ok := stringList(cfg, "options"); !ok {
			return fmt.Errorf("options needs 'options', a list of values")
		}
	default:
		if !slices.Contains(Validators, id) {
			return fmt.Errorf("%w '%s'", errUnknownValidator, id)
		}
	}
	return nil
}

// Validators names every validator a profile may use, as the console
// offers them.
var Validators = []string{"length", "integer", "double", "pattern", "options", "email", "uri",
	"username-prohibited-characters", "person-name-prohibited-characters", "up-username-not-idn-homograph"}

// Values are every attribute of a user as the profile sees them: the free
// attributes attrs and the four root fields (empty ones left out).
func Values(attrs map[string][]string, username, email, firstName, lastName string) map[string][]string {
	out := make(map[string][]string, len(attrs)+4)
	for k, v := range attrs {
		if !IsRoot(k) {
			out[k] = v
		}
	}
	for k, v := range map[string]string{"username": username, "email": email, "firstName": firstName, "lastName": lastName} {
		if v != "" {
			out[k] = []string{v}
		}
	}
	return out
}
