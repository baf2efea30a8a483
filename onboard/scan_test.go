package onboard

import (
	"strings"
	"testing"

	"github.com/appwrite-dr/dr/engine"
	"github.com/appwrite-dr/dr/scan/scantest"
)

func TestDoctorChecksClamd(t *testing.T) {
	c := goodCase(t)
	if got := status(c.run(), "malware scan"); got.Status != "absent" {
		t.Errorf("without scan.clamd: %+v, want no line", got)
	}

	fake := scantest.NewFake(t, scantest.FakeOptions{})
	c.cfg.Scan.Clamd = "unix:" + fake.Socket
	if got := status(c.run(), "malware scan"); got.Status != StatusOK || !strings.Contains(got.Detail, "appwrite-uploads") {
		t.Errorf("clamd answering: %+v", got)
	}

	fake.Stop()
	r := c.run()
	if got := status(r, "malware scan"); got.Status != StatusFail || !strings.Contains(got.Detail, "cannot be reached") || !strings.Contains(got.Fix, "clamav-daemon") {
		t.Errorf("clamd down: %+v", got)
	}
	if r.Failed() != 1 {
		t.Errorf("clamd down: %d checks failed, want 1: %+v", r.Failed(), r.Checks)
	}

	// container:SERVICE without such a service in the stack.
	c.cfg.Scan.Clamd = "container:clamav"
	c.docker.stack = &engine.Stack{Project: "appwrite", Containers: c.docker.stack.Containers}
	if got := status(c.run(), "malware scan"); got.Status != StatusFail || !strings.Contains(got.Detail, "service clamav") {
		t.Errorf("no clamav service: %+v", got)
	}
}
