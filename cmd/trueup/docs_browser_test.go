package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The API reference at /docs is what a partner's engineer reads first, so it
// is checked the way they see it: served by the dev stack, loaded in headless
// Chromium (the Debian package; .ci/run installs it), read through the DOM as
// rendered, navigated by a click, and photographed. gateway/docs_test.go
// checks the same page as HTML, route by route; this test checks that a
// browser renders it offline, with no error, and that the page works.

// The viewport of the screenshots: a laptop's.
const docsViewportW, docsViewportH = 1280, 800

// The operation the test reads and navigates to, as /openapi.json names it.
const (
	docsOpAnchor = "op-OrdersService_CreateSalesOrder"
	docsOpTitle  = "POST /v1/salesOrders"
)

// chromiumPath finds a Chromium or Chrome binary. Without one the test skips
// on a developer's machine, but fails under CI=true: CI installs Chromium, so
// a missing one there is a broken setup, not a reason to pass unchecked.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatal("no Chromium on PATH under CI=true; .ci/run installs the Debian package chromium")
	}
	t.Skip("no Chromium on PATH (apt-get install chromium); the /docs browser test is skipped")
	return ""
}

// pageEvents records what the browser reports while the page is open: console
// errors and uncaught exceptions, and every network request with its outcome.
type pageEvents struct {
	mu       sync.Mutex
	errors   []string // console errors, exceptions, browser log errors
	requests []string // every URL requested
	failures []string // requests that failed, or answered 4xx/5xx
}

