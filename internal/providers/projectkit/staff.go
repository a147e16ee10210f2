package projectkit

import (
	"context"
	"errors"
	"fmt"

	"github.com/capd-dev/capd/internal/capability"
)

func listStaff(ctx context.Context, c *capability.Call) (map[string]any, error) {
	var in struct {
		Query  string `json:"query"`
		Limit  int    `json:"limit"`
		Cursor string `json:"cursor"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	filters := []string{in.Query}
	after, err := parseCursor(in.Cursor, filters)
	if err != nil {
		return nil, err
	}
	limit := limitOr(in.Limit)
	rows, err := c.Tx.FindStaff(ctx, capability.StaffFilter{Query: in.Query, Page: capability.Page{AfterID: after, Limit: limit}})
	if err != nil {
		return nil, err
	}
	rows, next := page(rows, limit, func(s *capability.Staff) string { return s.ID }, filters)
	return map[string]any{"items": mapEach(rows, staffJSON), "next_cursor": next}, nil
}

// checkAssignee answers invalid_input at /assignee_id unless id is a staff
// member of the tenant.
func checkAssignee(ctx context.Context, tx capability.Tx, id string) error {
	_, err := tx.FindStaffByID(ctx, id)
	if errors.Is(err, capability.ErrNotFound) {
		return capability.InvalidInput(
			fmt.Sprintf("assignee_id %q is not a staff member of this tenant; call projects.list_staff to find valid staff ids", id),
			capability.Issue{Path: "/assignee_id", Message: "is not a staff member of this tenant; call projects.list_staff"})
	}
	return err
}
