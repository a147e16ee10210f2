package catalog_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/sets"
	"github.com/capd-dev/capd/internal/tooldef"
)

// budgetText is how a page shows a budget of tools/list.
var budgetText = regexp.MustCompile(`<strong>([\d,]+) bytes</strong> ≈ ([\d,]+) tokens`)

// wholeCatalogLine is the budget line of / and /sets.
var wholeCatalogLine = regexp.MustCompile(`tools/list of the whole catalog: <span class="budget"[^>]*><strong>([\d,]+) bytes</strong> ≈ ([\d,]+) tokens</span>`)

// shown is b as a page writes it: "12,345 bytes</strong> ≈ 3,087 tokens".
func shown(b tooldef.Budget) string {
	return withCommas(b.Bytes) + " bytes</strong> ≈ " + withCommas(b.Tokens) + " tokens"
}

func withCommas(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// setBudget is what set costs an agent with every scope.
func setBudget(reg *registry.Registry, set *capability.CapabilitySet) tooldef.Budget {
	return tooldef.ListBudget(sets.Tools(sets.Resolve(reg, set, nil)))
}

func wholeCatalog(reg *registry.Registry) tooldef.Budget {
	var vs []*registry.Version
	for _, name := range reg.Names() {
		if v := reg.Latest(name); v != nil {
			vs = append(vs, v)
		}
	}
	return tooldef.ListBudget(vs)
}

// setItem returns the list entry of the set linked at href on /sets.
func setItem(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<li class="set-item">\s*<div class="set-main">\s*(?:<a class="set-name" href="/sets/` + regexp.QuoteMeta(name) + `">|<span class="set-name">` + regexp.QuoteMeta(name) + `</span>).*?</ul>\s*</li>`).FindString(body)
	require.NotEmpty(t, m, "no entry for set %s", name)
	return m
}

func TestSetsPage(t *testing.T) {
	f := newFixture(t)
	body := page(t, f.handler, "/sets")

	t.Run("OK", func(t *testing.T) {
		assert.Contains(t, body, "<title>Capability sets · capd</title>")
		assert.Contains(t, body, `<a href="/sets" class="current">Sets</a>`)
		// Built-in sets first, then stored public ones by name.
		order := []string{"projects-agent", "projects-readonly", triageSet, typoSet}
		last := -1
		for _, name := range order {
			i := strings.Index(body, `href="/sets/`+name+`"`)
			require.Positive(t, i, name)
			assert.Greater(t, i, last, "%s in order", name)
			last = i
		}
	})

	t.Run("WholeCatalogBudget", func(t *testing.T) {
		m := wholeCatalogLine.FindStringSubmatch(body)
		require.Len(t, m, 3)
		assert.Contains(t, m[0], shown(wholeCatalog(f.reg)))
	})

	t.Run("BuiltInSets", func(t *testing.T) {
		for _, set := range f.sets.BuiltIn {
			item := setItem(t, body, set.Name)
			assert.Contains(t, item, `<span class="badge owner-builtin">built-in</span>`)
			assert.Contains(t, item, "<strong>"+strconv.Itoa(len(set.Members))+"</strong> members")
			assert.Contains(t, item, "<strong>0</strong> unresolvable")
			for _, tag := range set.Tags {
				assert.Contains(t, item, `<span class="tag">`+tag+`</span>`)
			}
			b := setBudget(f.reg, set)
			assert.Equal(t, len(set.Members), b.Tools)
			assert.Contains(t, item, shown(b))
			assert.Less(t, b.Bytes, wholeCatalog(f.reg).Bytes, "a set costs less than the catalog")
		}
	})

	t.Run("StoredPublicSets", func(t *testing.T) {
		item := setItem(t, body, triageSet)
		assert.Contains(t, item, `<span class="badge owner-tenant">acme</span>`)
		assert.Contains(t, item, "Look at tasks and move them along.")
		assert.Contains(t, item, `<span class="tag">triage</span>`)
		assert.Contains(t, item, "<strong>3</strong> members")
		assert.Contains(t, item, "<strong>0</strong> unresolvable")
		triage, err := f.control.FindSet(t.Context(), storedTenant, triageSet)
		require.NoError(t, err)
		assert.Contains(t, item, shown(setBudget(f.reg, triage)))

		item = setItem(t, body, typoSet)
		assert.Contains(t, item, `<li class="unresolved"><strong>2</strong> unresolvable</li>`)
		typos, err := f.control.FindSet(t.Context(), storedTenant, typoSet)
		require.NoError(t, err)
		b := setBudget(f.reg, typos)
		assert.Equal(t, 1, b.Tools, "only get_project resolves")
		assert.Contains(t, item, shown(b))
	})

	t.Run("NoPrivateSet", func(t *testing.T) {
		assert.NotContains(t, body, privateSet)
		assert.NotContains(t, body, "Nobody outside acme")
	})
}

func TestSetPage(t *testing.T) {
	f := newFixture(t)

	t.Run("BuiltIn", func(t *testing.T) {
		body := page(t, f.handler, "/sets/projects-agent")
		assert.Contains(t, body, "<title>projects-agent · Capability sets · capd</title>")
		assert.Contains(t, body, "<h1>projects-agent</h1>")
		assert.Contains(t, body, `<a href="/sets">← capability sets</a>`)
		assert.Contains(t, body, "<dt>Owner</dt><dd>built-in: ships with capd</dd>")
		assert.Contains(t, body, "<dt>Source</dt><dd>capd built-in</dd>")
		assert.Contains(t, body, "<dt>Tags</dt><dd>projects, agent</dd>")
		assert.NotContains(t, body, "<dt>Created</dt>", "a built-in set has no creation time")
		assert.Contains(t, body, "What a coding or operations agent uses")

		agent := f.sets.BuiltIn[0]
		require.Equal(t, "projects-agent", agent.Name)
		for _, m := range agent.Members {
			v := f.reg.Latest(m.Name)
			assert.Regexp(t, `<th scope="row"><code>`+regexp.QuoteMeta(strings.Replace(m.Name, ".", ".<wbr>", 1))+`</code></th>\s*<td><a href="/capabilities/`+regexp.QuoteMeta(m.Name)+`/`+regexp.QuoteMeta(v.Manifest.Version)+`">v`, body)
		}
		assert.Contains(t, body, "15 members; every one resolves.")
		assert.NotContains(t, body, `class="unresolved"`)
		assert.Contains(t, body, shown(setBudget(f.reg, agent)))
		assert.Contains(t, body, "The whole catalog’s is "+`<span class="budget"`)
		assert.Contains(t, body, shown(wholeCatalog(f.reg)))
		assert.Contains(t, body, "<code>/mcp/sets/projects-agent</code>")
		assert.Contains(t, body, "<code>capd stdio --set projects-agent</code>")
	})

	t.Run("StoredPublic", func(t *testing.T) {
		body := page(t, f.handler, "/sets/"+triageSet)
		assert.Contains(t, body, "<dt>Owner</dt><dd><code>acme</code></dd>")
		assert.Contains(t, body, "<dt>Source</dt><dd>acme runbook</dd>")
		assert.Regexp(t, `<dt>Created</dt><dd><time datetime="\d{4}-`, body)
		assert.Regexp(t, `<dt>Updated</dt><dd><time datetime="\d{4}-`, body)
		// Members as written: a bare name, a pin, a note.
		assert.Contains(t, body, `<th scope="row"><code>projects.<wbr>get_task@0.1.0</code></th>`)
		assert.Contains(t, body, `<a href="/capabilities/projects.get_task/0.1.0">v0.1.0</a>`)
		assert.Contains(t, body, `<th scope="row"><code>projects.<wbr>transition_task</code><div class="member-notes">only to done</div></th>`)
		assert.Contains(t, body, "<code>capd stdio --set "+triageSet+"</code>")
	})

	t.Run("UnresolvableMembers", func(t *testing.T) {
		body := page(t, f.handler, "/sets/"+typoSet)
		assert.Contains(t, body, `<strong class="unresolved-count">2 unresolvable</strong>`)
		assert.Regexp(t, `<tr class="unresolved">\s*<th scope="row"><code>projects.<wbr>list_task</code></th>\s*<td><span class="badge reason">not_found</span> <span class="reason-text">No capability has this name.</span></td>`, body)
		assert.Regexp(t, `<tr class="unresolved">\s*<th scope="row"><code>projects.<wbr>get_task@9.9.9</code></th>\s*<td><span class="badge reason">version_not_found</span> <span class="reason-text">projects.get_task has no version 9.9.9.</span></td>`, body)
		assert.Regexp(t, `<tr>\s*<th scope="row"><code>projects.<wbr>get_project</code></th>\s*<td><a href="/capabilities/projects.get_project/`, body)
		assert.Equal(t, 2, strings.Count(body, `<tr class="unresolved">`))
		assert.Contains(t, body, "(1 tool)")
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		for _, name := range []string{privateSet, "no-such-set"} {
			res, body := get(t, f.handler, http.MethodGet, "/sets/"+name)
			assert.Equal(t, http.StatusNotFound, res.StatusCode, name)
			assert.Contains(t, body, "No public capability set is named &#34;"+name+"&#34;.")
			assert.Contains(t, body, `<a href="/sets">All capability sets</a>`)
			assert.NotContains(t, body, "Nobody outside acme")
		}
	})

	t.Run("ErrSeveralTenants", func(t *testing.T) {
		ctx := t.Context()
		require.NoError(t, f.control.CreateTenant(ctx, &capability.Tenant{Slug: "globex"}))
		require.NoError(t, f.control.CreateSet(ctx, &capability.CapabilitySet{Name: triageSet, Owner: "globex", IsPublic: true, CreatedBy: "cli",
			Members: []capability.SetMember{{Name: "projects.list_tasks"}}}))
		res, body := get(t, f.handler, http.MethodGet, "/sets/"+triageSet)
		assert.Equal(t, http.StatusNotFound, res.StatusCode)
		assert.Contains(t, body, "names public sets of several tenants (acme, globex)")

		// The list shows both, linking to neither.
		body = page(t, f.handler, "/sets")
		assert.NotContains(t, body, `href="/sets/`+triageSet+`"`)
		assert.Equal(t, 2, strings.Count(body, `<span class="set-name">`+triageSet+`</span>`))
		assert.Contains(t, body, "globex&#39;s own keys reach it by name")
	})
}

