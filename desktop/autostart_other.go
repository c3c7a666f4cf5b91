//go:build !linux && !darwin && !windows

package desktop

func (a Autostart) enable() error          { return ErrNotImplemented }
func (a Autostart) disable() error         { return ErrNotImplemented }
func (a Autostart) enabled() (bool, error) { return false, ErrNotImplemented }
