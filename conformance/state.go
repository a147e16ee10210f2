package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
)

// maxProbePages bounds one probe's paging, so a huge tenant cannot stall a
// case forever; a state that large is better checked on a smaller copy.
const maxProbePages = 200

// StateProbes returns the capabilities that, together, read a tenant's
// whole state: every callable read-only capability that takes no required
// input and pages with a cursor (for projectkit: list_projects, list_staff,
// list_tasks). Nothing here is specific to one domain, so a new domain's
// list capabilities are probed without changes.
func (s *Suite) StateProbes() []string {
	var out []string
	for _, name := range s.Registry.Names() {
		v := s.Registry.Latest(name)
		if v == nil || !v.Manifest.Annotations.ReadOnly {
			continue
		}
		var in struct {
			Required   []string       `json:"required"`
			Properties map[string]any `json:"properties"`
		}
		if json.Unmarshal(v.InputJSON, &in) != nil || len(in.Required) > 0 {
			continue
		}
		if _, ok := in.Properties["cursor"]; ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// snapshot reads every item every probe lists, following next_cursor, and
// returns them by probe name.
func snapshot(ctx context.Context, t Target, probes []string) (map[string]any, error) {
	state := map[string]any{}
	for _, name := range probes {
		var items []any
		args := map[string]any{"limit": 100}
		for page := 0; ; page++ {
			if page == maxProbePages {
				return nil, fmt.Errorf("%s has more than %d pages", name, maxProbePages)
			}
			raw, _ := json.Marshal(args)
			resp, err := t.Call(ctx, name, raw)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", name, err)
			}
			if resp.IsError || resp.Output == nil {
				return nil, fmt.Errorf("%s: %.200s", name, resp.Text)
			}
			got, _ := resp.Output["items"].([]any)
			items = append(items, got...)
			next, _ := resp.Output["next_cursor"].(string)
			if next == "" {
				break
			}
			args["cursor"] = next
		}
		state[name] = items
	}
	return state, nil
}

// firstDifference describes the first probe whose items differ, or "".
func firstDifference(before, after map[string]any) string {
	for _, name := range sortedKeys(before) {
		b, _ := before[name].([]any)
		a, _ := after[name].([]any)
		if reflect.DeepEqual(b, a) {
			continue
		}
		if len(a) != len(b) {
			return fmt.Sprintf("%s listed %d items before and %d after", name, len(b), len(a))
		}
		for i := range b {
			if !reflect.DeepEqual(b[i], a[i]) {
				return fmt.Sprintf("%s item %d changed from %s to %s", name, i, jsonText(b[i]), jsonText(a[i]))
			}
		}
	}
	return ""
}
