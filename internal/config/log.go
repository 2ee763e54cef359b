package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

const redacted = "[redacted]"

// LogValue renders c for slog with secrets removed: the bootstrap admin
// password never appears, and a database URL keeps its user but loses its
// password, so the startup log line can be shared in a bug report.
func (c Config) LogValue() slog.Value {
	opts, ok := modeOptions(c.Mode)
	if !ok {
		opts = options
	}
	attrs := []slog.Attr{slog.String("mode", c.Mode)}
	for _, o := range opts {
		v := o.get(c)
		if o.show != nil {
			v = o.show(fmt.Sprint(v))
		}
		attrs = append(attrs, slog.Any(o.name, v))
		if o.name == "db-url" {
			attrs = append(attrs, slog.Bool("db-explicit", c.DBExplicit))
		}
	}
	return slog.GroupValue(attrs...)
}

// String renders c like LogValue, so printing a Config with %v or %+v leaks
// no secret either.
func (c Config) String() string {
	var b strings.Builder
	for i, a := range c.LogValue().Group() {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%q", a.Key, a.Value.String())
	}
	return b.String()
}

func redactSecret(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}

// redactURL hides the password of a database URL, in the user info and in the
// password and sslpassword query parameters that pgx also reads. A file path
// has no secret and is returned as is; a URL that does not parse is hidden
// whole, since where its password sits is unknown.
func redactURL(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return redacted
	}
	if q := u.Query(); q.Has("password") || q.Has("sslpassword") {
		for _, k := range []string{"password", "sslpassword"} {
			if q.Has(k) {
				q.Set(k, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.Redacted() // the user-info password becomes "xxxxx"
}
