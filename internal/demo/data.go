package demo

// Due dates are offsets from the seeding time ("-48h" is two days overdue).
var orgs = []org{
	{
		slug: "switchback-engineering", name: "Switchback Engineering",
		staff: [][3]string{
			{"Maya Okafor", "maya@switchback.example", "engineering manager"},
			{"Tomás Reyes", "tomas@switchback.example", "backend engineer"},
			{"Priya Natarajan", "priya@switchback.example", "site reliability engineer"},
			{"Jonah Becker", "jonah@switchback.example", "frontend engineer"},
			{"Lena Vogel", "lena@switchback.example", "QA engineer"},
		},
		projects: []project{
			{"Billing platform migration", "Move invoicing from the legacy monolith to the new billing service without double-charging anyone.", []task{
				{"Inventory every invoice code path in the monolith", "List each place that creates, edits or voids an invoice, with owners.", "done", "high", "-240h", "Tomás"},
				{"Dual-write invoices to the new billing service", "Write to both systems behind a flag; compare nightly.", "doing", "high", "96h", "Tomás"},
				{"Reconciliation report for dual-write mismatches", "", "todo", "medium", "168h", "Lena"},
				{"Runbook for billing cut-over night", "Step-by-step with rollback points and who is on call.", "waiting", "medium", "240h", "Priya"},
				{"Remove legacy invoice PDF renderer", "", "todo", "low", "", ""},
			}},
			{"Incident response tooling", "Make paging, status updates and postmortems less manual.", []task{
				{"Auto-create incident channel from PagerDuty alert", "", "review", "high", "24h", "Priya"},
				{"Postmortem template with timeline import", "Pull the incident timeline from chat into the template.", "doing", "medium", "120h", "Maya"},
				{"Status page update from incident commander command", "", "todo", "medium", "", "Jonah"},
			}},
			{"Customer dashboard redesign", "New usage dashboard for enterprise customers.", []task{
				{"Usage chart with per-seat breakdown", "", "doing", "high", "72h", "Jonah"},
				{"Accessibility audit of dashboard widgets", "WCAG 2.2 AA on charts and tables.", "todo", "medium", "-48h", "Lena"},
				{"Export usage as CSV", "", "done", "low", "", "Jonah"},
			}},
		},
	},
	{
		slug: "driftline-design", name: "Driftline Design",
		staff: [][3]string{
			{"Ana Lima", "ana@driftline.example", "creative director"},
			{"Felix Hartmann", "felix@driftline.example", "brand designer"},
			{"Noor Haddad", "noor@driftline.example", "product designer"},
			{"Sam O'Connell", "sam@driftline.example", "copywriter"},
		},
		projects: []project{
			{"Harbor Coffee rebrand", "New identity, packaging and signage for a 14-store coffee chain.", []task{
				{"Moodboards for three brand directions", "", "done", "high", "-336h", "Felix"},
				{"Logo refinement for the chosen direction", "Client picked direction B (tidal lines).", "review", "high", "48h", "Felix"},
				{"Tone-of-voice guide", "", "doing", "medium", "144h", "Sam"},
				{"Cup and bag packaging mock-ups", "", "todo", "medium", "216h", "Noor"},
				{"Storefront signage specs for the printer", "", "waiting", "low", "", "Ana"},
			}},
			{"Fieldnote app onboarding", "Redesign the first-run experience of a note-taking app.", []task{
				{"Map current onboarding drop-off", "Funnel from install to first note.", "done", "high", "", "Noor"},
				{"Prototype three-screen onboarding", "", "doing", "high", "96h", "Noor"},
				{"Empty-state copy for notebooks", "", "todo", "low", "", "Sam"},
			}},
		},
	},
	{
		slug: "atelier-meridian", name: "Atelier Meridian",
		staff: [][3]string{
			{"Claire Dubois", "claire@meridian.example", "principal architect"},
			{"Kenji Watanabe", "kenji@meridian.example", "project architect"},
			{"Ines Moreau", "ines@meridian.example", "interior designer"},
			{"Rafael Costa", "rafael@meridian.example", "BIM coordinator"},
			{"Elsa Lindqvist", "elsa@meridian.example", "studio manager"},
		},
		projects: []project{
			{"Rue Oberkampf library renovation", "Convert a 1920s printworks into a public library with a reading garden.", []task{
				{"Structural survey of the mezzanine", "", "done", "high", "-480h", "Kenji"},
				{"Planning application drawings", "Elevations, sections and heritage statement.", "review", "high", "24h", "Kenji"},
				{"Acoustic panels shortlist for the reading room", "", "doing", "medium", "120h", "Ines"},
				{"Clash detection between ducts and the new stair", "", "todo", "high", "72h", "Rafael"},
				{"Client workshop on children's area", "", "waiting", "medium", "", "Claire"},
			}},
			{"Villa Solenne extension", "Timber-frame extension and a new kitchen for a private house.", []task{
				{"Timber supplier quotes", "", "doing", "medium", "168h", "Elsa"},
				{"Kitchen layout options", "", "todo", "medium", "", "Ines"},
				{"Update the BIM model with the surveyed levels", "", "todo", "low", "-24h", "Rafael"},
			}},
			{"Studio operations", "Internal work of the studio.", []task{
				{"Renew professional indemnity insurance", "", "todo", "high", "336h", "Elsa"},
				{"Archive completed 2025 projects", "", "done", "low", "", "Elsa"},
			}},
		},
	},
}
