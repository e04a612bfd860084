package commands

// examples are what each command looks like typed, for the generated
// reference (docs/commands.md), by command name. They are kept beside the
// table rather than in it so that adding a command does not touch every
// line of the table; TestReferenceExamples checks each names its own
// command, declares only its flags, and is accepted by the parser.
// Mentions are written @name, as people type them in Slack.
var examples = map[string][]string{
	"help":     {"/train help", "/train help hotfix"},
	"calendar": {"/train calendar", "/train calendar --publish"},
	"cut":      {"/train cut dev", "/train cut staging --dry-run"},
	"hotfix": {
		"/train hotfix 3f2a9c1 validators crash on start",
		"/train hotfix hotfix/validator-crash validators crash on start --dry-run",
	},
	"approve": {"/train approve next-staging", "/train approve staging-2026-12-09 v0.5.0-dev.4"},
	"confirm": {"/train confirm next-dev"},
	"skip":    {"/train skip next-dev chain upgrade in progress"},
	"pause": {
		"/train pause",
		"/train pause 2h mtest-val-01 re-roll",
		"/train pause until 2026-12-02T18:00Z chain upgrade",
		"/train pause from 2026-12-02 14:00 until 2026-12-02 18:00 validator maintenance",
	},
	"resume":  {"/train resume"},
	"oncall":  {"/train oncall", "/train oncall rotation @rita @sam", "/train oncall set next-dev @sam", "/train oncall swap @rita @sam"},
	"line":    {"/train line 0.6.0"},
	"changes": {"/train changes v0.5.0-staging.1", "/train changes v0.5.0-hotfix.1 --markdown"},
	"history": {"/train history", "/train history 25"},
	"stats":   {"/train stats", "/train stats 90d"},
	"retry":   {"/train retry dev-2026-12-01"},
	"rollback": {
		"/train rollback staging the migration broke block sync",
		"/train rollback dev db migration broke --dry-run",
		"/train rollback v0.5.0-staging.3 sync stalls since this release",
	},
}
