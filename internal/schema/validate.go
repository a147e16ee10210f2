package schema

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/capd-dev/capd/internal/capability"
)

var printer = message.NewPrinter(language.English)

// Schema is a compiled schema.
type Schema struct {
	s       *jsonschema.Schema
	doc     any
	allowed []string // top-level property names, for unknown-field messages
}

// Doc returns the schema document as compiled.
func (s *Schema) Doc() any { return s.doc }

// Validate validates an already-decoded value (from Decode or
// jsonschema.UnmarshalJSON) and returns one issue per failed rule (a field
// breaking two rules gets two), sorted by path; nil means valid.
func (s *Schema) Validate(v any) []capability.Issue {
	err := s.s.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []capability.Issue{{Path: "", Message: err.Error()}}
	}
	var issues []capability.Issue
	s.collect(ve, &issues)
	sort.SliceStable(issues, func(i, j int) bool { return issues[i].Path < issues[j].Path })
	return dedupe(issues)
}

func (s *Schema) collect(e *jsonschema.ValidationError, out *[]capability.Issue) {
	at := pointer(e.InstanceLocation)
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		for _, name := range k.Missing {
			*out = append(*out, capability.Issue{Path: at + "/" + escape(name), Message: "is required", Keyword: "required"})
		}
	case *kind.AdditionalProperties:
		for _, name := range k.Properties {
			msg := "is not a field of this input; remove it"
			if at == "" && len(s.allowed) > 0 {
				msg += " (fields: " + strings.Join(s.allowed, ", ") + ")"
			}
			*out = append(*out, capability.Issue{Path: at + "/" + escape(name), Message: msg, Keyword: "additionalProperties"})
		}
	case *kind.AnyOf, *kind.OneOf:
		// One issue for the alternatives, e.g. "must be one of: low,
		// medium, high; or must be null".
		var alts []string
		for _, c := range e.Causes {
			var sub []capability.Issue
			s.collect(c, &sub)
			for _, is := range sub {
				alts = append(alts, is.Message)
			}
		}
		msg := "matches none of the allowed forms"
		if len(alts) > 0 {
			msg = strings.Join(dedupeStrings(alts), "; or ")
		}
		if o, ok := k.(*kind.OneOf); ok && len(o.Subschemas) > 1 {
			msg = "matches more than one allowed form"
		}
		*out = append(*out, capability.Issue{Path: at, Message: msg, Keyword: keyword(e)})
	default:
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				s.collect(c, out)
			}
			return
		}
		*out = append(*out, capability.Issue{Path: at, Message: describe(e.ErrorKind), Keyword: keyword(e)})
	}
}

func keyword(e *jsonschema.ValidationError) string {
	p := e.ErrorKind.KeywordPath()
	if len(p) == 0 {
		return ""
	}
	return p[0]
}

// describe renders one failed keyword as a sentence about the value.
func describe(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		return fmt.Sprintf("must be %s, not %s", article(strings.Join(k.Want, " or ")), k.Got)
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = fmt.Sprint(w)
		}
		return fmt.Sprintf("must be one of: %s", strings.Join(want, ", "))
	case *kind.Const:
		return fmt.Sprintf("must be %v", k.Want)
	case *kind.Format:
		switch k.Want {
		case "date":
			return "must be a calendar date in the form YYYY-MM-DD"
		case "date-time":
			return "must be an RFC 3339 date-time such as 2026-05-18T19:53:00Z"
		}
		return fmt.Sprintf("must be a valid %s", k.Want)
	case *kind.MinLength:
		if k.Want == 1 {
			return "must not be empty"
		}
		return fmt.Sprintf("must be at least %d characters long", k.Want)
	case *kind.MaxLength:
		return fmt.Sprintf("must be at most %d characters long (got %d)", k.Want, k.Got)
	case *kind.Minimum:
		return fmt.Sprintf("must be at least %s", k.Want.RatString())
	case *kind.Maximum:
		return fmt.Sprintf("must be at most %s", k.Want.RatString())
	case *kind.MinProperties:
		return fmt.Sprintf("must have at least %d fields (got %d)", k.Want, k.Got)
	case *kind.MinItems:
		return fmt.Sprintf("must have at least %d items", k.Want)
	case *kind.MaxItems:
		return fmt.Sprintf("must have at most %d items (got %d)", k.Want, k.Got)
	case *kind.Pattern:
		return fmt.Sprintf("must match the pattern %s", k.Want)
	case *kind.FalseSchema:
		return "is not allowed"
	case *kind.Not:
		return "uses a form that is not allowed here"
	}
	return k.LocalizedString(printer)
}

func article(t string) string {
	switch t {
	case "object", "array", "integer":
		return "an " + t
	case "null":
		return "null"
	}
	return "a " + t
}

func pointer(loc []string) string {
	if len(loc) == 0 {
		return ""
	}
	parts := make([]string, len(loc))
	for i, p := range loc {
		parts[i] = escape(p)
	}
	return "/" + strings.Join(parts, "/")
}

func escape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func dedupe(in []capability.Issue) []capability.Issue {
	seen := map[capability.Issue]bool{}
	out := in[:0]
	for _, is := range in {
		if !seen[is] {
			seen[is] = true
			out = append(out, is)
		}
	}
	return out
}

func dedupeStrings(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
