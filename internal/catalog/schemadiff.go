package catalog

import (
	"bytes"
	"encoding/json"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// changeKind says what happened at a path between two schema versions.
type changeKind string

const (
	changeAdded   changeKind = "added"   // a property (or subschema) appeared
	changeRemoved changeKind = "removed" // a property (or subschema) went away
	changeChanged changeKind = "changed" // a keyword of an existing schema changed
)

// schemaChange is one difference between two versions of a JSON Schema, in
// words a person reads without knowing JSON Schema well.
type schemaChange struct {
	// Path is the property path of the schema that changed: "title",
	// "task.labels", "history[]" for an array's items, "(then)" or
	// "priority(anyOf 2)" for subschemas under a keyword; "" is the root.
	Path string
	Kind changeKind
	// Keyword is the JSON Schema keyword that changed ("maxLength",
	// "required", "enum"); "" when a whole schema was added or removed.
	Keyword string
	Before  string // the old value in words; "" when there was none
	After   string // the new value in words; "" when there is none
	// Text is the whole line, e.g. "+ budget_usd: number, 3 ≤ x ≤ 300
	// (optional)", "− agent_vendor", "~ title: maxLength 200 → 120",
	// "~ required: + category".
	Text string
}

// valueKeywords are the keywords that describe a schema's own values,
// compared in this order before its properties and subschemas. "nullable"
// is not JSON Schema: resolve writes it when it folds anyOf [X, null] into
// an X without a type.
var valueKeywords = []string{
	"type", "nullable", "const", "enum", "format", "pattern",
	"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "multipleOf",
	"minLength", "maxLength", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties",
	"default", "title", "description", "examples", "deprecated", "readOnly", "writeOnly",
}

// subschemaKeywords hold one schema each; a change inside one is reported
// at the path of the keyword.
var subschemaKeywords = []struct{ keyword, segment string }{
	{"items", "[]"}, {"contains", "(contains)"}, {"not", "(not)"},
	{"if", "(if)"}, {"then", "(then)"}, {"else", "(else)"},
}

// branchKeywords hold a list of schemas, compared position by position.
var branchKeywords = []string{"allOf", "anyOf", "oneOf", "prefixItems"}

// skippedKeywords say nothing about the values a schema accepts: ids,
// comments, and definitions, which count only where a $ref uses them.
var skippedKeywords = map[string]bool{
	"$id": true, "$schema": true, "$defs": true, "definitions": true, "$comment": true, "$anchor": true,
}

// diffSchemas compares two JSON Schemas as decoded JSON values (objects as
// map[string]any, numbers as json.Number or float64) and lists what changed
// per property path, in a stable order. shared maps a $ref's target without
// its fragment ("capd:schemas/task.json") to that decoded schema; "#..."
// refs point into the schema's own root. Every $ref is resolved before
// comparing, so moving from one shared schema to another shows the real
// difference and an inlined copy of a shared schema shows none; a ref that
// cannot be resolved (unknown, or a cycle) is compared as its text. Key
// order, and the order of required and enum, do not matter. Identical
// schemas give no changes.
func diffSchemas(before, after any, shared map[string]any) []schemaChange {
	d := &schemaDiffer{shared: shared, roots: [2]any{before, after}}
	d.compare("", before, after, nil, nil)
	return d.out
}

// schemaDiffer walks two schemas side by side, collecting changes. Side 0
// is the old schema, side 1 the new one.
type schemaDiffer struct {
	shared map[string]any
	roots  [2]any
	out    []schemaChange
}

func (d *schemaDiffer) emit(path string, kind changeKind, keyword, before, after, text string) {
	d.out = append(d.out, schemaChange{Path: path, Kind: kind, Keyword: keyword, Before: before, After: after, Text: text})
}

// compare reports every difference between the schemas a and b at path.
// seenA and seenB are the refs already expanded above this point, so a
// recursive schema ends instead of looping.
func (d *schemaDiffer) compare(path string, a, b any, seenA, seenB []string) {
	ab, aIsBool := a.(bool)
	bb, bIsBool := b.(bool)
	if aIsBool || bIsBool {
		if !aIsBool || !bIsBool || ab != bb {
			before, after := d.summary(0, a, seenA), d.summary(1, b, seenB)
			d.emit(path, changeChanged, "", before, after, "~ "+pathLabel(path)+": "+before+" → "+after)
		}
		return
	}
	am, seenA := d.resolve(0, a, seenA)
	bm, seenB := d.resolve(1, b, seenB)
	handled := map[string]bool{"properties": true, "required": true, "additionalProperties": true}
	for _, kw := range valueKeywords {
		handled[kw] = true
		if kw == "enum" {
			d.enum(path, am, bm)
		} else {
			d.keyword(path, kw, am, bm)
		}
	}
	d.properties(path, am, bm, seenA, seenB)
	d.required(path, am, bm)
	d.additionalProperties(path, am, bm, seenA, seenB)
	for _, sk := range subschemaKeywords {
		_, aList := am[sk.keyword].([]any)
		_, bList := bm[sk.keyword].([]any)
		if aList || bList {
			continue // a pre-2020 tuple "items": compared as JSON below
		}
		handled[sk.keyword] = true
		d.subschema(joinPath(path, sk.segment), am, bm, sk.keyword, seenA, seenB)
	}
	for _, kw := range branchKeywords {
		as, aok := am[kw].([]any)
		bs, bok := bm[kw].([]any)
		if !aok && am[kw] != nil || !bok && bm[kw] != nil {
			continue // not a list: compared as JSON below
		}
		handled[kw] = true
		for i := range max(len(as), len(bs)) {
			p := joinPath(path, "("+kw+" "+strconv.Itoa(i+1)+")")
			switch {
			case i < len(as) && i < len(bs):
				d.compare(p, as[i], bs[i], seenA, seenB)
			case i < len(bs):
				d.added(p, bs[i], "", seenB)
			default:
				d.removed(p, as[i], "", seenA)
			}
		}
	}
	// Whatever else either side says, compared as JSON.
	var rest []string
	for _, m := range []map[string]any{am, bm} {
		for k := range m {
			if !handled[k] && !skippedKeywords[k] && !slices.Contains(rest, k) {
				rest = append(rest, k)
			}
		}
	}
	sort.Strings(rest)
	for _, kw := range rest {
		d.keyword(path, kw, am, bm)
	}
}

// keyword reports a change of one keyword's value, compared as JSON:
// "maxLength 200 → 120", "+ pattern ^a$", "− minimum 0".
func (d *schemaDiffer) keyword(path, kw string, am, bm map[string]any) {
	av, aok := am[kw]
	bv, bok := bm[kw]
	if !aok && !bok || aok && bok && jsonEqual(av, bv) {
		return
	}
	before, after := keywordValue(kw, av, aok), keywordValue(kw, bv, bok)
	text := kw + " " + before + " → " + after
	if !aok {
		text = "+ " + kw + " " + after
	} else if !bok {
		text = "− " + kw + " " + before
	}
	d.emit(path, changeChanged, kw, before, after, "~ "+pathLabel(path)+": "+text)
}

// properties compares the properties both sides declare, and reports the
// ones only one side has.
func (d *schemaDiffer) properties(path string, am, bm map[string]any, seenA, seenB []string) {
	ap, _ := am["properties"].(map[string]any)
	bp, _ := bm["properties"].(map[string]any)
	reqA, reqB := stringSet(am["required"]), stringSet(bm["required"])
	for _, name := range unionKeys(ap, bp) {
		p := joinPath(path, name)
		av, aok := ap[name]
		bv, bok := bp[name]
		switch {
		case aok && bok:
			d.compare(p, av, bv, seenA, seenB)
		case bok:
			d.added(p, bv, requiredWord(reqB[name]), seenB)
		default:
			d.removed(p, av, requiredWord(reqA[name]), seenA)
		}
	}
}

func requiredWord(required bool) string {
	if required {
		return "required"
	}
	return "optional"
}

// added reports a schema that only the new side has, then every property
// inside it, so a new object reads field by field. note, when set, follows
// the summary in parentheses.
func (d *schemaDiffer) added(path string, v any, note string, seen []string) {
	after := d.summary(1, v, seen)
	if note != "" {
		after += " (" + note + ")"
	}
	d.emit(path, changeAdded, "", "", after, "+ "+pathLabel(path)+": "+after)
	d.addedInside(path, v, seen)
}

func (d *schemaDiffer) addedInside(path string, v any, seen []string) {
	if _, ok := v.(bool); ok {
		return
	}
	m, seen := d.resolve(1, v, seen)
	props, _ := m["properties"].(map[string]any)
	req := stringSet(m["required"])
	for _, name := range unionKeys(props, nil) {
		d.added(joinPath(path, name), props[name], requiredWord(req[name]), seen)
	}
	if items, ok := m["items"].(map[string]any); ok {
		// The items' own line would repeat "array of …"; list their insides.
		d.addedInside(joinPath(path, "[]"), items, seen)
	}
}

// removed reports a schema that only the old side has; its name is enough.
func (d *schemaDiffer) removed(path string, v any, note string, seen []string) {
	before := d.summary(0, v, seen)
	if note != "" {
		before += " (" + note + ")"
	}
	d.emit(path, changeRemoved, "", before, "", "− "+pathLabel(path))
}

// required reports names that became required or optional. A property
// added or removed in the same step is left out: its own line says it.
func (d *schemaDiffer) required(path string, am, bm map[string]any) {
	ra, rb := stringSet(am["required"]), stringSet(bm["required"])
	ap, _ := am["properties"].(map[string]any)
	bp, _ := bm["properties"].(map[string]any)
	var parts []string
	for _, name := range sortedSet(rb) {
		_, wasProp := ap[name]
		_, isProp := bp[name]
		if !ra[name] && !(isProp && !wasProp) {
			parts = append(parts, "+ "+name)
		}
	}
	for _, name := range sortedSet(ra) {
		_, wasProp := ap[name]
		_, isProp := bp[name]
		if !rb[name] && !(wasProp && !isProp) {
			parts = append(parts, "− "+name)
		}
	}
	if len(parts) == 0 {
		return
	}
	d.emit(path, changeChanged, "required", strings.Join(sortedSet(ra), ", "), strings.Join(sortedSet(rb), ", "),
		"~ "+joinPath(path, "required")+": "+strings.Join(parts, ", "))
}

// additionalProperties reports whether other keys became allowed or not;
// a missing keyword and an empty schema both mean true.
func (d *schemaDiffer) additionalProperties(path string, am, bm map[string]any, seenA, seenB []string) {
	av, aok := am["additionalProperties"]
	bv, bok := bm["additionalProperties"]
	if !aok && !bok {
		return
	}
	norm := func(v any, ok bool) any {
		if m, isMap := v.(map[string]any); !ok || isMap && len(m) == 0 {
			return true
		}
		return v
	}
	av, bv = norm(av, aok), norm(bv, bok)
	_, aMap := av.(map[string]any)
	_, bMap := bv.(map[string]any)
	if aMap && bMap {
		d.compare(joinPath(path, "*"), av, bv, seenA, seenB)
		return
	}
	if jsonEqual(av, bv) {
		return
	}
	before, after := d.summary(0, av, seenA), d.summary(1, bv, seenB)
	if b, ok := av.(bool); ok {
		before = strconv.FormatBool(b)
	}
	if b, ok := bv.(bool); ok {
		after = strconv.FormatBool(b)
	}
	d.emit(path, changeChanged, "additionalProperties", before, after, "~ "+joinPath(path, "additionalProperties")+": "+before+" → "+after)
}

// subschema compares one single-schema keyword such as items or then.
func (d *schemaDiffer) subschema(path string, am, bm map[string]any, kw string, seenA, seenB []string) {
	av, aok := am[kw]
	bv, bok := bm[kw]
	switch {
	case aok && bok:
		d.compare(path, av, bv, seenA, seenB)
	case bok:
		d.added(path, bv, "", seenB)
	case aok:
		d.removed(path, av, "", seenA)
	}
}

// enum reports the values added to and removed from an enum, ignoring
// their order.
func (d *schemaDiffer) enum(path string, am, bm map[string]any) {
	av, aok := am["enum"].([]any)
	bv, bok := bm["enum"].([]any)
	if !aok && !bok {
		return
	}
	before, after := plainList(av), plainList(bv)
	switch {
	case !aok:
		d.emit(path, changeChanged, "enum", "", after, "~ "+pathLabel(path)+": + enum "+after)
	case !bok:
		d.emit(path, changeChanged, "enum", before, "", "~ "+pathLabel(path)+": − enum "+before)
	default:
		var parts []string
		for _, v := range bv {
			if !slices.ContainsFunc(av, func(w any) bool { return jsonEqual(v, w) }) {
				parts = append(parts, "+ "+plainValue(v))
			}
		}
		for _, v := range av {
			if !slices.ContainsFunc(bv, func(w any) bool { return jsonEqual(v, w) }) {
				parts = append(parts, "− "+plainValue(v))
			}
		}
		if len(parts) > 0 {
			d.emit(path, changeChanged, "enum", before, after, "~ "+pathLabel(path)+": enum "+strings.Join(parts, ", "))
		}
	}
}

// resolve returns v as a schema object with its $refs expanded: the
// target's keywords, overlaid by the keywords written beside the $ref. It
// also folds the common "anyOf: [X, {type: null}]" into X with null added
// to its type, so a change inside X reads as a change of the property.
func (d *schemaDiffer) resolve(side int, v any, seen []string) (map[string]any, []string) {
	m, ok := v.(map[string]any)
	if !ok {
		return map[string]any{}, seen
	}
	for {
		ref, ok := m["$ref"].(string)
		if !ok || slices.Contains(seen, ref) {
			break
		}
		target, ok := d.lookup(side, ref).(map[string]any)
		if !ok {
			break
		}
		merged := make(map[string]any, len(target)+len(m))
		for k, tv := range target {
			if k != "$id" && k != "$schema" {
				merged[k] = tv
			}
		}
		for k, mv := range m {
			if k != "$ref" {
				merged[k] = mv
			}
		}
		seen = append(slices.Clip(seen), ref)
		m = merged
	}
	for _, kw := range []string{"anyOf", "oneOf"} {
		branches, ok := m[kw].([]any)
		if !ok || len(branches) != 2 {
			continue
		}
		null := slices.IndexFunc(branches, isNullSchema)
		if null < 0 || isNullSchema(branches[1-null]) {
			continue
		}
		other, otherSeen := d.resolve(side, branches[1-null], seen)
		merged := make(map[string]any, len(other)+len(m))
		for k, ov := range other {
			merged[k] = ov
		}
		for k, mv := range m {
			if k != kw {
				merged[k] = mv
			}
		}
		if t, ok := merged["type"]; ok {
			merged["type"] = withNull(t)
		} else {
			merged["nullable"] = true
		}
		return merged, otherSeen
	}
	return m, seen
}

// lookup finds the schema a $ref names, or nil.
func (d *schemaDiffer) lookup(side int, ref string) any {
	base, fragment, _ := strings.Cut(ref, "#")
	doc := d.roots[side]
	if base != "" {
		var ok bool
		if doc, ok = d.shared[base]; !ok {
			return nil
		}
	}
	if fragment == "" {
		return doc
	}
	if !strings.HasPrefix(fragment, "/") {
		return nil // an anchor name; capd's schemas do not use them
	}
	for _, tok := range strings.Split(fragment[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch t := doc.(type) {
		case map[string]any:
			doc = t[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(t) {
				return nil
			}
			doc = t[i]
		default:
			return nil
		}
	}
	return doc
}

// isNullSchema reports whether v is {"type": "null"}, perhaps described.
func isNullSchema(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || m["type"] != "null" {
		return false
	}
	for k := range m {
		if k != "type" && k != "description" && k != "title" {
			return false
		}
	}
	return true
}

func withNull(t any) any {
	switch t := t.(type) {
	case string:
		if t == "null" {
			return t
		}
		return []any{t, "null"}
	case []any:
		if slices.Contains(t, any("null")) {
			return t
		}
		return append(slices.Clip(t), "null")
	}
	return t
}

// summary describes a whole schema in one line: its type, then its
// constraints, e.g. "number, 3 ≤ x ≤ 300" or "one of low, medium, high".
func (d *schemaDiffer) summary(side int, v any, seen []string) string {
	if b, ok := v.(bool); ok {
		if b {
			return "anything"
		}
		return "nothing"
	}
	m, seen := d.resolve(side, v, seen)
	var parts []string
	parts = appendRange(parts, m, "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "x")
	parts = appendRange(parts, m, "minLength", "", "maxLength", "", "length")
	parts = appendRange(parts, m, "minItems", "", "maxItems", "", "items")
	parts = appendRange(parts, m, "minProperties", "", "maxProperties", "", "properties")
	if u, _ := m["uniqueItems"].(bool); u {
		parts = append(parts, "unique")
	}
	if n, ok := m["multipleOf"]; ok {
		parts = append(parts, "multiple of "+plainValue(n))
	}
	for _, kw := range []string{"format", "pattern"} {
		if s, ok := m[kw].(string); ok {
			parts = append(parts, kw+" "+s)
		}
	}
	if ap, ok := m["additionalProperties"].(bool); ok && !ap {
		parts = append(parts, "no other properties")
	}
	if req := sortedSet(stringSet(m["required"])); len(req) > 0 && m["properties"] == nil {
		parts = append(parts, "requires "+strings.Join(req, ", "))
	}
	if def, ok := m["default"]; ok {
		parts = append(parts, "default "+jsonText(def))
	}
	if t := d.typeText(side, m, seen); t != "any" || len(parts) == 0 {
		parts = append([]string{t}, parts...) // "requires a" says more than "any, requires a"
	}
	return strings.Join(parts, ", ")
}

// typeText is the first part of a summary: "string or null", "array of
// string", "one of low, medium, high", "= true".
func (d *schemaDiffer) typeText(side int, m map[string]any, seen []string) string {
	types := typeList(m["type"])
	nullable := slices.Contains(types, "null") || m["nullable"] == true
	orNull := func(s string) string {
		if nullable {
			return s + " or null"
		}
		return s
	}
	if c, ok := m["const"]; ok {
		return "= " + jsonText(c)
	}
	if e, ok := m["enum"].([]any); ok {
		if nullable && !slices.Contains(e, nil) {
			return "one of " + plainList(e) + ", or null"
		}
		return "one of " + plainList(e)
	}
	types = slices.DeleteFunc(slices.Clone(types), func(t string) bool { return t == "null" })
	if len(types) == 0 {
		switch {
		case m["properties"] != nil:
			types = []string{"object"}
		case m["items"] != nil:
			types = []string{"array"}
		case nullable:
			return "null"
		default:
			return orNull("any")
		}
	}
	for i, t := range types {
		if t != "array" {
			continue
		}
		if items, ok := m["items"]; ok {
			if _, isBool := items.(bool); !isBool {
				im, iseen := d.resolve(side, items, seen)
				types[i] = "array of " + d.typeText(side, im, iseen)
			}
		}
	}
	return orNull(strings.Join(types, " or "))
}

// appendRange adds a bound such as "3 ≤ x ≤ 300", "length ≤ 200" or
// "x > 0" when m has either limit.
func appendRange(parts []string, m map[string]any, lowKw, lowStrictKw, highKw, highStrictKw, name string) []string {
	low, lowOp := boundOf(m, lowKw, lowStrictKw)
	high, highOp := boundOf(m, highKw, highStrictKw)
	switch {
	case low != "" && high != "":
		return append(parts, low+" "+lowOp+" "+name+" "+highOp+" "+high)
	case low != "":
		return append(parts, name+" "+strings.NewReplacer("≤", "≥", "<", ">").Replace(lowOp)+" "+low)
	case high != "":
		return append(parts, name+" "+highOp+" "+high)
	}
	return parts
}

// boundOf returns a limit and its operator as written left to right: "≤"
// for an inclusive keyword, "<" for an exclusive one.
func boundOf(m map[string]any, inclusive, exclusive string) (string, string) {
	if exclusive != "" {
		if v, ok := m[exclusive]; ok {
			return plainValue(v), "<"
		}
	}
	if v, ok := m[inclusive]; ok {
		return plainValue(v), "≤"
	}
	return "", ""
}

// keywordValue renders one keyword's value for a line: types and enums as
// words, formats and patterns as written, anything else as JSON.
func keywordValue(kw string, v any, ok bool) string {
	if !ok {
		return ""
	}
	switch kw {
	case "type":
		return strings.Join(typeList(v), " or ")
	case "format", "pattern":
		if s, isString := v.(string); isString {
			return s
		}
	}
	return jsonText(v)
}

func typeList(t any) []string {
	switch t := t.(type) {
	case string:
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// maxValueRunes caps a JSON value shown on a line; longer ones end in "…".
const maxValueRunes = 120

// jsonText is v as compact JSON with sorted keys, HTML characters left
// alone (the template escapes them), cut at maxValueRunes.
func jsonText(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "?"
	}
	s := strings.TrimSuffix(buf.String(), "\n")
	if utf8.RuneCountInString(s) > maxValueRunes {
		s = string([]rune(s)[:maxValueRunes-1]) + "…"
	}
	return s
}

// plainValue is a value as a word: a simple string without quotes
// (urgent, date-time), anything else as JSON.
func plainValue(v any) string {
	if s, ok := v.(string); ok && s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.:/@", r))
	}) < 0 {
		return s
	}
	return jsonText(v)
}

func plainList(vs []any) string {
	words := make([]string, len(vs))
	for i, v := range vs {
		words[i] = plainValue(v)
	}
	return strings.Join(words, ", ")
}

// jsonEqual reports whether two decoded JSON values are equal, comparing
// numbers by value (3 equals 3.0) and objects regardless of key order.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !jsonEqual(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case string, bool, nil:
		return a == b
	}
	x, xok := toRat(a)
	y, yok := toRat(b)
	return xok && yok && x.Cmp(y) == 0
}

func toRat(v any) (*big.Rat, bool) {
	switch n := v.(type) {
	case json.Number:
		return new(big.Rat).SetString(string(n))
	case float64:
		r := new(big.Rat)
		if r.SetFloat64(n) == nil {
			return nil, false
		}
		return r, true
	case int:
		return new(big.Rat).SetInt64(int64(n)), true
	case int64:
		return new(big.Rat).SetInt64(n), true
	}
	return nil, false
}

// stringSet is a "required" list as a set; anything else is empty.
func stringSet(v any) map[string]bool {
	set := map[string]bool{}
	list, _ := v.([]any)
	for _, x := range list {
		if s, ok := x.(string); ok {
			set[s] = true
		}
	}
	return set
}

func sortedSet(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func unionKeys(a, b map[string]any) []string {
	set := map[string]bool{}
	for k := range a {
		set[k] = true
	}
	for k := range b {
		set[k] = true
	}
	return sortedSet(set)
}

// joinPath appends a property name ("task" + "labels" = "task.labels") or
// a keyword segment ("tags" + "[]" = "tags[]", "" + "(then)" = "(then)").
func joinPath(path, segment string) string {
	if path == "" || strings.HasPrefix(segment, "[") || strings.HasPrefix(segment, "(") {
		return path + segment
	}
	return path + "." + segment
}

// pathLabel is how a path starts its line; the root has no name of its own.
func pathLabel(path string) string {
	if path == "" {
		return "(root)"
	}
	return path
}
