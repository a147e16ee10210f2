package catalog

import (
	"strconv"
	"strings"

	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/tooldef"
)

// budget is what an agent's context holds before its first call: the MCP
// tools/list answer for the tools it is connected to.
type budget struct {
	Tools  int // tools in the answer
	Bytes  int // size of {"tools": [...]} as JSON
	Tokens int // estimated: Bytes / tooldef.BytesPerToken, rounded up
}

// contextBudget measures the tools/list answer for vs: each version
// rendered with tooldef.Render in the MCP format, inside {"tools": [...]},
// marshalled with encoding/json. It goes through tooldef.ListBudget, the
// measure `capd capabilities lint` prints, so the catalog and the CLI
// never disagree about a set's cost.
func contextBudget(vs []*registry.Version) budget {
	b := tooldef.ListBudget(vs)
	return budget{Tools: b.Tools, Bytes: b.Bytes, Tokens: b.Tokens}
}

// catalogBudget is the budget of the whole catalog, what /mcp lists for a
// key with every scope: each capability at the version a bare name
// resolves to. Capabilities whose every version is retired list nothing.
func catalogBudget(reg *registry.Registry) budget {
	var vs []*registry.Version
	for _, name := range reg.Names() {
		if v := reg.Latest(name); v != nil {
			vs = append(vs, v)
		}
	}
	return contextBudget(vs)
}

// formatCount writes n with a comma between thousands (123,456), so byte
// and token counts read at a glance.
func formatCount(n int) string {
	digits := strconv.Itoa(n)
	sign := ""
	if n < 0 {
		sign, digits = "-", digits[1:]
	}
	var b strings.Builder
	b.WriteString(sign)
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return b.String()
}
