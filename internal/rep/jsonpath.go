package rep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ImportError is a realm file that cannot be imported, with the JSON path of
// the problem ("$.users[3].enabled") so an operator can find it in a file of
// thousands of lines.
type ImportError struct {
	Path string
	Msg  string
	// Conflict marks a clash with what is stored or earlier in the file,
	// such as a second user with the same email (409 over HTTP).
	Conflict bool
}

func (e *ImportError) Error() string { return e.Path + ": " + e.Msg }

func importErr(path, format string, args ...any) error {
	return &ImportError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// decodeStrict decodes a realm document, turning encoding/json's errors into
// ImportErrors that name the JSON path of the offending value.
func decodeStrict(data []byte, v any) error {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 BOM some editors add
	if len(bytes.TrimSpace(data)) == 0 {
		return importErr("$", "the file is empty")
	}
	if t := bytes.TrimSpace(data)[0]; t != '{' {
		return importErr("$", "a realm file must hold one JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	err := dec.Decode(v)
	if err == nil {
		if _, err := dec.Token(); err == nil {
			return importErr("$", "unexpected data after the realm object")
		}
		return nil
	}
	var (
		typeErr *json.UnmarshalTypeError
		synErr  *json.SyntaxError
	)
	switch {
	case errors.As(err, &typeErr):
		return importErr(pathAt(data, typeErr.Offset), "expected %s, found %s", jsonKind(typeErr.Type.String()), typeErr.Value)
	case errors.As(err, &synErr):
		line := 1 + bytes.Count(data[:min(int(synErr.Offset), len(data))], []byte("\n"))
		return importErr(pathAt(data, synErr.Offset), "invalid JSON at line %d: %s", line, synErr.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return importErr("$", "the file ends before the realm object is complete")
	}
	return importErr("$", "%s", err.Error())
}

func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "rep."), strings.HasPrefix(goType, "*rep."):
		return "an object"
	case strings.Contains(goType, "bool"):
		return "true or false"
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"):
		return "a number"
	case strings.Contains(goType, "string"):
		return "a string"
	}
	return goType
}

// pathAt returns the JSON path of the value that ends at (or contains) byte
// offset off of data, by replaying the token stream.
func pathAt(data []byte, off int64) string {
	type frame struct {
		array     bool
		index     int
		key       string
		expectKey bool
	}
	var stack []frame
	render := func() string {
		var b strings.Builder
		b.WriteString("$")
		for _, f := range stack {
			if f.array {
				if f.index >= 0 {
					b.WriteString("[" + strconv.Itoa(f.index) + "]")
				}
			} else if f.key != "" {
				b.WriteString("." + f.key)
			}
		}
		return b.String()
	}
	valueDone := func() {
		if n := len(stack); n > 0 && !stack[n-1].array {
			stack[n-1].expectKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	last := "$"
	for dec.InputOffset() < off {
		tok, err := dec.Token()
		if err != nil {
			return last
		}
		n := len(stack)
		if s, ok := tok.(string); ok && n > 0 && !stack[n-1].array && stack[n-1].expectKey {
			stack[n-1].key, stack[n-1].expectKey = s, false
			last = render()
			continue
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:n-1]
			valueDone()
			continue
		}
		if n > 0 && stack[n-1].array {
			stack[n-1].index++
		}
		last = render()
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{expectKey: true})
		case json.Delim('['):
			stack = append(stack, frame{array: true, index: -1})
		default:
			valueDone()
		}
	}
	return last
}
