package transfer

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Canonical values, one Go type per kind, with nil for NULL:
//
//	Text, OptText, JSONText  string (OptText: "" is nil)
//	Time, OptTime            time.Time, UTC, whole microseconds (OptTime: the zero time is nil)
//	Date                     string YYYY-MM-DD ("" is nil)
//	Int                      int64
//	Float                    float64
//	Bool                     bool
//	Bytes                    []byte (never nil: an empty value is empty)
//	JSONDoc                  string, canonical JSON (see canonicalJSON)
//	Scopes, Pins             []string (Pins: sorted name@version)
//
// Both engines' values are converted to these before they are compared or
// hashed, and the copy writes PostgreSQL's values from them, so what is
// written is exactly what the checksum describes.

// dateLayout is the domain's date format.
const dateLayout = "2006-01-02"

// fromSQLite converts a value scanned from SQLite (nil, int64, float64,
// string or []byte) into the canonical value of kind k. truncated reports a
// timestamp that had digits below a microsecond, which the canonical value
// (and PostgreSQL) drops.
func fromSQLite(k Kind, v any) (canon any, truncated bool, err error) {
	// modernc returns a zero-length BLOB as a typed nil []byte; only SQL
	// NULL is an untyped nil.
	if v == nil {
		return nil, false, nil
	}
	switch k {
	case Text, OptText, JSONText:
		s, err := sqliteText(v)
		if err != nil {
			return nil, false, err
		}
		if k == OptText && s == "" {
			return nil, false, nil
		}
		return s, false, nil
	case Time, OptTime:
		s, err := sqliteText(v)
		if err != nil {
			return nil, false, err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, false, fmt.Errorf("timestamp %q is not RFC 3339", s)
		}
		if k == OptTime && t.IsZero() {
			return nil, false, nil
		}
		canon := t.UTC().Truncate(time.Microsecond)
		return canon, !canon.Equal(t), nil
	case Date:
		s, err := sqliteText(v)
		if err != nil {
			return nil, false, err
		}
		if s == "" {
			return nil, false, nil
		}
		if _, err := time.Parse(dateLayout, s); err != nil {
			return nil, false, fmt.Errorf("date %q is not a calendar date YYYY-MM-DD", s)
		}
		return s, false, nil
	case Int:
		n, ok := v.(int64)
		if !ok {
			return nil, false, fmt.Errorf("want an integer, found %T", v)
		}
		return n, false, nil
	case Float:
		switch f := v.(type) {
		case float64:
			return f, false, nil
		case int64:
			// A REAL column stores an integral value as REAL in a STRICT
			// table, but an older file might not; the value is the same.
			return float64(f), false, nil
		}
		return nil, false, fmt.Errorf("want a number, found %T", v)
	case Bool:
		n, ok := v.(int64)
		if !ok || (n != 0 && n != 1) {
			return nil, false, fmt.Errorf("want 0 or 1, found %v", v)
		}
		return n == 1, false, nil
	case Bytes:
		b, ok := v.([]byte)
		if !ok {
			return nil, false, fmt.Errorf("want bytes, found %T", v)
		}
		if b == nil {
			b = []byte{}
		}
		return b, false, nil
	case JSONDoc:
		s, err := sqliteText(v)
		if err != nil {
			return nil, false, err
		}
		c, err := canonicalJSON([]byte(s))
		return c, false, err
	case Scopes:
		s, err := sqliteText(v)
		if err != nil {
			return nil, false, err
		}
		out := []string{}
		for part := range strings.SplitSeq(s, ",") {
			if part != "" {
				out = append(out, part)
			}
		}
		return out, false, nil
	case Pins:
		s, err := sqliteText(v)
		if err != nil {
			return nil, false, err
		}
		out := []string{}
		names := map[string]bool{}
		for ref := range strings.SplitSeq(s, ",") {
			if ref == "" {
				continue
			}
			name, version, ok := strings.Cut(ref, "@")
			if !ok || name == "" || version == "" || strings.Contains(version, "@") {
				return nil, false, fmt.Errorf("pin %q is not name@version", ref)
			}
			if names[name] {
				return nil, false, fmt.Errorf("%s is pinned twice", name)
			}
			names[name] = true
			out = append(out, ref)
		}
		slices.Sort(out)
		return out, false, nil
	}
	return nil, false, fmt.Errorf("unknown kind %v", k)
}

