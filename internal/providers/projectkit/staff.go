package projectkit

import (
	"context"
	"errors"
	"fmt"

	"github.com/capd-dev/capd/internal/capability"
)

func listStaff(ctx context.Context, c *capability.Call) (map[string]any, error) {
	return listByQuery(c, "projects.list_staff", func(query string, page capability.Page) ([]*capability.Staff, error) {
		return c.Tx.FindStaff(ctx, capability.StaffFilter{Query: query, Page: page})
	}, func(s *capability.Staff) string { return s.ID }, staffJSON)
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
