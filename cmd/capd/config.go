package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// Settings are the flags that may also come from the environment
// (CAPD_<FLAG>) or from a YAML config file (--config FILE, or CAPD_CONFIG):
// the global flags on every command, and every flag of capd serve and capd
// stdio except those in settableCommands' exclusions. A value given on the
// command line wins, then the environment, then the file, then the flag's
// default. The flags are found at run time, so a flag added to serve or
// stdio is a setting without further code.

const (
	// configFlag names the config file; it is read from the command line
	// or CAPD_CONFIG, never from a config file.
	configFlag = "config"
	envPrefix  = "CAPD_"
	// sourceAnnotation, on a flag, names where a value that did not come
	// from the command line came from: "CAPD_ADDR" or "capd.yaml:3".
	sourceAnnotation = "capd/source"
	// noSettingsAnnotation, on a command, skips the environment and the
	// config file entirely (capd version must run whatever they hold).
	noSettingsAnnotation = "capd/no-settings"
)

// settableCommands are the commands whose own flags are settings, besides
// the global flags; each maps the flags that only its command line may
// give to the reason, which error messages quote. They are the long-running
// servers, which service managers and MCP client configurations start with
// an environment; the management commands act once, on arguments given
// each time (--tenant, --email), so their flags are not settings.
var settableCommands = map[string]map[string]string{
	"serve": {
		"demo": "it writes demo tenants and their keys into the store, an action rather than a setting",
	},
	"stdio": {
		"tenant": "it grants full access to a tenant, so a CAPD_TENANT left in an environment must not change whom capd stdio acts for",
	},
}

// envName is the environment variable of a flag: --max-open-tenants is
// CAPD_MAX_OPEN_TENANTS.
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// globalSettings are the root's persistent flags but --config and --help.
func globalSettings(root *cobra.Command) []*pflag.Flag {
	var out []*pflag.Flag
	root.PersistentFlags().VisitAll(func(f *pflag.Flag) {
		if f.Name != configFlag && f.Name != "help" {
			out = append(out, f)
		}
	})
	return out
}

// commandSettings are cmd's own flags that are settings: none unless cmd
// is one of settableCommands.
func commandSettings(cmd *cobra.Command) []*pflag.Flag {
	excluded, ok := settableCommands[cmd.Name()]
	if !ok || cmd.Parent() == nil || cmd.Parent() != cmd.Root() {
		return nil
	}
	var out []*pflag.Flag
	cmd.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
		if _, no := excluded[f.Name]; !no && f.Name != "help" {
			out = append(out, f)
		}
	})
	return out
}

// settingsOf lists the flags that the environment and the config file may
// set when cmd runs.
func settingsOf(cmd *cobra.Command) []*pflag.Flag {
	return append(globalSettings(cmd.Root()), commandSettings(cmd)...)
}

// settingCommand is one command's settings, for help text, config file
// keys and the README's list.
type settingCommand struct {
	cmd   *cobra.Command // nil for the global flags
	flags []*pflag.Flag
}

// allSettings lists every setting of the tree: the global flags first,
// then each settable command's, in name order.
func allSettings(root *cobra.Command) []settingCommand {
	out := []settingCommand{{flags: globalSettings(root)}}
	for _, c := range root.Commands() {
		if fs := commandSettings(c); len(fs) > 0 {
			out = append(out, settingCommand{cmd: c, flags: fs})
		}
	}
	return out
}

// installSettings makes every command read its settings before it runs,
// notes each setting's variable in its help, and adds to a command's error
// where a flag it names got its value, when not from the command line.
// It runs once the whole tree is built, so it sees every flag.
func installSettings(root *cobra.Command) {
	noted := map[*pflag.Flag]bool{}
	for _, sc := range allSettings(root) {
		for _, f := range sc.flags {
			if !noted[f] {
				f.Usage += " (env " + envName(f.Name) + ")"
				noted[f] = true
			}
		}
	}
	if f := root.PersistentFlags().Lookup(configFlag); f != nil {
		f.Usage += " (env " + envName(configFlag) + ")"
	}
	for _, c := range root.Commands() {
		for name := range settableCommands[c.Name()] {
			if f := c.LocalNonPersistentFlags().Lookup(name); f != nil {
				f.Usage += " (command line only)"
			}
		}
	}
	var wrap func(c *cobra.Command)
	wrap = func(c *cobra.Command) {
		if run := c.RunE; run != nil && c.Annotations[noSettingsAnnotation] == "" {
			c.RunE = func(cmd *cobra.Command, args []string) error {
				if err := applySettings(cmd, os.Getenv); err != nil {
					return err
				}
				return attributeSources(cmd, run(cmd, args))
			}
		}
		for _, sub := range c.Commands() {
			wrap(sub)
		}
	}
	wrap(root)
}

