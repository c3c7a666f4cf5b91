package crm

import "os/exec"

// OpenBrowser opens url in the default browser (open) without waiting for
// the browser to exit.
func OpenBrowser(url string) error { return startDetached(exec.Command("open", url)) }
