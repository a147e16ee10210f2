package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/sets"
)

// setsLiveNote is said in the help of every command that changes sets, so
// nobody expects connected agents to hear about a CLI change.
const setsLiveNote = "A running server reads sets from the store on each request, so a change made here takes\n" +
	"effect on its next read; but MCP sessions already connected to that server are notified\n" +
	"(tools/list_changed) only of changes made through its own HTTP API, not of changes made here."

func newSetsCmd(loc func() location) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sets",
		Short: "Create, list, show and delete capability sets",
		Long: "Capability sets are named lists of capability references an agent connects to\n" +
			"(/mcp/sets/NAME). The CLI acts as the tenant's local administrator: members resolve\n" +
			"as the tenant with every scope, and sets it creates record created_by \"cli\".\n\n" + setsLiveNote,
	}
	var tenant, format, tag string
	tenantFlag := func(c *cobra.Command) { c.Flags().StringVar(&tenant, "tenant", "", "tenant slug (required)") }
	formatFlag := func(c *cobra.Command) {
		c.Flags().StringVar(&format, "format", "text", "output: text or json (the HTTP API's view of the set)")
	}

	create := &cobra.Command{
		Use:   "create --tenant SLUG FILE",
		Short: "Create a set from a YAML or JSON file (- for stdin)",
		Long: "Create a capability set owned by the tenant from FILE, YAML or JSON (- reads stdin), with the\n" +
			"fields name, description, is_public, members, source and tags. A member is \"name\" (follows the\n" +
			"latest version), \"name@x.y.z\" (pinned) or {name, version, notes}. Unknown fields and malformed\n" +
			"members are refused; a name that matches no capability is kept and shown as not_found.\n\n" + setsLiveNote,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkSetsFlags(tenant, format); err != nil {
				return err
			}
			set, err := readSetFile(args[0], cmd.InOrStdin())
			if err != nil {
				return err
			}
			set.Owner, set.CreatedBy = tenant, "cli"
			return withApp(cmd, loc, tenant, func(a *app) error {
				if err := a.sets.Create(cmd.Context(), set); err != nil {
					return err
				}
				return writeSet(cmd.OutOrStdout(), format, newSetView(a.reg, set, tenant))
			})
		},
	}
	tenantFlag(create)
	formatFlag(create)

	list := &cobra.Command{
		Use:   "list --tenant SLUG [--tag TAG]",
		Short: "List the sets a tenant can use: built-in, its own and other tenants' public ones",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkSetsFlags(tenant, "text"); err != nil {
				return err
			}
			return withApp(cmd, loc, tenant, func(a *app) error {
				list, err := a.sets.List(cmd.Context(), tenant, tag, 0, 0)
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "NAME\tOWNER\tPUBLIC\tMEMBERS\tUNRESOLVABLE\tTAGS")
				for _, s := range list {
					v := newSetView(a.reg, s, tenant)
					fmt.Fprintf(w, "%s\t%s\t%t\t%d\t%d\t%s\n", v.Name, ownerLabel(v.Owner), v.IsPublic, len(v.Members), v.UnresolvableCount, orDash(strings.Join(v.Tags, ",")))
				}
				return w.Flush()
			})
		},
	}
	tenantFlag(list)
	list.Flags().StringVar(&tag, "tag", "", "only sets with this tag")

	show := &cobra.Command{
		Use:   "show --tenant SLUG NAME",
		Short: "Show a set with what each member resolves to for the tenant",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkSetsFlags(tenant, format); err != nil {
				return err
			}
			return withApp(cmd, loc, tenant, func(a *app) error {
				set, err := a.sets.Find(cmd.Context(), tenant, args[0])
				if err != nil {
					return setsHint(err, tenant)
				}
				return writeSet(cmd.OutOrStdout(), format, newSetView(a.reg, set, tenant))
			})
		},
	}
	tenantFlag(show)
	formatFlag(show)

	del := &cobra.Command{
		Use:   "delete --tenant SLUG NAME",
		Short: "Delete a set the tenant owns",
		Long:  "Delete a capability set the tenant owns. Built-in sets and other tenants' sets cannot be deleted.\n\n" + setsLiveNote,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkSetsFlags(tenant, "text"); err != nil {
				return err
			}
			return withApp(cmd, loc, tenant, func(a *app) error {
				if err := a.sets.Delete(cmd.Context(), tenant, args[0]); err != nil {
					return setsHint(err, tenant)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "deleted set %s of tenant %s\n", args[0], tenant)
				return nil
			})
		},
	}
	tenantFlag(del)

	cmd.AddCommand(create, list, show, del)
	return cmd
}

func checkSetsFlags(tenant, format string) error {
	if tenant == "" {
		return usageError("--tenant is required; see capd tenants list")
	}
	if format != "text" && format != "json" {
		return usageError("--format must be text or json, not %q", format)
	}
	return nil
}

// withApp opens capd over the data directory (the registry and the
// built-in sets are needed to resolve members), checks that tenant exists,
// runs fn and closes.
func withApp(cmd *cobra.Command, loc func() location, tenant string, fn func(*app) error) error {
	a, err := openApp(cmd.Context(), appOptions{dataDir: loc().dir, store: loc().store})
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := a.db.Control().FindTenant(cmd.Context(), tenant); err != nil {
		if errors.Is(err, capability.ErrNotFound) {
			return fmt.Errorf("no tenant %q; see capd tenants list", tenant)
		}
		return err
	}
	return fn(a)
}

