package trains

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// This file follows a deploy run through a GitHub Environment's review
// gate (SPEC §2: "A deploy waiting on a GitHub Environment's reviewers is
// shown as waiting for approval"; RFC: trains build on top of that gate,
// not in place of it). trainbot only tells: it never reviews.

// PendingDeployment is an environment a run waits on for a review, and
// who may review it: any one of them.
type PendingDeployment struct {
	Environment string `json:"environment"`
	// Users are the logins of the reviewers who are people, Teams the
	// names of those who are teams.
	Users []string `json:"users,omitempty"`
	Teams []string `json:"teams,omitempty"`
}

// DeploymentReview is one review of a run's deployments.
type DeploymentReview struct {
	Environments []string `json:"environments"`
	// State is approved or rejected.
	State   string `json:"state"`
	User    string `json:"user"`
	Comment string `json:"comment,omitempty"`
}

// Approved reports whether the review approved.
func (r DeploymentReview) Approved() bool { return r.State == "approved" }

// Gate is the review a train's deploy run waits on, while it waits.
type Gate struct {
	// Environments are the environments the run waits on; empty when
	// GitHub named none (another protection rule holds the run).
	Environments []string `json:"environments,omitempty"`
	// Users and Teams may review: logins and team names.
	Users []string `json:"users,omitempty"`
	Teams []string `json:"teams,omitempty"`
	// Since is when trainbot saw the run start to wait.
	Since time.Time `json:"since"`
}

// newGate is the gate of the pending deployments.
func newGate(pending []PendingDeployment, now time.Time) *Gate {
	g := &Gate{Since: now}
	for _, p := range pending {
		g.Environments = appendNew(g.Environments, p.Environment)
		for _, u := range p.Users {
			g.Users = appendNew(g.Users, u)
		}
		for _, tm := range p.Teams {
			g.Teams = appendNew(g.Teams, tm)
		}
	}
	return g
}

func appendNew(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// where names the environments, as code: "`staging`", "`a`, `b`", or
// "its environment" when none is known.
func (g *Gate) where() Text {
	if len(g.Environments) == 0 {
		return Text{T("its environment")}
	}
	var t Text
	for i, e := range g.Environments {
		if i > 0 {
			t = append(t, T(", "))
		}
		t = append(t, C(e))
	}
	return t
}

// who names those who may approve: "ana, bob or the team Validators".
func (g *Gate) who() string {
	names := slices.Clone(g.Users)
	for _, tm := range g.Teams {
		names = append(names, "the team "+tm)
	}
	switch len(names) {
	case 0:
		return "the environment's required reviewers (see the run)"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// mine reports whether a review is of one of the gate's environments
// (every review is, when the gate names none).
func (g *Gate) mine(r DeploymentReview) bool {
	if len(g.Environments) == 0 {
		return true
	}
	for _, e := range r.Environments {
		if slices.Contains(g.Environments, e) {
			return true
		}
	}
	return false
}

// Duration formats a duration for people: "42m", "1h 5m", "2d 3h", "12s".
func Duration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh %dm", h, m)
	}
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd %dh", days, h)
}

// gateWaits records that the deploy run of *t waits for a review, then
// says so in the train's thread and on its top message. The gate is
// stored before anything is said, so that a step repeated after a crash
// never says it twice (it may, like every step's message, go unsaid).
func (s *Service) gateWaits(ctx context.Context, t *Train, run Run, fence Fence) error {
	pending, err := s.repo.PendingDeployments(ctx, run.ID)
	if err != nil {
		return err
	}
	t.Gate = newGate(pending, s.clock.Now())
	if err := s.update(ctx, t, fence); err != nil {
		return err
	}
	s.audit(ctx, "trainbot", "deploy waiting for approval", t.ID, strings.Join(t.Gate.Environments, ","), nil)
	g := t.Gate
	msg := Say(append(append(Text{T("⏳ The deploy run waits for approval to deploy to ")}, g.where()...),
		T(". Who can approve: "+g.who()+". "), L("Review the deployment on GitHub", run.URL),
		T(" — trainbot never approves on anyone's behalf."))...)
	s.replyQuiet(ctx, t.Message, msg)
	s.editTop(ctx, *t)
	return nil
}

// gateReviewed closes the gate of *t once its deploy run no longer waits:
// it adds the time waited to the train and says who reviewed, with their
// comment. A rejection ends the train with the reviewer's comment (the
// train is stored failed by the caller, with the gate closed, in one
// write); otherwise the train is stored and goes on.
func (s *Service) gateReviewed(ctx context.Context, t *Train, run Run, fence Fence) error {
	reviews, err := s.repo.DeploymentReviews(ctx, run.ID)
	if err != nil {
		return err
	}
	g := t.Gate
	var approved, rejected []DeploymentReview
	for _, r := range reviews {
		if !g.mine(r) {
			continue
		}
		if r.Approved() {
			approved = append(approved, r)
		} else if r.State == "rejected" {
			rejected = append(rejected, r)
		}
	}
	waited := max(s.clock.Now().Sub(g.Since), 0)
	t.Waited += waited
	t.Gate = nil
	if len(rejected) > 0 {
		r := rejected[len(rejected)-1]
		return &stepError{fmt.Sprintf("%s rejected the deployment to %s after %s%s", r.User, strings.Join(orDefault(r.Environments, g.Environments), ", "),
			Duration(waited), quoted(r.Comment))}
	}
	if err := s.update(ctx, t, fence); err != nil {
		return err
	}
	s.audit(ctx, "trainbot", "deploy approval gate passed", t.ID, strings.Join(g.Environments, ","), nil)
	if len(approved) == 0 {
		s.replyQuiet(ctx, t.Message, Say(T("⏩ The deploy run no longer waits for approval ("+run.Status+"); GitHub recorded no review. Waited "+Duration(waited)+".")))
	} else {
		r := approved[len(approved)-1]
		s.replyQuiet(ctx, t.Message, Say(append(append(Text{T("👍 Approved by " + r.User + " for ")}, g.where()...),
			T(quoted(r.Comment)+" — after "+Duration(waited)+" waiting."))...))
	}
	s.editTop(ctx, *t)
	return nil
}

func orDefault(a, b []string) []string {
	if len(a) > 0 {
		return a
	}
	return b
}

// quoted is `: “comment”`, or nothing for no comment.
func quoted(comment string) string {
	comment = strings.TrimSpace(comment)
	if comment == "" {
		return " (no comment)"
	}
	return ": “" + comment + "”"
}

// editTop edits the train's top message to show it as it is.
func (s *Service) editTop(ctx context.Context, t Train) {
	if t.Message.TS == "" {
		return
	}
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.ann.Edit(ectx, t.Message, s.cutMessage(t, Plan{})); err != nil {
		s.log.Warn("edit the cut announcement", "train", string(t.ID), "err", err)
	}
}