// sqliteText returns v as text. A TEXT column of a STRICT table holds
// only text; a BLOB there would mean a file capd did not write.
func sqliteText(v any) (string, error) {
	switch s := v.(type) {
	case string:
		return s, nil
	case []byte:
		return string(s), nil
	}
	return "", fmt.Errorf("want text, found %T", v)
}

// checkText refuses text PostgreSQL cannot store: a text value must be
// UTF-8 without NUL characters, where SQLite keeps any bytes. The copy
// stops on such a value, naming it; nothing is altered silently. The
// checksum still covers it, so a verification reports the tenant as
// missing rather than failing to read it.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("text is not valid UTF-8, which PostgreSQL text cannot hold")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return errors.New("text contains a NUL character, which PostgreSQL text cannot hold")
	}
	return nil
}

// fromPostgres converts a value pgx decoded from a verification query (see
// selectList) into the canonical value of kind k.
func fromPostgres(k Kind, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch k {
	case Text, OptText, JSONText, Date:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want text, found %T", v)
		}
		if (k == OptText || k == Date) && s == "" {
			return nil, nil
		}
		return s, nil
	case Time, OptTime:
		t, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("want a timestamp, found %T", v)
		}
		if k == OptTime && t.IsZero() {
			return nil, nil
		}
		return t.UTC().Truncate(time.Microsecond), nil
	case Int:
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("want an integer, found %T", v)
		}
		return n, nil
	case Float:
		f, ok := v.(float64)
		if !ok {
			return nil, fmt.Errorf("want a number, found %T", v)
		}
		return f, nil
	case Bool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("want a boolean, found %T", v)
		}
		return b, nil
	case Bytes:
		b, ok := v.([]byte)
		if !ok {
			return nil, fmt.Errorf("want bytes, found %T", v)
		}
		if b == nil {
			b = []byte{}
		}
		return b, nil
	case JSONDoc:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want JSON text, found %T", v)
		}
		return canonicalJSON([]byte(s))
	case Scopes:
		list, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("want a text array, found %T", v)
		}
		out := []string{}
		for _, e := range list {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("want text in the scope array, found %T", e)
			}
			if s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	case Pins:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want JSON text, found %T", v)
		}
		var m map[string]string
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			return nil, fmt.Errorf("pins %s: %w", s, err)
		}
		out := make([]string, 0, len(m))
		for name, version := range m {
			out = append(out, name+"@"+version)
		}
		slices.Sort(out)
		return out, nil
	}
	return nil, fmt.Errorf("unknown kind %v", k)
}

// toPostgres returns what COPY sends for the canonical value v of kind k.
func toPostgres(k Kind, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch k {
	case Text, OptText, JSONText:
		return v, checkText(v.(string))
	case Pins:
		m := map[string]string{}
		for _, ref := range v.([]string) {
			name, version, _ := strings.Cut(ref, "@")
			m[name] = version
		}
		b, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	case Date:
		// A time.Time, not the text: pgx encodes dates in binary from it.
		return time.Parse(dateLayout, v.(string))
	}
	// JSONText goes as a string, which pgx sends to a json column as is:
	// json keeps the text byte for byte.
	return v, nil
}

// Encoding tags of the canonical row encoding (see encodeValue).
const (
	tagNull byte = iota
	tagText
	tagInt
	tagFloat
	tagBool
	tagBytes
	tagTime
	tagList
)