// setsHint points a not-found error at the command that lists sets; the
// service's own message names the HTTP API.
func setsHint(err error, tenant string) error {
	if capability.ErrorCode(err) == capability.CodeNotFound {
		return fmt.Errorf("%w (capd sets list --tenant %s lists them)", err, tenant)
	}
	return err
}

// cliPrincipal is who the CLI resolves sets as: the tenant's local
// administrator, with every scope.
func cliPrincipal(tenant string) *capability.Principal {
	return &capability.Principal{Tenant: tenant, KeyPrefix: "cli", Scopes: capability.AllScopes}
}

// setFields are the fields a set file may have, in the order they are named.
var setFields = []string{"name", "description", "is_public", "members", "source", "tags"}

// readSetFile reads a set from file (- for stdin), YAML or JSON, and
// checks it the way the HTTP API checks a POST body: every problem is
// reported at once, each naming its field.
func readSetFile(file string, stdin io.Reader) (*capability.CapabilitySet, error) {
	var raw []byte
	var err error
	shown := file
	if file == "-" {
		shown = "stdin"
		raw, err = io.ReadAll(stdin)
	} else {
		raw, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, err
	}
	data, err := registry.YAMLToJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: not valid YAML or JSON: %w", shown, err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil || doc == nil {
		return nil, fmt.Errorf("%s: must be a mapping with the fields %s", shown, strings.Join(setFields, ", "))
	}
	var issues []capability.Issue
	field := func(name string, into any) {
		if v, ok := doc[name]; ok {
			if err := json.Unmarshal(v, into); err != nil {
				issues = append(issues, capability.Issue{Path: "/" + name, Message: "has the wrong type: " + err.Error(), Keyword: "type"})
			}
		}
	}
	var unknown []string
	for k := range doc {
		if !slices.Contains(setFields, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		issues = append(issues, capability.Issue{Path: "/" + k, Message: fmt.Sprintf("%q is not a field of a capability set (%s)", k, strings.Join(setFields, ", ")), Keyword: "additionalProperties"})
	}

	set := &capability.CapabilitySet{}
	var members []json.RawMessage
	field("name", &set.Name)
	field("description", &set.Description)
	field("is_public", &set.IsPublic)
	field("members", &members)
	field("source", &set.Source)
	field("tags", &set.Tags)
	if !sets.NameRE.MatchString(set.Name) {
		issues = append(issues, capability.Issue{Path: "/name", Message: "is required: a slug of lowercase letters, digits and dashes, 1 to 63 characters", Keyword: "pattern"})
	}
	if len(set.Description) > 2000 {
		issues = append(issues, capability.Issue{Path: "/description", Message: "must be at most 2000 characters", Keyword: "maxLength"})
	}
	if len(set.Tags) > 20 {
		issues = append(issues, capability.Issue{Path: "/tags", Message: "must have at most 20 tags", Keyword: "maxItems"})
	}
	if len(members) > 200 {
		issues = append(issues, capability.Issue{Path: "/members", Message: "must have at most 200 members", Keyword: "maxItems"})
	}
	parsed, memberIssues := sets.ParseMembers(members, "/members")
	issues = append(issues, memberIssues...)
	if len(issues) > 0 {
		lines := make([]string, len(issues))
		for i, is := range issues {
			lines[i] = "  " + is.Path + ": " + is.Message
		}
		return nil, &capability.Error{Code: capability.CodeInvalidInput, Issues: issues,
			Message: fmt.Sprintf("%s: the capability set is not valid; nothing was created:\n%s", shown, strings.Join(lines, "\n"))}
	}
	set.Members = parsed
	return set, nil
}

// newSetView renders set as GET /api/v1/org/{org}/capability-sets/{name}
// does, so scripts can move between the CLI and the API.
func newSetView(reg *registry.Registry, set *capability.CapabilitySet, tenant string) sets.View {
	return sets.NewView(reg, set, cliPrincipal(tenant))
}

// writeSet prints v as JSON, or for a person: the fields, then one line per
// member with what it resolves to or why it does not.
func writeSet(w io.Writer, format string, v sets.View) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "name:\t%s\n", v.Name)
	fmt.Fprintf(tw, "description:\t%s\n", orDash(v.Description))
	fmt.Fprintf(tw, "owner:\t%s\n", ownerLabel(v.Owner))
	fmt.Fprintf(tw, "public:\t%t\n", v.IsPublic)
	fmt.Fprintf(tw, "source:\t%s\n", orDash(v.Source))
	fmt.Fprintf(tw, "tags:\t%s\n", orDash(strings.Join(v.Tags, ",")))
	fmt.Fprintf(tw, "created_by:\t%s\n", v.CreatedBy)
	fmt.Fprintf(tw, "unresolvable_count:\t%d\n", v.UnresolvableCount)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tRESOLVED\tUNRESOLVABLE\tNOTES")
	for _, m := range v.Members {
		ref := m.Name
		if m.Version != "" {
			ref += "@" + m.Version
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", ref, orDash(m.ResolvedVersion), orDash(m.UnresolvableReason), orDash(m.Notes))
	}
	return tw.Flush()
}

func ownerLabel(owner string) string {
	if owner == "" {
		return "built-in"
	}
	return owner
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
