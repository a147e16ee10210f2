package projectkit

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/capd-dev/capd/internal/capability"
)

func listTaskTypes(ctx context.Context, c *capability.Call) (map[string]any, error) {
	var in struct {
		Category string `json:"category"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	types, err := c.Tx.FindTaskTypes(ctx, in.Category)
	if err != nil {
		return nil, err
	}
	// An empty list for a misspelt category would read as "this category
	// has no types"; naming the real ones lets an agent correct itself.
	if in.Category != "" && len(types) == 0 {
		known, err := taskCategories(ctx, c.Tx)
		if err != nil {
			return nil, err
		}
		return nil, capability.InvalidInput(
			fmt.Sprintf("category %q is not in this tenant's task taxonomy; the categories are: %s. Call projects.list_task_types with one of them, or without category", in.Category, known),
			capability.Issue{Path: "/category", Message: "not a category of the taxonomy; use one of: " + known})
	}
	return map[string]any{"items": mapEach(types, taskTypeJSON)}, nil
}

// checkTaskType answers unknown_task_type unless the pair is in the
// taxonomy, at /category when the category itself is unknown and at
// /task_type otherwise, naming what would be valid.
func checkTaskType(ctx context.Context, tx capability.Tx, category, taskType string) error {
	_, err := tx.FindTaskType(ctx, category, taskType)
	if !errors.Is(err, capability.ErrNotFound) {
		return err
	}
	inCategory, err := tx.FindTaskTypes(ctx, category)
	if err != nil {
		return err
	}
	if len(inCategory) == 0 {
		known, err := taskCategories(ctx, tx)
		if err != nil {
			return err
		}
		return &capability.Error{
			Code:    capability.CodeUnknownTaskType,
			Message: fmt.Sprintf("category %q is not in this tenant's task taxonomy (categories: %s); call projects.list_task_types and use a listed category and task_type", category, known),
			Issues:  []capability.Issue{{Path: "/category", Message: "not a category of the taxonomy; use one of: " + known}},
		}
	}
	names := make([]string, len(inCategory))
	for i, tt := range inCategory {
		names[i] = tt.TaskType
	}
	valid := strings.Join(names, ", ")
	return &capability.Error{
		Code:    capability.CodeUnknownTaskType,
		Message: fmt.Sprintf("category %q has no task type %q; its task types are: %s. Call projects.list_task_types and use a listed pair", category, taskType, valid),
		Issues:  []capability.Issue{{Path: "/task_type", Message: "not a task type of category " + category + "; use one of: " + valid}},
	}
}

// taskCategories returns the taxonomy's categories, comma-separated, in
// order ("none" for an empty taxonomy).
func taskCategories(ctx context.Context, tx capability.Tx) (string, error) {
	all, err := tx.FindTaskTypes(ctx, "")
	if err != nil {
		return "", err
	}
	var cats []string
	for _, tt := range all {
		if len(cats) == 0 || cats[len(cats)-1] != tt.Category {
			cats = append(cats, tt.Category)
		}
	}
	if len(cats) == 0 {
		return "none", nil
	}
	return strings.Join(cats, ", "), nil
}

func taskTypeJSON(tt *capability.TaskType) map[string]any {
	return map[string]any{
		"category":    tt.Category,
		"task_type":   tt.TaskType,
		"description": tt.Description,
	}
}
