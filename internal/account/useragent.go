package account

import (
	"regexp"
	"strings"
	"sync"
)

// noteUserAgent is the user session note that holds the User-Agent of the
// login that started the session, when the login recorded it.
const noteUserAgent = "userAgent"

// device is what a User-Agent header tells about the device behind a
// session, in the words of Keycloak's DeviceRepresentation (which reads it
// with ua-parser): "Other" and "Unknown" where nothing is known.
type device struct {
	OS, OSVersion, Browser, Device string
	Mobile                         bool
}

// unknownDevice is Keycloak's DeviceRepresentation.unknown().
var unknownDevice = device{OS: "Other", OSVersion: "Unknown", Browser: "Other", Device: "Other"}

// maxUserAgent bounds what is parsed; real User-Agents are far shorter.
const maxUserAgent = 512

// uaPatterns are the User-Agent patterns, compiled on the first device
// described: the account console asks for them, a node serving tokens
// never does. Browsers are tried in order: several browsers also claim to
// be Chrome or Safari, so the specific ones come first.
var uaPatterns = sync.OnceValue(func() (p struct {
	browsers                   []uaBrowser
	windows, iOS, mac, android *regexp.Regexp
}) {
	p.browsers = []uaBrowser{
		{"Edge", regexp.MustCompile(`Edg(?:e|A|iOS)?/(\d+(?:\.\d+){0,2})`)},
		{"Opera", regexp.MustCompile(`OPR/(\d+(?:\.\d+){0,2})`)},
		{"Firefox", regexp.MustCompile(`Firefox/(\d+(?:\.\d+){0,2})`)},
		{"HeadlessChrome", regexp.MustCompile(`HeadlessChrome/(\d+(?:\.\d+){0,2})`)},
		{"Chromium", regexp.MustCompile(`Chromium/(\d+(?:\.\d+){0,2})`)},
		{"Chrome Mobile iOS", regexp.MustCompile(`CriOS/(\d+(?:\.\d+){0,2})`)},
		{"Chrome", regexp.MustCompile(`Chrome/(\d+(?:\.\d+){0,2})`)},
		{"Mobile Safari", regexp.MustCompile(`Version/(\d+(?:\.\d+){0,2}).*Mobile.*Safari/`)},
		{"Safari", regexp.MustCompile(`Version/(\d+(?:\.\d+){0,2}).*Safari/`)},
		{"curl", regexp.MustCompile(`^curl/(\d+(?:\.\d+){0,2})`)},
	}
	p.windows = regexp.MustCompile(`Windows NT (\d+\.\d+)`)
	p.iOS = regexp.MustCompile(`(?:iPhone|CPU) OS (\d+(?:_\d+){0,2})`)
	p.mac = regexp.MustCompile(`Mac OS X (\d+(?:[_.]\d+){0,2})`)
	p.android = regexp.MustCompile(`Android (\d+(?:\.\d+){0,2})`)
	return p
})

// uaBrowser is a browser's name and the pattern that finds its version.
type uaBrowser struct {
	name string
	re   *regexp.Regexp
}

// windowsVersions names Windows NT kernel versions as ua-parser does.
var windowsVersions = map[string]string{"10.0": "10", "6.3": "8.1", "6.2": "8", "6.1": "7", "6.0": "Vista", "5.1": "XP"}

// parseUserAgent reads the browser, operating system and device from a
// User-Agent header, minimally: the common browsers and systems by name and
// version, everything else "Other".
func parseUserAgent(ua string) device {
	d := unknownDevice
	ua = strings.TrimSpace(ua)
	if ua == "" || len(ua) > maxUserAgent {
		return d
	}
	re := uaPatterns()
	for _, b := range re.browsers {
		if m := b.re.FindStringSubmatch(ua); m != nil {
			d.Browser = b.name + "/" + m[1]
			break
		}
	}
	switch {
	case strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPad"):
		d.OS, d.Device, d.Mobile = "iOS", "iPhone", true
		if strings.Contains(ua, "iPad") {
			d.Device = "iPad"
		}
		if m := re.iOS.FindStringSubmatch(ua); m != nil {
			d.OSVersion = strings.ReplaceAll(m[1], "_", ".")
		}
	case strings.Contains(ua, "Android"):
		d.OS, d.Device = "Android", "Generic Smartphone"
		d.Mobile = strings.Contains(ua, "Mobile")
		if !d.Mobile {
			d.Device = "Generic Tablet"
		}
		if m := re.android.FindStringSubmatch(ua); m != nil {
			d.OSVersion = m[1]
		}
	case strings.Contains(ua, "Windows"):
		d.OS = "Windows"
		if m := re.windows.FindStringSubmatch(ua); m != nil {
			if v, ok := windowsVersions[m[1]]; ok {
				d.OSVersion = v
			}
		}
	case strings.Contains(ua, "Macintosh") || strings.Contains(ua, "Mac OS X"):
		d.OS, d.Device = "Mac OS X", "Mac"
		if m := re.mac.FindStringSubmatch(ua); m != nil {
			d.OSVersion = strings.ReplaceAll(m[1], "_", ".")
		}
	case strings.Contains(ua, "CrOS"):
		d.OS = "Chrome OS"
	case strings.Contains(ua, "Linux"):
		d.OS = "Linux"
	}
	return d
}