func TestCapabilityPageSets(t *testing.T) {
	f := newFixture(t)

	t.Run("InPublicSets", func(t *testing.T) {
		body := page(t, f.handler, "/capabilities/projects.get_task")
		section := regexp.MustCompile(`(?s)<h2 id="in-public-sets">In public sets</h2>(.*?)</section>`).FindStringSubmatch(body)
		require.Len(t, section, 2)
		links := regexp.MustCompile(`<li><a href="(/sets/[^"]+)">`).FindAllStringSubmatch(section[1], -1)
		var got []string
		for _, l := range links {
			got = append(got, l[1])
		}
		assert.Equal(t, []string{"/sets/" + triageSet, "/sets/" + typoSet, "/sets/projects-agent", "/sets/projects-readonly"}, got)
		assert.Contains(t, section[1], `<a href="/sets/projects-agent">projects-agent</a> <span class="muted">built-in</span>`)
		assert.Contains(t, section[1], `<a href="/sets/`+triageSet+`">`+triageSet+`</a> <span class="muted">acme</span> <span class="muted">· pins v0.1.0</span>`)
		// After Versions, before the conformance runs.
		assert.Less(t, strings.Index(body, `id="versions"`), strings.Index(body, `id="in-public-sets"`))
		assert.Less(t, strings.Index(body, `id="in-public-sets"`), strings.Index(body, `id="recent-conformance-runs"`))
	})

	t.Run("InNoPublicSet", func(t *testing.T) {
		body := page(t, f.handler, "/capabilities/"+privateMember)
		assert.Contains(t, body, `<h2 id="in-public-sets">In public sets</h2>`)
		assert.Contains(t, body, `<p class="muted">In no public set.</p>`)
		assert.NotContains(t, body, privateSet)
	})
}

func TestIndexBudget(t *testing.T) {
	f := newFixture(t)
	body := page(t, f.handler, "/")
	m := wholeCatalogLine.FindStringSubmatch(body)
	require.Len(t, m, 3)
	assert.Contains(t, m[0], shown(wholeCatalog(f.reg)))
	assert.Contains(t, body, `<a href="/sets">Sets</a>`)
	assert.Len(t, budgetText.FindAllString(body, -1), 1)
}

// TestWithoutSets is a catalog given no set service: no set pages, no
// links to them, and still the whole catalog's budget.
func TestWithoutSets(t *testing.T) {
	f := lifecycleCatalog(t)
	body := page(t, f.handler, "/")
	assert.NotContains(t, body, `href="/sets"`)
	assert.Regexp(t, wholeCatalogLine, body)
	assert.NotContains(t, page(t, f.handler, "/capabilities/projects.create_task"), "In public sets")
	for _, path := range []string{"/sets", "/sets/projects-agent"} {
		res, _ := get(t, f.handler, http.MethodGet, path)
		assert.Equal(t, http.StatusNotFound, res.StatusCode, path)
	}
}