// listen runs in the tab's message loop: it must return fast and send nothing.
func (e *pageEvents) listen(ev any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			e.errors = append(e.errors, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		e.errors = append(e.errors, "exception: "+msg)
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			e.errors = append(e.errors, fmt.Sprintf("%s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		e.requests = append(e.requests, ev.Request.URL)
	case *network.EventLoadingFailed:
		e.failures = append(e.failures, fmt.Sprintf("%s request %s: %s %s", ev.Type, ev.RequestID, ev.ErrorText, ev.BlockedReason))
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 {
			e.failures = append(e.failures, fmt.Sprintf("%s: %d", ev.Response.URL, ev.Response.Status))
		}
	}
}

func (e *pageEvents) snapshot() (errs, reqs, fails []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.errors...), append([]string(nil), e.requests...), append([]string(nil), e.failures...)
}

// docsView is what the page shows, read from the rendered DOM (innerText is
// the text as laid out, so hidden text would not count).
type docsView struct {
	H1           string     `json:"h1"`
	Sections     int        `json:"sections"`
	TOCLinks     int        `json:"tocLinks"`
	TOCText      string     `json:"tocText"`
	Heading      string     `json:"heading"`
	Scope        string     `json:"scope"`
	Idempotency  string     `json:"idempotency"`
	BodyTitle    string     `json:"bodyTitle"`
	Fields       [][]string `json:"fields"`
	Height       float64    `json:"height"`
	BorderStyle  string     `json:"borderStyle"`
	PostColour   string     `json:"postColour"`
	TOCOverlaps  []string   `json:"tocOverlaps"`
	ExternalRefs []string   `json:"externalRefs"`
}

const docsViewJS = `(() => {
  const s = document.getElementById(%q);
  const q = sel => s && s.querySelector(sel);
  const txt = n => n ? n.innerText.trim() : "";
  const body = s ? [...s.querySelectorAll("h4")].find(h => h.innerText.startsWith("Request body")) : null;
  let fields = [];
  if (body) {
    let t = body.nextElementSibling;
    while (t && t.tagName !== "TABLE") t = t.nextElementSibling;
    if (t) fields = [...t.rows].slice(1).map(r => [...r.cells].map(c => c.innerText.trim()));
  }
  const ext = [...document.querySelectorAll("[src],[href],link")]
    .map(n => n.getAttribute("src") || n.getAttribute("href") || "")
    .filter(u => /^[a-z][a-z0-9+.-]*:|^\/\//i.test(u));
  // Contents entries drawn over one another, or past the contents' edge.
  const nav = document.querySelector("nav#toc").getBoundingClientRect();
  const boxes = [...document.querySelectorAll("nav#toc a")]
    .flatMap(a => [...a.getClientRects()].map(r => ({a, r})));
  const overlaps = [];
  for (let i = 0; i < boxes.length && overlaps.length < 5; i++) {
    const {a, r} = boxes[i];
    if (r.right > nav.right + 0.5) overlaps.push(a.innerText + " runs past the contents' right edge");
    for (let j = i + 1; j < boxes.length && overlaps.length < 5; j++) {
      const o = boxes[j];
      if (o.a !== a && r.left < o.r.right - 0.5 && o.r.left < r.right - 0.5 && r.top < o.r.bottom - 0.5 && o.r.top < r.bottom - 0.5)
        overlaps.push(a.innerText.replace(/\s+/g, " ") + " overlaps " + o.a.innerText.replace(/\s+/g, " "));
    }
  }
  return {
    tocOverlaps: overlaps,
    h1: txt(document.querySelector("h1")),
    sections: document.querySelectorAll("section.op").length,
    tocLinks: document.querySelectorAll('nav#toc a[href^="#op-"]').length,
    tocText: txt(document.querySelector("nav#toc")),
    heading: txt(q("h3")),
    scope: txt(q("code.scope")),
    idempotency: txt(q("td.idempotency")),
    bodyTitle: txt(body),
    fields: fields,
    height: s ? s.getBoundingClientRect().height : 0,
    borderStyle: s ? getComputedStyle(s).borderTopStyle : "",
    postColour: q("h3 .m") ? getComputedStyle(q("h3 .m")).color : "",
    externalRefs: ext,
  };
})()`

// docsScroll is where the operation's section is after the click.
type docsScroll struct {
	Hash         string  `json:"hash"`
	ScrollY      float64 `json:"scrollY"`
	Top          float64 `json:"top"`
	IsTarget     bool    `json:"isTarget"`
	HeadingShown bool    `json:"headingShown"`
}

const docsScrollJS = `(() => {
  const s = document.getElementById(%q);
  const h = s.querySelector("h3").getBoundingClientRect();
  return {
    hash: location.hash,
    scrollY: window.scrollY,
    top: s.getBoundingClientRect().top,
    isTarget: document.querySelector(":target") === s,
    headingShown: h.top >= 0 && h.bottom <= window.innerHeight && h.width > 0,
  };
})()`

// TestDocsPageRendersOfflineInChromium loads /docs from the dev stack in
// headless Chromium and checks what a partner's engineer sees: no console
// error and no request beyond the gateway, the title, every operation in the
// contents and as a section (creating a sales order: method, path, scope,
// Idempotency-Key, a described request field), a contents link that scrolls to
// its section, and screenshots at a fixed viewport that are not blank.
func TestDocsPageRendersOfflineInChromium(t *testing.T) {
	chromium := chromiumPath(t)
	st, _, _ := startTestStack(t)
	base := "http://" + st.HTTPAddr
	ops := servedOperationCount(t, base+"/openapi.json")

	var browserOut lockedBuffer
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox, // root in CI, where Chromium's sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Nothing to fetch in the background: the network is closed, and a
		// browser that tries is slow to start and stop.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.WindowSize(docsViewportW, docsViewportH),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(&browserOut),
	)
	t.Cleanup(cancelAlloc)
	events := &pageEvents{}
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(events.listen))
	t.Cleanup(cancelTab)
	// One deadline for the whole browser session, so that a hung browser fails
	// the test in good time rather than at go test's timeout.
	ctx, cancel := context.WithTimeout(tabCtx, 60*time.Second)
	t.Cleanup(cancel)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("browser output (last 4 KiB):\n%s", browserOut.tail(4096))
		}
	})

	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(docsViewportW, docsViewportH)); err != nil {
		t.Fatalf("start Chromium (%s): %v", chromium, err)
	}
	t.Logf("Chromium started in %v", time.Since(start).Round(time.Millisecond))
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(base+"/docs"))
	if err != nil {
		t.Fatalf("load /docs: %v", err)
	}
	if resp.Status != http.StatusOK || !strings.HasPrefix(resp.MimeType, "text/html") {
		t.Fatalf("/docs: %d %s", resp.Status, resp.MimeType)
	}

	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	if title != "Trueup API — API reference" {
		t.Errorf("title %q, want %q", title, "Trueup API — API reference")
	}

	view, err := chromedp.Run(ctx, chromedp.Evaluate[docsView](fmt.Sprintf(docsViewJS, docsOpAnchor)))
	if err != nil {
		t.Fatalf("read the page: %v", err)
	}
	checkDocsView(t, view, ops)

	top, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	checkScreenshot(t, "docs-top.png", top)

	// In-page navigation: the contents link of the operation brings its
	// section to the top of the window.
	link := chromedp.CSS(`nav#toc a[href="#` + docsOpAnchor + `"]`)
	if err := chromedp.Do(ctx, chromedp.Click(link)); err != nil {
		t.Fatalf("click the contents link of %s: %v", docsOpTitle, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`location.hash === "#`+docsOpAnchor+`"`,
		chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		t.Fatalf("after the click, location.hash is not #%s: %v", docsOpAnchor, err)
	}
	scroll, err := chromedp.Run(ctx, chromedp.Evaluate[docsScroll](fmt.Sprintf(docsScrollJS, docsOpAnchor)))
	if err != nil {
		t.Fatalf("after the click: %v", err)
	}
	if scroll.Hash != "#"+docsOpAnchor || !scroll.IsTarget {
		t.Errorf("after the click: location.hash %q, :target is the section %v", scroll.Hash, scroll.IsTarget)
	}
	if scroll.ScrollY <= 0 || scroll.Top < -1 || scroll.Top > 2 || !scroll.HeadingShown {
		t.Errorf("after the click the section is not scrolled to the top of the window: scrollY %.0f, section top %.1f, heading in view %v",
			scroll.ScrollY, scroll.Top, scroll.HeadingShown)
	}
	section, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	checkScreenshot(t, "docs-sales-order.png", section)

	// Offline: the page, and nothing else, came from the gateway; nothing
	// failed and nothing was logged as an error.
	errs, reqs, fails := events.snapshot()
	for _, e := range errs {
		t.Errorf("browser console: %s", e)
	}
	for _, f := range fails {
		t.Errorf("failed request: %s", f)
	}
	for _, r := range reqs {
		if u, err := url.Parse(r); err != nil || u.Host != st.HTTPAddr {
			t.Errorf("request to %s: the page must need nothing beyond the gateway", r)
		}
	}
	if len(reqs) == 0 {
		t.Error("no network request seen: the listener saw nothing")
	}
	t.Logf("requests: %v; browser session %v", reqs, time.Since(start).Round(time.Millisecond))
}

