package browser_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-iam/gatehouse/internal/provision"
	"github.com/gatehouse-iam/gatehouse/internal/server"
	"github.com/gatehouse-iam/gatehouse/internal/store/storetest"
)

// The console's Authentication section in a real browser: the browser
// flow's steps form a tree, each sub-flow's steps indented one level
// further than the sub-flow (the stylesheet's rule, so measured as laid
// out). Saved as test-output/screenshots/console-authentication-flow.png.
func TestConsoleFlowTree(t *testing.T) {
	ctx := newChromium(t)
	db := storetest.Open(t)
	if _, err := provision.Master(context.Background(), db, "admin", "admin-pw", time.Now()); err != nil {
		t.Fatal(err)
	}
	gh := httptest.NewServer(server.New(server.Options{Store: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	t.Cleanup(gh.Close)
	c := &consoleBrowser{t: t, ctx: ctx, base: gh.URL, db: db}

	c.open("/admin/master/console/master/authentication")
	signIn(t, ctx, "admin", "admin-pw")
	c.waitFor("flows")
	c.clickLink("browser")
	c.waitFor("executions")
	c.shot("console-authentication-flow")

	// The left edge of each step's name, by depth.
	type step struct {
		Level int     `json:"level"`
		Name  string  `json:"name"`
		Left  float64 `json:"left"`
	}
	steps, err := chromedp.Run(ctx, chromedp.Evaluate[[]step](`[...document.querySelectorAll('#executions tbody tr')].map(tr => {
		const s = tr.querySelector('.step');
		return {level: +tr.dataset.level, name: s.textContent.trim(), left: s.getBoundingClientRect().left + parseFloat(getComputedStyle(s).paddingLeft)};
	})`))
	if err != nil {
		t.Fatal(err)
	}
	left := map[int]float64{}
	for _, s := range steps {
		if l, seen := left[s.Level]; seen && l != s.Left {
			t.Errorf("%s at level %d starts at %.0f, its level at %.0f", s.Name, s.Level, s.Left, l)
		}
		left[s.Level] = s.Left
	}
	if len(left) != 3 || !(left[0] < left[1] && left[1] < left[2]) {
		t.Errorf("indentation by level: %v (steps %+v)", left, steps)
	}
	for _, want := range []struct {
		name  string
		level int
	}{{"forms", 0}, {"Username Password Form", 1}, {"Browser - Conditional 2FA", 1}, {"OTP Form", 2}} {
		found := false
		for _, s := range steps {
			found = found || (s.Name == want.name && s.Level == want.level)
		}
		if !found {
			t.Errorf("no %q at level %d in %+v", want.name, want.level, steps)
		}
	}
}
