// Package deploy implements the trains.Repo port: the released repository
// and its workflows.
//
//   - GitHub (New) talks to GitHub or GitHub Enterprise through go-github
//     v62: train tags, the publish gate, the deploy workflow's dispatch and
//     runs, pending-deployment reviews. Build its client with NewClient,
//     which puts a Transport below go-github: conditional requests (ETag)
//     and retries with backoff that honour Retry-After and the rate-limit
//     reset.
//   - Local (NewLocal) is the same port on a local git repository, for
//     `trainbot console`: tags are real, workflows are printed, not run.
//   - DryRun wraps any Repo: reads pass through, writes are reported, not
//     made.
package deploy
