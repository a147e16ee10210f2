package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// logOptions are --log-format and --log-level. Their zero value is text at
// info, the defaults.
type logOptions struct {
	format logFormat
	level  logLevel
}

// addLogFlags defines --log-format and --log-level on f. A bad value fails
// the flag's parsing, so it is a usage error (exit 2) naming the flag and
// the values it takes.
func addLogFlags(f *pflag.FlagSet, o *logOptions) {
	f.Var(&o.format, "log-format", "log format: text (key=value lines), json (one JSON object a line), or auto (text on a terminal, json otherwise)")
	f.Var(&o.level, "log-level", "least severe log level written: debug, info (one line per call), warn or error")
}

// newLogger builds the logger o describes, writing to w (os.Stderr when
// nil).
func (o logOptions) newLogger(w io.Writer) *slog.Logger {
	if w == nil {
		w = os.Stderr
	}
	h := &slog.HandlerOptions{Level: slog.Level(o.level)}
	if o.format.json(w) {
		return slog.New(slog.NewJSONHandler(w, h))
	}
	return slog.New(slog.NewTextHandler(w, h))
}

// logFormat is --log-format's value; the zero value is text.
type logFormat string

func (f *logFormat) String() string {
	if *f == "" {
		return "text"
	}
	return string(*f)
}

func (f *logFormat) Set(s string) error {
	switch s {
	case "text", "json", "auto":
		*f = logFormat(s)
		return nil
	}
	return fmt.Errorf("want text, json or auto")
}

func (f *logFormat) Type() string { return "text|json|auto" }

// json reports whether logs written to w are JSON: asked for, or auto and
// w is not a terminal.
func (f logFormat) json(w io.Writer) bool {
	switch f {
	case "json":
		return true
	case "auto":
		return !isTerminal(w)
	}
	return false
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	file, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := file.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// logLevel is --log-level's value; the zero value is info (slog's zero).
type logLevel slog.Level

var logLevels = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}

func (l *logLevel) String() string { return strings.ToLower(slog.Level(*l).String()) }

func (l *logLevel) Set(s string) error {
	lv, ok := logLevels[s]
	if !ok {
		return fmt.Errorf("want debug, info, warn or error")
	}
	*l = logLevel(lv)
	return nil
}

func (l *logLevel) Type() string { return "debug|info|warn|error" }
