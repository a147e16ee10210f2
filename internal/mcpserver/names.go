package mcpserver

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// ToolNames is how capability names appear as MCP tool names. Some clients
// reject a dot in a tool name, so a server can offer projects.create_task as
// projects_create_task instead. The mapping is reversible because a
// capability's domain never contains an underscore (the manifest schema's
// name pattern): the first underscore of a tool name is the dot.
type ToolNames int

const (
	// DottedNames serves tools under their capability names
	// (projects.create_task), the default.
	DottedNames ToolNames = iota
	// UnderscoreNames replaces the dot between domain and operation with an
	// underscore (projects_create_task).
	UnderscoreNames
)

// ToolNamesValues are the accepted spellings of ParseToolNames, in order.
var ToolNamesValues = []string{"dotted", "underscore"}

// ParseToolNames reads a --tool-names value.
func ParseToolNames(s string) (ToolNames, error) {
	switch s {
	case "", "dotted":
		return DottedNames, nil
	case "underscore":
		return UnderscoreNames, nil
	}
	return 0, fmt.Errorf("tool names %q: use dotted (projects.create_task) or underscore (projects_create_task)", s)
}

func (n ToolNames) String() string { return ToolNamesValues[n] }

// Tool returns the tool name of capability name.
func (n ToolNames) Tool(capability string) string {
	if n == UnderscoreNames {
		return strings.Replace(capability, ".", "_", 1)
	}
	return capability
}

// Capability returns the capability name of tool name: the inverse of Tool.
func (n ToolNames) Capability(tool string) string {
	if n == UnderscoreNames {
		return strings.Replace(tool, "_", ".", 1)
	}
	return tool
}

// capabilityMention finds what may be a capability name in capd's own
// prose (descriptions, rejection messages, deprecation notices).
var capabilityMention = regexp.MustCompile(`\b[a-z][a-z0-9]*\.[a-z][a-z0-9_]*\b`)

// Text rewrites the capability names that known reports as such in a text
// capd wrote, so that a message telling an agent to "call
// projects.list_projects first" names a tool it can call. Anything else that
// merely looks like one (a file name, "e.g.") is left as it is.
func (n ToolNames) Text(s string, known func(string) bool) string {
	if n == DottedNames {
		return s
	}
	return capabilityMention.ReplaceAllStringFunc(s, func(m string) string {
		if known(m) {
			return n.Tool(m)
		}
		return m
	})
}

// Set parses a flag value; with String and Type it makes *ToolNames a
// command-line flag (pflag.Value), so a bad value fails when flags parse.
func (n *ToolNames) Set(s string) error {
	v, err := ParseToolNames(s)
	if err != nil {
		return err
	}
	*n = v
	return nil
}

// Type names the flag's value in help text.
func (n *ToolNames) Type() string { return "dotted|underscore" }

// ToolNamesParam is the query parameter of an MCP URL that chooses the
// spelling for one client, e.g. /mcp?tool_names=underscore.
const ToolNamesParam = "tool_names"

// RequestToolNames is the spelling r's URL asks for, or def when it does
// not say.
func RequestToolNames(r *http.Request, def ToolNames) (ToolNames, error) {
	v, ok := r.URL.Query()[ToolNamesParam]
	if !ok {
		return def, nil
	}
	if len(v) != 1 || v[0] == "" {
		return 0, fmt.Errorf("the URL's %s parameter must appear once, as dotted or underscore", ToolNamesParam)
	}
	n, err := ParseToolNames(v[0])
	if err != nil {
		return 0, fmt.Errorf("the URL's %s parameter: %w", ToolNamesParam, err)
	}
	return n, nil
}