// checkDocsView checks the page as laid out against the document it renders.
func checkDocsView(t *testing.T, v docsView, ops int) {
	t.Helper()
	if !strings.HasPrefix(v.H1, "Trueup API") {
		t.Errorf("h1 %q", v.H1)
	}
	if v.Sections != ops || v.TOCLinks != ops {
		t.Errorf("%d operation sections and %d contents links, %d operations in /openapi.json", v.Sections, v.TOCLinks, ops)
	}
	for _, tag := range []string{"OrdersService", "InventoryService", "FulfillmentService", "Idempotency", "Errors"} {
		if !strings.Contains(v.TOCText, tag) {
			t.Errorf("contents lack %q", tag)
		}
	}
	if v.Heading != docsOpTitle {
		t.Errorf("section %s: heading %q, want %q", docsOpAnchor, v.Heading, docsOpTitle)
	}
	if v.Scope != "orders:write" {
		t.Errorf("%s: scope %q, want orders:write", docsOpTitle, v.Scope)
	}
	if v.Idempotency != "accepted" {
		t.Errorf("%s: Idempotency-Key %q, want accepted", docsOpTitle, v.Idempotency)
	}
	if !strings.HasPrefix(v.BodyTitle, "Request body") {
		t.Errorf("%s: no request body shown (%q)", docsOpTitle, v.BodyTitle)
	}
	described := map[string]string{}
	for _, row := range v.Fields {
		if len(row) == 3 {
			described[row[0]] = row[2]
		}
	}
	if d := described["customer"]; !strings.Contains(d, "customers/") {
		t.Errorf("%s: request field customer not described; fields %v", docsOpTitle, v.Fields)
	}
	if _, ok := described["lines"]; !ok {
		t.Errorf("%s: request field lines not shown; fields %v", docsOpTitle, v.Fields)
	}
	// The page's own style sheet applies (the policy admits inline styles).
	if v.BorderStyle != "solid" || v.PostColour != "rgb(26, 127, 55)" {
		t.Errorf("the page's styles are not applied: section border %q, POST colour %q", v.BorderStyle, v.PostColour)
	}
	for _, o := range v.TOCOverlaps {
		t.Errorf("contents: %s", o)
	}
	if v.Height < 100 {
		t.Errorf("section %s is %.0f px high", docsOpAnchor, v.Height)
	}
	for _, ref := range v.ExternalRefs {
		t.Errorf("the page refers to %s: it must render offline", ref)
	}
}

