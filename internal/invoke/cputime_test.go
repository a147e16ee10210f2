package invoke_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) this process has used: on a
// machine shared with other work it moves with the work done, where wall
// time also counts the time spent waiting for a core.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
