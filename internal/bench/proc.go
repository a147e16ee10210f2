package bench

import (
	"fmt"
	"os"
	"path/filepath"
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

// procStat is what the load tool reads from /proc/<pid>/stat, in clock
// ticks.
type procStat struct {
	ppid           int
	utime, stime   int64 // the process's own CPU
	cutime, cstime int64 // CPU of its children it has waited for
}

// readStat reads /proc/<pid>/stat.
func readStat(pid int) (procStat, bool) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, false
	}
	// The command name (field 2) may hold spaces; fields after it are
	// counted from its closing parenthesis: ppid is field 4, utime 14,
	// stime 15, cutime 16, cstime 17.
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 || i+2 > len(stat) {
		return procStat{}, false
	}
	f := strings.Fields(string(stat[i+2:]))
	if len(f) < 15 {
		return procStat{}, false
	}
	var st procStat
	st.ppid, _ = strconv.Atoi(f[1])
	st.utime, _ = strconv.ParseInt(f[11], 10, 64)
	st.stime, _ = strconv.ParseInt(f[12], 10, 64)
	st.cutime, _ = strconv.ParseInt(f[13], 10, 64)
	st.cstime, _ = strconv.ParseInt(f[14], 10, 64)
	return st, true
}

func ticks(n int64) time.Duration { return time.Duration(n) * time.Second / clockTicks }

// sampleProc reads pid's CPU time and memory from /proc; ok is false when
// they cannot be read (not Linux, or the process is gone).
func sampleProc(pid int) (procSample, bool) {
	s := procSample{at: time.Now()}
	if pid <= 0 {
		return s, false
	}
	st, ok := readStat(pid)
	if !ok {
		return s, false
	}
	s.cpu = ticks(st.utime + st.stime)
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

// sampleNodes samples every pid, one after the other; ok[i] says whether
// pids[i] could be read.
func sampleNodes(pids []int) (out []procSample, ok []bool) {
	out, ok = make([]procSample, len(pids)), make([]bool, len(pids))
	for i, pid := range pids {
		out[i], ok[i] = sampleProc(pid)
	}
	return out, ok
}

// sumUsage adds the nodes' usages: CPU and RSS are what the processes use
// together; the peak is the sum of each process's own peak, an upper
// bound of the peak they reached together. It is nil if any node is
// missing, since a sum without a node would understate the servers.
func sumUsage(us []*serverUsage) *serverUsage {
	if len(us) == 0 {
		return nil
	}
	var t serverUsage
	for _, u := range us {
		if u == nil {
			return nil
		}
		t.CPUCores += u.CPUCores
		t.RSSMiB += u.RSSMiB
		t.PeakRSSMiB += u.PeakRSSMiB
	}
	t.CPUCores, t.RSSMiB, t.PeakRSSMiB = round2(t.CPUCores), round2(t.RSSMiB), round2(t.PeakRSSMiB)
	return &t
}

// treeSample is the CPU time of a process tree at one moment.
type treeSample struct {
	at        time.Time
	cpu       time.Duration
	processes int
}

// sampleTree reads the CPU time of pid and every process descended from
// it: for PostgreSQL's postmaster that is the server, its background
// workers and one backend per connection. Each live process counts its own
// CPU plus that of the children it has reaped, so a backend that exits
// between two samples still counts (the postmaster reaps it). ok is false
// when pid cannot be read.
func sampleTree(pid int) (treeSample, bool) {
	s := treeSample{at: time.Now()}
	if pid <= 0 {
		return s, false
	}
	root, ok := readStat(pid)
	if !ok {
		return s, false
	}
	children := map[int][]int{}
	stats := map[int]procStat{pid: root}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		p, err := strconv.Atoi(filepath.Base(d))
		if err != nil || p == pid {
			continue
		}
		if st, ok := readStat(p); ok {
			stats[p] = st
			children[st.ppid] = append(children[st.ppid], p)
		}
	}
	var total int64
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		st := stats[p]
		total += st.utime + st.stime + st.cutime + st.cstime
		s.processes++
		queue = append(queue, children[p]...)
	}
	s.cpu = ticks(total)
	return s, true
}

// cpuUsage is what a process tree used between two samples.
type cpuUsage struct {
	CPUCores float64 `json:"cpu_cores"` // CPU seconds per wall second, all processes together
	// Processes is how many processes the tree had at the end, backends
	// included.
	Processes int `json:"processes"`
}

func treeUsageBetween(a, b treeSample) *cpuUsage {
	wall := b.at.Sub(a.at)
	if wall <= 0 {
		return nil
	}
	return &cpuUsage{CPUCores: round2(float64(b.cpu-a.cpu) / float64(wall)), Processes: b.processes}
}

func round2(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }
