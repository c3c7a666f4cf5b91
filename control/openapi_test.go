package control

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestOpenAPIDocumentsEveryRoute fails when a route is added without
// documenting it in openapi.yaml.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	src, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	routes := regexp.MustCompile(`HandleFunc\("(GET|POST) (/v1/[^"]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(routes) < 10 {
		t.Fatalf("found only %d routes", len(routes))
	}
	for _, r := range routes {
		method, path := strings.ToLower(r[1]), r[2]
		i := strings.Index(string(spec), "\n  "+path+":")
		if i < 0 {
			t.Errorf("%s %s is not in openapi.yaml", r[1], path)
			continue
		}
		rest := string(spec)[i+1:]
		if j := strings.Index(rest[1:], "\n  /"); j >= 0 {
			rest = rest[:j+1]
		}
		if !strings.Contains(rest, method+":") {
			t.Errorf("%s %s: method not documented", r[1], path)
		}
	}
}
