package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// repoRoot is the repository, seen from cmd/dr.
var repoRoot = filepath.Join("..", "..")

// readmeMaxLines is the README's budget: what and why, the two commands,
// install, the quick start and the crisis table; the rest is in docs/.
const readmeMaxLines = 200

// markdownFiles are the docs whose links are checked: README.md,
// CONTRIBUTING.md and every page under docs/.
func markdownFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md", "CONTRIBUTING.md"}
	err := filepath.WalkDir(filepath.Join(repoRoot, "docs"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".md") {
			rel, err := filepath.Rel(repoRoot, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

var (
	// inlineLink is [text](target) and ![alt](target), with an optional
	// "title".
	inlineLink = regexp.MustCompile(`!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	// refLink is a reference definition: [label]: target.
	refLink   = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$`)
	codeSpan  = regexp.MustCompile("`+[^`]*`+")
	heading   = regexp.MustCompile(`^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$`)
	htmlIDs   = regexp.MustCompile(`<a\s+(?:name|id)="([^"]+)"`)
	fenceOpen = regexp.MustCompile("^\\s{0,3}(```+|~~~+)")
)

// mdDoc is what the link check needs of a Markdown file: its links
// (outside code) and its anchors.
type mdDoc struct {
	links   []mdLink
	anchors map[string]bool
}

type mdLink struct {
	line   int
	target string
}

// parseMarkdown reads links and GitHub's heading anchors, skipping code
// blocks and code spans.
func parseMarkdown(data []byte) mdDoc {
	doc := mdDoc{anchors: map[string]bool{}}
	seen := map[string]int{}
	fence := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if m := fenceOpen.FindStringSubmatch(line); m != nil {
			marker := m[1]
			switch {
			case fence == "":
				fence = marker
				continue
			case marker[0] == fence[0] && len(marker) >= len(fence) && strings.TrimSpace(line) == marker:
				fence = ""
				continue
			}
		}
		if fence != "" || strings.HasPrefix(line, "    ") || strings.HasPrefix(line, "\t") {
			continue
		}
		for _, m := range htmlIDs.FindAllStringSubmatch(line, -1) {
			doc.anchors[m[1]] = true
		}
		if m := heading.FindStringSubmatch(line); m != nil {
			slug := githubSlug(m[2])
			if k := seen[slug]; k > 0 {
				doc.anchors[fmt.Sprintf("%s-%d", slug, k)] = true
			} else {
				doc.anchors[slug] = true
			}
			seen[slug]++
		}
		text := codeSpan.ReplaceAllString(line, "")
		for _, m := range inlineLink.FindAllStringSubmatch(text, -1) {
			doc.links = append(doc.links, mdLink{n, m[1]})
		}
		if m := refLink.FindStringSubmatch(text); m != nil {
			doc.links = append(doc.links, mdLink{n, m[1]})
		}
	}
	return doc
}

// githubSlug is the anchor GitHub gives a heading: its text lowercased,
// without markup and punctuation, spaces made hyphens.
func githubSlug(text string) string {
	// Links in a heading count by their text.
	text = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`).ReplaceAllString(text, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

// TestDocLinksResolve: every relative link in README.md, CONTRIBUTING.md
// and docs/ names a file that exists, and a #fragment names a heading of
// the Markdown page it points to.
func TestDocLinksResolve(t *testing.T) {
	docs := map[string]mdDoc{}
	load := func(rel string) (mdDoc, error) {
		if d, ok := docs[rel]; ok {
			return d, nil
		}
		data, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(rel)))
		if err != nil {
			return mdDoc{}, err
		}
		d := parseMarkdown(data)
		docs[rel] = d
		return d, nil
	}
	checked := 0
	for _, file := range markdownFiles(t) {
		doc, err := load(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range doc.links {
			if strings.Contains(l.target, "://") || strings.HasPrefix(l.target, "mailto:") {
				continue
			}
			u, err := url.Parse(l.target)
			if err != nil {
				t.Errorf("%s:%d: link %q: %v", file, l.line, l.target, err)
				continue
			}
			checked++
			target := file
			if u.Path != "" {
				target = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(file), u.Path)))
				if strings.HasPrefix(target, "../") {
					t.Errorf("%s:%d: link %q leaves the repository", file, l.line, l.target)
					continue
				}
				if _, err := os.Stat(filepath.Join(repoRoot, filepath.FromSlash(target))); err != nil {
					t.Errorf("%s:%d: link %q: %s does not exist", file, l.line, l.target, target)
					continue
				}
			}
			if u.Fragment == "" || !strings.HasSuffix(target, ".md") {
				continue
			}
			dest, err := load(target)
			if err != nil {
				t.Errorf("%s:%d: link %q: %v", file, l.line, l.target, err)
				continue
			}
			if !dest.anchors[u.Fragment] {
				t.Errorf("%s:%d: link %q: %s has no heading #%s", file, l.line, l.target, target, u.Fragment)
			}
		}
	}
	if checked < 50 {
		t.Errorf("only %d relative links found: is the parser broken?", checked)
	}
}

// TestREADMEIsShort holds the README to its budget.
func TestREADMEIsShort(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(data, []byte("\n")); n > readmeMaxLines {
		t.Errorf("README.md has %d lines, more than %d: move the detail to a page under docs/ and link it", n, readmeMaxLines)
	}
}

func TestGithubSlug(t *testing.T) {
	for in, want := range map[string]string{
		"What changed: `dr diff`": "what-changed-dr-diff",
		"The restore's safety net: tables moved aside, `dr restore --undo`": "the-restores-safety-net-tables-moved-aside-dr-restore---undo",
		"Running `dr` on a schedule":                                        "running-dr-on-a-schedule",
		"HTTP: `/healthz`, `/metrics`, `/status`, `/`":                      "http-healthz-metrics-status-",
		"Volume of 1GiB: 1024 files of 1 MiB":                               "volume-of-1gib-1024-files-of-1-mib",
		"A [link](x.md) in it":                                              "a-link-in-it",
	} {
		if got := githubSlug(in); got != want {
			t.Errorf("githubSlug(%q) = %q, want %q", in, got, want)
		}
	}
}
