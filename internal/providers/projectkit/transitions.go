package projectkit

import "github.com/capd-dev/capd/internal/capability"

// transitions is the task workflow, each list in status order. Cancelled is reached only by a cancel
// capability and never left, so it appears nowhere here.
var transitions = map[string][]string{
	capability.TaskTodo:    {capability.TaskDoing},
	capability.TaskDoing:   {capability.TaskTodo, capability.TaskWaiting, capability.TaskReview},
	capability.TaskWaiting: {capability.TaskDoing},
	capability.TaskReview:  {capability.TaskDoing, capability.TaskDone},
	capability.TaskDone:    {capability.TaskTodo},
}

// allowedFrom returns the statuses a task in status may move to, never nil.
func allowedFrom(status string) []string {
	if next, ok := transitions[status]; ok {
		return next
	}
	return []string{}
}

func canTransition(from, to string) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}