// checkScreenshot decodes a viewport screenshot and checks that it is one of
// the fixed size showing a page, not a blank or one-colour image. The picture
// is kept under $TRUEUP_SCREENSHOT_DIR when it is set (to look at it), else in
// the test's temp dir.
func checkScreenshot(t *testing.T, name string, b []byte) {
	t.Helper()
	dir := os.Getenv("TRUEUP_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Errorf("keep screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Errorf("%s: not a PNG: %v", name, err)
		return
	}
	if sz := img.Bounds().Size(); sz.X != docsViewportW || sz.Y != docsViewportH {
		t.Errorf("%s: %dx%d, want %dx%d", name, sz.X, sz.Y, docsViewportW, docsViewportH)
	}
	colours, inked := screenshotInk(img)
	t.Logf("%s: %d colours, %.1f%% of pixels not background (%s)", name, colours, inked*100, path)
	if colours < 32 || inked < 0.01 {
		t.Errorf("%s looks blank: %d colours, %.2f%% of pixels not background", name, colours, inked*100)
	}
}

// screenshotInk counts an image's distinct colours and the share of its
// pixels that differ from the most common one (the background).
func screenshotInk(img image.Image) (colours int, inked float64) {
	count := map[color.RGBA]int{}
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			count[c]++
		}
	}
	most := 0
	for _, n := range count {
		most = max(most, n)
	}
	total := r.Dx() * r.Dy()
	if total == 0 {
		return 0, 0
	}
	return len(count), float64(total-most) / float64(total)
}

// servedOperationCount counts the operations of the OpenAPI document the
// gateway serves.
func servedOperationCount(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("%s: %v", u, err)
	}
	n := 0
	for _, ops := range doc.Paths {
		for m := range ops {
			switch m {
			case "get", "put", "post", "delete", "patch":
				n++
			}
		}
	}
	if n < 50 {
		t.Fatalf("%s: only %d operations", u, n)
	}
	return n
}

// lockedBuffer collects the browser's output, written from chromedp's goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// tail is the last n bytes of the output, without the lines about D-Bus
// (there is none in a container, and Chromium says so at every start).
func (b *lockedBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var kept []string
	for _, line := range strings.Split(b.buf.String(), "\n") {
		if !strings.Contains(line, "dbus") {
			kept = append(kept, line)
		}
	}
	s := strings.Join(kept, "\n")
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}