// applySettings gives each of cmd's settings not set on the command line
// its value from the environment, else from the config file. A value that
// does not parse is a usage error naming the variable or file and line.
func applySettings(cmd *cobra.Command, getenv func(string) string) error {
	file, err := loadConfigFile(cmd, getenv)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	for _, f := range settingsOf(cmd) {
		if f.Changed {
			continue // the command line, or an earlier application
		}
		env := envName(f.Name)
		if v := getenv(env); v != "" {
			items := []string{v}
			if _, ok := f.Value.(pflag.SliceValue); ok {
				if items, err = splitList(v); err != nil {
					return usageError("%s=%q: %v", env, v, err)
				}
			}
			if err := assign(f, items); err != nil {
				return usageError("%s=%q: %v", env, v, err)
			}
			f.Annotations = withSource(f.Annotations, env)
			continue
		}
		if n, ok := file.values[f.Name]; ok {
			where := file.where(f.Name)
			items, err := fileItems(f, n)
			if err == nil {
				err = assign(f, items)
			}
			if err != nil {
				return usageError("%s: %s: %v", where, f.Name, err)
			}
			f.Annotations = withSource(f.Annotations, where)
		}
	}
	return nil
}

func withSource(a map[string][]string, source string) map[string][]string {
	if a == nil {
		a = map[string][]string{}
	}
	a[sourceAnnotation] = []string{source}
	return a
}

// splitList reads a list setting from the environment: comma-separated,
// with CSV quoting ("a,b",c) for an item that holds a comma. Spaces around
// items and empty items are dropped.
func splitList(v string) ([]string, error) {
	r := csv.NewReader(strings.NewReader(v))
	r.TrimLeadingSpace = true
	rec, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("not a comma-separated list: %v", err)
	}
	var items []string
	for _, s := range rec {
		if s = strings.TrimSpace(s); s != "" {
			items = append(items, s)
		}
	}
	return items, nil
}

// fileItems reads one setting's value from the config file: a scalar, or
// for a list flag a YAML list or a comma-separated string.
func fileItems(f *pflag.Flag, n *yaml.Node) ([]string, error) {
	_, isList := f.Value.(pflag.SliceValue)
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, errors.New("has no value; give one or remove the key")
		}
		if isList {
			return splitList(n.Value)
		}
		return []string{n.Value}, nil
	case yaml.SequenceNode:
		if !isList {
			return nil, fmt.Errorf("--%s takes one value, not a list", f.Name)
		}
		items := make([]string, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode || c.Tag == "!!null" {
				return nil, fmt.Errorf("line %d: each item of the list must be a plain value", c.Line)
			}
			items = append(items, c.Value)
		}
		return items, nil
	case yaml.AliasNode:
		return nil, errors.New("YAML aliases are not supported in a config file; write the value out")
	}
	return nil, fmt.Errorf("--%s takes a plain value, not a mapping", f.Name)
}

// assign sets f from the environment or the file, as if given on the
// command line: a list replaces the default, it does not extend it.
func assign(f *pflag.Flag, items []string) error {
	var err error
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		err = sv.Replace(items)
	} else if len(items) != 1 {
		return fmt.Errorf("--%s takes one value", f.Name)
	} else {
		err = f.Value.Set(items[0])
	}
	if err != nil {
		if want := valueKind(f); want != "" {
			return fmt.Errorf("--%s takes %s", f.Name, want)
		}
		return fmt.Errorf("--%s: %v", f.Name, err)
	}
	f.Changed = true
	return nil
}

// valueKind says in words what a flag's type accepts.
func valueKind(f *pflag.Flag) string {
	switch f.Value.Type() {
	case "bool":
		return "true or false"
	case "duration":
		return "a duration such as 90s, 5m or 6h"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number"
	case "float32", "float64":
		return "a number"
	case "intSlice", "int32Slice", "int64Slice", "uintSlice":
		return "a list of whole numbers"
	}
	return ""
}

// attributeSources adds to err, for each setting it names that did not come
// from the command line, where its value came from: a check in the
// command itself ("--key-rate-limit ...: want PREFIX=RATE") then points at
// the variable or file line to fix.
func attributeSources(cmd *cobra.Command, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var notes []string
	for _, f := range settingsOf(cmd) {
		src := f.Annotations[sourceAnnotation]
		if len(src) == 1 && mentionsFlag(msg, f.Name) {
			notes = append(notes, "--"+f.Name+" came from "+src[0])
		}
	}
	if len(notes) == 0 {
		return err
	}
	return fmt.Errorf("%w (%s)", err, strings.Join(notes, "; "))
}

