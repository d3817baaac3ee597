// dockerfile-lint: the checks of `docker build --check` (BuildKit's
// Dockerfile linter, the same code), without a container engine. Base
// images are not pulled: each resolves to an empty linux/amd64 config,
// so checks that need the base image's own config see none.
//
//	dockerfile-lint Dockerfile...   # one line per finding; exit 1 if any
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/opencontainers/go-digest"
)

// offline resolves every base image to an empty config: no registry here.
type offline struct{}

func (offline) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	config := []byte(`{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}}`)
	return ref, digest.FromBytes(config), config, nil
}

func lint(path string) (int, error) {
	dt, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	// The results name their source by an LLB definition: an empty one.
	def, err := llb.Scratch().Marshal(context.Background())
	if err != nil {
		return 0, err
	}
	sm := llb.NewSourceMap(nil, path, "Dockerfile", dt)
	sm.Definition = def
	opt := dockerfile2llb.ConvertOpt{SourceMap: sm, MetaResolver: offline{}}
	res, err := dockerfile2llb.DockerfileLint(context.Background(), dt, opt)
	if err != nil {
		return 0, err
	}
	for _, w := range res.Warnings {
		line := 0
		if len(w.Location.Ranges) > 0 {
			line = int(w.Location.Ranges[0].Start.Line)
		}
		fmt.Printf("%s:%d: %s: %s (%s)\n", path, line, w.RuleName, w.Detail, w.URL)
	}
	found := len(res.Warnings)
	if res.Error != nil {
		fmt.Printf("%s: error: %s\n", path, res.Error.Message)
		found++
	}
	return found, nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: dockerfile-lint Dockerfile...")
		os.Exit(2)
	}
	total := 0
	for _, path := range os.Args[1:] {
		n, err := lint(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			os.Exit(2)
		}
		total += n
	}
	if total > 0 {
		os.Exit(1)
	}
}
