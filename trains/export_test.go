package trains

// Announcement is a train's announcement as the service would post or edit
// it now: for tests of its buttons.
func (s *Service) Announcement(t Train) Message { return s.cutMessage(t, Plan{}) }
