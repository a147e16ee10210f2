package registry

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// Problem is one reason the capability set cannot be served, located as
// precisely as possible: the file and the JSON pointer of the field.
type Problem struct {
	File    string // e.g. capabilities/projects.create_task/0.1.0.yaml
	Field   string // JSON pointer inside the manifest, "" for the whole file
	Message string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Field != "" {
		b.WriteString(": ")
		b.WriteString(p.Field)
	}
	b.WriteString(": ")
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every problem found; start-up reports all of them at once.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return fmt.Sprintf("%d capability problem(s):\n  %s", len(ps), strings.Join(lines, "\n  "))
}

func errorsIsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
