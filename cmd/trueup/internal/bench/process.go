package bench

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Machine is what the run ran on.
type Machine struct {
	Hostname  string `json:"hostname"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpuModel,omitempty"`
	MemoryMiB int64  `json:"memoryMiB,omitempty"`
	Go        string `json:"go"`
}

func machine() Machine {
	m := Machine{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), Go: runtime.Version()}
	m.Hostname, _ = os.Hostname()
	if v, ok := procField("/proc/cpuinfo", "model name"); ok {
		m.CPUModel = v
	}
	if v, ok := procField("/proc/meminfo", "MemTotal"); ok {
		m.MemoryMiB = kib(v) / 1024
	}
	return m
}

// MemoryMiB reads a process's resident set size now and its peak (VmRSS,
// VmHWM in /proc/{pid}/status), in MiB; zeros where /proc is missing.
func MemoryMiB(pid int) (rss, peak float64) {
	p := "/proc/" + strconv.Itoa(pid) + "/status"
	if v, ok := procField(p, "VmRSS"); ok {
		rss = round1(float64(kib(v)) / 1024)
	}
	if v, ok := procField(p, "VmHWM"); ok {
		peak = round1(float64(kib(v)) / 1024)
	}
	return rss, peak
}

// procField is the value of the first "name: value" line of a /proc file.
func procField(path, name string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// kib parses "1234 kB".
func kib(v string) int64 {
	n, _ := strconv.ParseInt(strings.Fields(v + " 0")[0], 10, 64)
	return n
}

// CPU is a process's user plus system time so far, from /proc/{pid}/stat
// (clock ticks of 1/100 s, Linux's USER_HZ); zero where /proc is missing.
func CPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 || i+2 > len(s) {
		return 0
	}
	f := strings.Fields(s[i+2:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