func mentionsFlag(msg, name string) bool {
	return regexp.MustCompile(`(^|[^\w-])--` + regexp.QuoteMeta(name) + `($|[^\w-])`).MatchString(msg)
}

// configFile is a parsed config file: setting name → value.
type configFile struct {
	path   string
	values map[string]*yaml.Node
	lines  map[string]int
}

func (c *configFile) where(name string) string { return fmt.Sprintf("%s:%d", c.path, c.lines[name]) }

// loadConfigFile reads the file --config or CAPD_CONFIG names, if any, and
// checks that every key is a setting of some command. The values are
// parsed when a command that has them runs.
func loadConfigFile(cmd *cobra.Command, getenv func(string) string) (*configFile, error) {
	path, from := "", ""
	if f := cmd.Flags().Lookup(configFlag); f != nil && f.Changed {
		path, from = f.Value.String(), "--"+configFlag
	} else if v := getenv(envName(configFlag)); v != "" {
		path, from = v, envName(configFlag)
	}
	file := &configFile{path: path, values: map[string]*yaml.Node{}, lines: map[string]int{}}
	if path == "" {
		return file, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return file, nil // an empty file sets nothing
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want a mapping of flag names to values, such as \"addr: 127.0.0.1:8080\"", path, top.Line)
	}
	known := knownSettings(cmd.Root())
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("%s:%d: a key must be a flag name", path, k.Line)
		}
		if prev, dup := file.lines[k.Value]; dup {
			return nil, fmt.Errorf("%s:%d: %s is also set on line %d; keep one", path, k.Line, k.Value, prev)
		}
		if !known[k.Value] {
			return nil, fmt.Errorf("%s:%d: %s: %s", path, k.Line, k.Value, unknownSetting(cmd.Root(), k.Value, known))
		}
		file.values[k.Value], file.lines[k.Value] = v, k.Line
	}
	return file, nil
}

// knownSettings is the set of every setting's name: the keys a config file
// may hold, whichever command reads it.
func knownSettings(root *cobra.Command) map[string]bool {
	known := map[string]bool{}
	for _, sc := range allSettings(root) {
		for _, f := range sc.flags {
			known[f.Name] = true
		}
	}
	return known
}

// unknownSetting explains why key is not a setting and what to write.
func unknownSetting(root *cobra.Command, key string, known map[string]bool) string {
	if key == configFlag {
		return "a config file cannot name another; give --config or CAPD_CONFIG"
	}
	for name, excluded := range settableCommands {
		if why, ok := excluded[key]; ok {
			return fmt.Sprintf("--%s of capd %s is read only from the command line: %s", key, name, why)
		}
	}
	if owners := flagOwners(root, key); len(owners) > 0 {
		return fmt.Sprintf("--%s belongs to %s, which reads it only from the command line; a config file holds the flags of %s and the global flags",
			key, strings.Join(owners, ", "), settableList())
	}
	normal := strings.TrimPrefix(strings.ReplaceAll(strings.ToLower(strings.TrimLeft(key, "-")), "_", "-"), "capd-")
	if known[normal] {
		return fmt.Sprintf("unknown setting; did you mean %s? (a key is a flag's name as on the command line, without the --)", normal)
	}
	names := make([]string, 0, len(known))
	for n := range known {
		names = append(names, n)
	}
	sort.Strings(names)
	best, bestD := "", -1
	for _, n := range names {
		if d := editDistance(normal, n); bestD < 0 || d < bestD {
			best, bestD = n, d
		}
	}
	// A suggestion far from what was written helps nobody: offer one only
	// within a third of the key's length (a typo, not another word).
	if bestD > max(1, len(normal)/3) {
		return fmt.Sprintf("unknown setting (the keys are the flag names of %s and the global flags; see capd serve --help)", settableList())
	}
	return fmt.Sprintf("unknown setting; did you mean %s? (the keys are the flag names of %s and the global flags)", best, settableList())
}

func settableList() string {
	names := make([]string, 0, len(settableCommands))
	for n := range settableCommands {
		names = append(names, "capd "+n)
	}
	sort.Strings(names)
	return strings.Join(names, " and ")
}

// flagOwners lists the commands (as "capd keys create") that have a flag
// called name that is not a setting.
func flagOwners(root *cobra.Command, name string) []string {
	var owners []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.LocalNonPersistentFlags().Lookup(name) != nil {
			owners = append(owners, c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return slices.Compact(owners)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
