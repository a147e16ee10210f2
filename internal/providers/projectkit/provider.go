// Package projectkit is capd's built-in provider of the projects domain:
// projects, staff and tasks in each tenant's own database.
package projectkit

import (
	"encoding/json"

	"github.com/capd-dev/capd/internal/capability"
)

// Name is the provider's name; a provider instance is "projectkit:<tenant>".
const Name = "projectkit"

// Provider implements the projects.* capabilities.
type Provider struct{}

var _ capability.Provider = (*Provider)(nil)

// New returns the provider.
func New() *Provider { return &Provider{} }

// Name implements capability.Provider.
func (*Provider) Name() string { return Name }

// Handlers implements capability.Provider: one handler per name@version,
// gathered from each area of the domain.
func (*Provider) Handlers() map[string]capability.Handler {
	all := map[string]capability.Handler{}
	for _, area := range []map[string]capability.Handler{projectHandlers(), taskHandlers(), actionHandlers(), runHandlers()} {
		for ref, h := range area {
			all[ref] = h
		}
	}
	return all
}

func projectHandlers() map[string]capability.Handler {
	return map[string]capability.Handler{
		"projects.list_projects@0.1.0":  listProjects,
		"projects.get_project@0.1.0":    getProject,
		"projects.create_project@0.1.0": createProject,
		"projects.list_staff@0.1.0":     listStaff,
	}
}

func taskHandlers() map[string]capability.Handler {
	return map[string]capability.Handler{
		"projects.list_tasks@0.1.0":      listTasks,
		"projects.get_task@0.1.0":        getTask,
		"projects.create_task@0.1.0":     createTask,
		"projects.update_task@0.1.0":     updateTask,
		"projects.transition_task@0.1.0": transitionTask,
	}
}

// decode unmarshals the validated input into a typed struct. The input has
// already passed its schema, so a failure here is a bug.
func decode(c *capability.Call, into any) error {
	return json.Unmarshal(c.Input, into)
}
