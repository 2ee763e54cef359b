package saml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// Bounds on the shape of a document read from the network: far above any
// real SAML message, far below what would cost the server.
const (
	maxDepth    = 64
	maxElements = 20000
)

// ErrMalformed is wrapped by every error about a message or metadata
// document that is not acceptable XML.
var ErrMalformed = errors.New("saml: malformed XML")

// parseXML reads an untrusted document: bounded in size, depth and element
// count, one root element, no DOCTYPE (so no entity can be declared, and
// encoding/xml refuses an undeclared one), no processing instruction other
// than the XML declaration.
func parseXML(b []byte, limit int) (*etree.Document, error) {
	if len(b) > limit {
		return nil, fmt.Errorf("%w: document larger than %d bytes", ErrMalformed, limit)
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	depth, elements, roots := 0, 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, fmt.Errorf("%w: DOCTYPE and other directives are not allowed", ErrMalformed)
		case xml.ProcInst:
			if t.Target != "xml" {
				return nil, fmt.Errorf("%w: processing instruction %q is not allowed", ErrMalformed, t.Target)
			}
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
			elements++
			if depth > maxDepth || elements > maxElements {
				return nil, fmt.Errorf("%w: document nested or sized beyond bounds", ErrMalformed)
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return nil, fmt.Errorf("%w: text outside the root element", ErrMalformed)
			}
		}
	}
	if roots != 1 {
		return nil, fmt.Errorf("%w: want one root element, found %d", ErrMalformed, roots)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if doc.Root() == nil {
		return nil, fmt.Errorf("%w: no root element", ErrMalformed)
	}
	return doc, nil
}

// is reports whether el is the element local in namespace ns.
func is(el *etree.Element, ns, local string) bool {
	return el != nil && el.Tag == local && el.NamespaceURI() == ns
}

// child is el's first child element local in namespace ns, nil if none.
func child(el *etree.Element, ns, local string) *etree.Element {
	if el == nil {
		return nil
	}
	for _, c := range el.ChildElements() {
		if is(c, ns, local) {
			return c
		}
	}
	return nil
}

// children are el's child elements local in namespace ns.
func children(el *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	if el == nil {
		return nil
	}
	for _, c := range el.ChildElements() {
		if is(c, ns, local) {
			out = append(out, c)
		}
	}
	return out
}

// text is all the character data directly inside el, comments skipped,
// surrounding blanks trimmed. Unlike etree's Text, a comment inside the
// value does not cut it short ("admin@example.com<!---->.evil" is read
// whole, the class of CVE-2017-11427).
func text(el *etree.Element) string {
	if el == nil {
		return ""
	}
	var sb strings.Builder
	for _, t := range el.Child {
		if cd, ok := t.(*etree.CharData); ok {
			sb.WriteString(cd.Data)
		}
	}
	return strings.TrimSpace(sb.String())
}

// attr is el's unqualified attribute key, "" if absent.
func attr(el *etree.Element, key string) string {
	if el == nil {
		return ""
	}
	for _, a := range el.Attr {
		if a.Space == "" && a.Key == key {
			return a.Value
		}
	}
	return ""
}

// boolAttr reads an xs:boolean attribute.
func boolAttr(el *etree.Element, key string) bool {
	v := strings.TrimSpace(attr(el, key))
	return v == "true" || v == "1"
}

// timeAttr reads an xs:dateTime attribute, zero when absent or malformed.
func timeAttr(el *etree.Element, key string) time.Time {
	v := strings.TrimSpace(attr(el, key))
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// xmlTime formats a time as SAML's xs:dateTime (UTC, milliseconds).
func xmlTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// serialize writes a document without an XML declaration.
func serialize(el *etree.Element) ([]byte, error) {
	doc := etree.NewDocument()
	doc.SetRoot(el)
	doc.WriteSettings.CanonicalEndTags = true
	return doc.WriteToBytes()
}
