package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is the kernel's USER_HZ, the unit of /proc/<pid>/stat CPU
// times: 100 on every Linux architecture Go supports.
const clockTicks = 100

// procSample is a process's CPU time and memory at one moment.
type procSample struct {
	at      time.Time
	cpu     time.Duration // user + system
	rssKiB  int
	peakKiB int
}

// sampleProc reads pid's CPU time and memory from /proc; ok is false when
// they cannot be read (not Linux, or the process is gone).
func sampleProc(pid int) (procSample, bool) {
	s := procSample{at: time.Now()}
	if pid <= 0 {
		return s, false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, false
	}
	// The command name (field 2) may hold spaces; fields after it are
	// counted from its closing parenthesis: utime is field 14, stime 15.
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return s, false
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	s.cpu = time.Duration(utime+stime) * time.Second / clockTicks
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, false
	}
	for _, line := range strings.Split(string(status), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(value), " kB"))
		switch name {
		case "VmRSS":
			s.rssKiB = n
		case "VmHWM":
			s.peakKiB = n
		}
	}
	return s, true
}

// serverUsage is what a server process used between two samples.
type serverUsage struct {
	CPUCores   float64 `json:"cpu_cores"` // CPU seconds per wall second
	RSSMiB     float64 `json:"rss_mib"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
}

func usageBetween(a, b procSample) *serverUsage {
	wall := b.at.Sub(a.at)
	if wall <= 0 {
		return nil
	}
	return &serverUsage{
		CPUCores:   round2(float64(b.cpu-a.cpu) / float64(wall)),
		RSSMiB:     round2(float64(b.rssKiB) / 1024),
		PeakRSSMiB: round2(float64(b.peakKiB) / 1024),
	}
}

func round2(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }
