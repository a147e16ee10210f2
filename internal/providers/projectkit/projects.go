package projectkit

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/capd-dev/capd/internal/capability"
)

func listProjects(ctx context.Context, c *capability.Call) (map[string]any, error) {
	return listByQuery(c, "projects.list_projects", func(query string, page capability.Page) ([]*capability.Project, error) {
		return c.Tx.FindProjects(ctx, capability.ProjectFilter{Query: query, Page: page})
	}, func(p *capability.Project) string { return p.ID }, projectJSON)
}

func getProject(ctx context.Context, c *capability.Call) (map[string]any, error) {
	var in struct {
		ProjectID string `json:"project_id"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	p, err := findProject(ctx, c.Tx, in.ProjectID)
	if err != nil {
		return nil, err
	}
	counts, err := c.Tx.CountTasksByStatus(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"project": projectJSON(p), "task_counts": counts}, nil
}

func createProject(ctx context.Context, c *capability.Call) (map[string]any, error) {
	var in struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return nil, capability.InvalidInput("name must not be blank", capability.Issue{Path: "/name", Message: "must contain a non-space character", Keyword: "minLength"})
	}
	// Checked inside the write transaction, which holds the tenant's write
	// lock, so two concurrent creates cannot both pass.
	existing, err := c.Tx.FindProjectByName(ctx, name)
	switch {
	case err == nil:
		return nil, &capability.Error{
			Code:    capability.CodeAlreadyExists,
			Message: fmt.Sprintf("a project named %q already exists (%s); use it, or choose another name", existing.Name, existing.ID),
			Issues:  []capability.Issue{{Path: "/name", Message: "is already used by project " + existing.ID}},
			Details: map[string]any{"existing_project_id": existing.ID},
		}
	case !errors.Is(err, capability.ErrNotFound):
		return nil, err
	}
	p := &capability.Project{Name: name, Description: in.Description, CreatedAt: c.Now, UpdatedAt: c.Now}
	if err := c.Tx.CreateProject(ctx, p); err != nil {
		return nil, err
	}
	return map[string]any{"project": projectJSON(p)}, nil
}

// findProject loads a project or answers unknown_project at /project_id.
func findProject(ctx context.Context, tx capability.Tx, id string) (*capability.Project, error) {
	p, err := tx.FindProjectByID(ctx, id)
	if errors.Is(err, capability.ErrNotFound) {
		return nil, &capability.Error{
			Code:    capability.CodeUnknownProject,
			Message: fmt.Sprintf("project %q does not exist in this tenant; call projects.list_projects to find valid project ids", id),
			Issues:  []capability.Issue{{Path: "/project_id", Message: "no such project"}},
		}
	}
	return p, err
}