// encodeValue appends the canonical encoding of v (a canonical value of
// kind k) to buf. Every value starts with a tag byte; variable-length
// values carry their length, so no two different rows encode alike:
//
//	NULL      0x00
//	text      0x01 len bytes        (Text, OptText, Date, JSONText, JSONDoc)
//	integer   0x02 int64 big-endian
//	float     0x03 IEEE 754 bits big-endian
//	boolean   0x04 0x00 or 0x01
//	bytes     0x05 len bytes
//	timestamp 0x06 Unix microseconds, int64 big-endian
//	list      0x07 count, then each entry as text (Scopes, Pins)
//
// len and count are unsigned varints.
func encodeValue(buf []byte, k Kind, v any) []byte {
	if v == nil {
		return append(buf, tagNull)
	}
	switch k {
	case Int:
		buf = append(buf, tagInt)
		return binary.BigEndian.AppendUint64(buf, uint64(v.(int64)))
	case Float:
		buf = append(buf, tagFloat)
		return binary.BigEndian.AppendUint64(buf, math.Float64bits(v.(float64)))
	case Bool:
		if v.(bool) {
			return append(buf, tagBool, 1)
		}
		return append(buf, tagBool, 0)
	case Bytes:
		b := v.([]byte)
		buf = append(buf, tagBytes)
		buf = binary.AppendUvarint(buf, uint64(len(b)))
		return append(buf, b...)
	case Time, OptTime:
		buf = append(buf, tagTime)
		return binary.BigEndian.AppendUint64(buf, uint64(v.(time.Time).UnixMicro()))
	case Scopes, Pins:
		list := v.([]string)
		buf = append(buf, tagList)
		buf = binary.AppendUvarint(buf, uint64(len(list)))
		for _, s := range list {
			buf = appendText(buf, s)
		}
		return buf
	}
	return appendText(append(buf, tagText), v.(string))
}

// appendText appends s with its length.
func appendText(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// digest accumulates one table's row count and checksum: SHA-256 over the
// canonical encodings of its rows in primary-key order.
type digest struct {
	rows int64
	h    hash.Hash
	buf  []byte
}

// newDigest returns an empty digest.
func newDigest() *digest { return &digest{h: sha256.New()} }

// add hashes one row of canonical values.
func (d *digest) add(kinds []Kind, row []any) {
	d.buf = d.buf[:0]
	for i, k := range kinds {
		d.buf = encodeValue(d.buf, k, row[i])
	}
	d.h.Write(d.buf)
	d.rows++
}

// sum returns the checksum in hex.
func (d *digest) sum() string { return fmt.Sprintf("%x", d.h.Sum(nil)) }

// canonicalJSON returns the canonical form of the JSON text b: object keys
// sorted, no insignificant whitespace, strings escaped as Go's encoder
// does, numbers written by value (1.50, 1.5 and 15e-1 are all 3/2) because
// jsonb keeps numbers as numeric. Duplicate keys keep the last value, as
// jsonb does.
func canonicalJSON(b []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("JSON %q: %w", b, err)
	}
	if dec.More() {
		return "", fmt.Errorf("JSON %q: more than one value", b)
	}
	var out strings.Builder
	if err := writeCanonical(&out, v); err != nil {
		return "", err
	}
	return out.String(), nil
}

// writeCanonical writes v, as decoded with UseNumber, in canonical form.
func writeCanonical(w *strings.Builder, v any) error {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		w.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				w.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			w.Write(kb)
			w.WriteByte(':')
			if err := writeCanonical(w, x[k]); err != nil {
				return err
			}
		}
		w.WriteByte('}')
	case []any:
		w.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				w.WriteByte(',')
			}
			if err := writeCanonical(w, e); err != nil {
				return err
			}
		}
		w.WriteByte(']')
	case json.Number:
		r, ok := new(big.Rat).SetString(string(x))
		if !ok {
			return fmt.Errorf("JSON number %s", x)
		}
		w.WriteString(r.RatString())
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return err
		}
		w.Write(b)
	}
	return nil
}
