// pprof_check: reads pprof files with the pprof project's own Go package
// (github.com/google/pprof/profile), validates them with CheckValid and
// checks what the one_collect fixture must contain.
//
// usage: pprof_check -type cpu -unit nanoseconds -samples 9 -value 9000000 \
//            -functions main,do_syscall_64 -comment "lost.total: 4" file.pb.gz
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/google/pprof/profile"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "pprof_check: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	typ := flag.String("type", "", "expected second sample type")
	unit := flag.String("unit", "", "expected unit of the second sample type")
	samples := flag.Int64("samples", -1, "expected sum of samples/count")
	value := flag.Int64("value", -1, "expected sum of the second value")
	functions := flag.String("functions", "", "comma-separated function names that must appear")
	comment := flag.String("comment", "", "a comment that must appear")
	labels := flag.Bool("labels", true, "every sample must carry pid, tid and comm labels")
	flag.Parse()
	if flag.NArg() != 1 {
		fail("need one profile file")
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fail("%v", err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		fail("parse: %v", err)
	}
	if err := p.CheckValid(); err != nil {
		fail("CheckValid: %v", err)
	}
	if len(p.SampleType) != 2 || p.SampleType[0].Type != "samples" || p.SampleType[0].Unit != "count" {
		fail("sample types %v", p.SampleType)
	}
	if *typ != "" && (p.SampleType[1].Type != *typ || p.SampleType[1].Unit != *unit) {
		fail("second sample type %s/%s, want %s/%s", p.SampleType[1].Type, p.SampleType[1].Unit, *typ, *unit)
	}
	var n, v int64
	for _, s := range p.Sample {
		n += s.Value[0]
		v += s.Value[1]
		if *labels {
			if len(s.NumLabel["pid"]) != 1 || len(s.NumLabel["tid"]) != 1 || len(s.Label["comm"]) != 1 {
				fail("sample without pid/tid/comm labels: %v %v", s.Label, s.NumLabel)
			}
		}
	}
	if *samples >= 0 && n != *samples {
		fail("samples %d, want %d", n, *samples)
	}
	if *value >= 0 && v != *value {
		fail("value %d, want %d", v, *value)
	}
	names := map[string]bool{}
	for _, fn := range p.Function {
		names[fn.Name] = true
	}
	for _, want := range strings.Split(*functions, ",") {
		if want != "" && !names[want] {
			fail("function %q missing (have %v)", want, names)
		}
	}
	if *comment != "" {
		found := false
		for _, c := range p.Comments {
			found = found || c == *comment
		}
		if !found {
			fail("comment %q missing (have %v)", *comment, p.Comments)
		}
	}
	if p.DurationNanos <= 0 || p.TimeNanos <= 0 {
		fail("time %d / duration %d not set", p.TimeNanos, p.DurationNanos)
	}
	fmt.Printf("ok: %d samples, %d locations, %d functions, %d mappings\n",
		len(p.Sample), len(p.Location), len(p.Function), len(p.Mapping))
}
