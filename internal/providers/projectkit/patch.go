package projectkit

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/capd-dev/capd/internal/capability"
)

// patch is a partial update's validated input: a field left out keeps its
// value, null clears it. Raw values tell the two apart.
type patch map[string]json.RawMessage

// decodePatch reads the call's input as a patch.
func decodePatch(c *capability.Call) (patch, error) {
	var p patch
	return p, decode(c, &p)
}

// id returns a required string field (the id of what is being changed).
func (p patch) id(name string) (string, error) {
	var id string
	err := json.Unmarshal(p[name], &id)
	return id, err
}

// str returns a string field; ok is false when the field is absent and
// the value is "" when it is null.
func (p patch) str(name string) (string, bool) {
	raw, ok := p[name]
	if !ok {
		return "", false
	}
	var s *string
	_ = json.Unmarshal(raw, &s) // validated: a string or null
	if s == nil {
		return "", true
	}
	return *s, true
}

// apply copies present string fields into their targets.
func (p patch) apply(fields map[string]*string) {
	for name, target := range fields {
		if v, ok := p.str(name); ok {
			*target = v
		}
	}
}

// title applies a present title, refusing a blank one.
func (p patch) title(target *string) error {
	if v, ok := p.str("title"); ok {
		if strings.TrimSpace(v) == "" {
			return blankTitle()
		}
		*target = v
	}
	return nil
}

// assignee applies a present assignee_id, which must be a staff member of
// the tenant (null unassigns).
func (p patch) assignee(ctx context.Context, tx capability.Tx, target *string) error {
	v, ok := p.str("assignee_id")
	if !ok {
		return nil
	}
	if v != "" {
		if err := checkAssignee(ctx, tx, v); err != nil {
			return err
		}
	}
	*target = v
	return nil
}
