package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// MaxDepth is the default nesting limit for inputs. Go's decoder accepts
// 10,000 levels; capd refuses far less before decoding anything.
const MaxDepth = 64

// Decode decodes one JSON value for validation: numbers stay json.Number
// (as the schema engine expects) and nesting deeper than maxDepth is refused
// before the decoder sees it. Trailing data after the value is an error.
func Decode(data []byte, maxDepth int) (any, error) {
	if err := CheckDepth(data, maxDepth); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("not valid JSON: unexpected data after the value")
	}
	return v, nil
}

// CheckDepth reports an error when data nests objects or arrays deeper than
// max. It scans bytes only, skipping strings, so it is cheap and safe on
// hostile input.
func CheckDepth(data []byte, max int) error {
	depth := 0
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > max {
				return fmt.Errorf("JSON nests deeper than %d levels", max)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}
