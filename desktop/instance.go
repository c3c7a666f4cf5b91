package desktop

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// maxMessage bounds one request or response line.
const maxMessage = 4096

// Handler carries out a request from another launch.
type Handler func(Request) Response

// SocketPath returns the per-user socket path: $XDG_RUNTIME_DIR/softphone/
// instance.sock on Linux (falling back to the user cache directory), the
// user cache directory elsewhere.
func SocketPath() (string, error) {
	dir := ""
	if runtime.GOOS == "linux" {
		dir = os.Getenv("XDG_RUNTIME_DIR")
	}
	if dir == "" {
		var err error
		if dir, err = os.UserCacheDir(); err != nil {
			return "", fmt.Errorf("socket directory: %w", err)
		}
	}
	return filepath.Join(dir, "softphone", "instance.sock"), nil
}

// Instance is the listening first instance.
type Instance struct {
	ln   net.Listener
	path string
	h    Handler
	log  *slog.Logger
	wg   sync.WaitGroup
	once sync.Once
	show atomic.Pointer[func()]
}

// OnShow sets what a plain second launch (VerbShow) does: fn raises and
// focuses the window (it runs on a connection goroutine, so it hands the
// work to the UI, e.g. with fyne.Do, and returns at once). The answer is
// the handler's status line. Without it (nil, or never set, as with
// -headless) VerbShow goes to the handler like any request.
func (in *Instance) OnShow(fn func()) {
	if fn == nil {
		in.show.Store(nil)
		return
	}
	in.show.Store(&fn)
}

// Listen makes this process the running instance. When another live
// instance takes connections on path it returns ErrAlreadyRunning; a
// stale socket left by a killed instance (nobody listening: the
// connection is refused) is replaced. Any other failure to connect (a
// timeout: an instance that is alive but stuck) is ErrNotAnswering, and
// the socket is left alone.
func Listen(path string, h Handler, log *slog.Logger) (*Instance, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("socket directory: %w", err)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	switch {
	case err == nil:
		_ = c.Close()
		return nil, ErrAlreadyRunning
	case !gone(path, err):
		return nil, fmt.Errorf("%w: %w", ErrNotAnswering, err)
	}
	_ = os.Remove(path) // stale
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("instance socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, errors.Join(fmt.Errorf("instance socket permissions: %w", err), ln.Close())
	}
	in := &Instance{ln: ln, path: path, h: h, log: log.With("component", "desktop")}
	in.wg.Add(1)
	go in.serve()
	return in, nil
}

func (in *Instance) serve() {
	defer in.wg.Done()
	for {
		c, err := in.ln.Accept()
		if err != nil {
			return
		}
		in.wg.Add(1)
		go func() {
			defer in.wg.Done()
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			in.handle(c)
		}()
	}
}

func (in *Instance) handle(c net.Conn) {
	enc := json.NewEncoder(c)
	line, err := bufio.NewReaderSize(io.LimitReader(c, maxMessage), maxMessage).ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		_ = enc.Encode(Response{Message: "unreadable request"})
		return
	}
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		in.log.Warn("malformed instance request", "error", err)
		_ = enc.Encode(Response{Message: "malformed request"})
		return
	}
	if fn := in.show.Load(); fn != nil && req.Verb == VerbShow {
		(*fn)()
		res := in.h(Request{Verb: VerbStatus})
		res.Message = "window shown; " + res.Message
		_ = enc.Encode(res)
		return
	}
	_ = enc.Encode(in.h(req))
}

// Path is the socket path.
func (in *Instance) Path() string { return in.path }

// Close stops listening and removes the socket.
func (in *Instance) Close() error {
	var err error
	in.once.Do(func() {
		err = in.ln.Close()
		in.wg.Wait()
		_ = os.Remove(in.path)
	})
	return err
}

// Send hands req to the running instance and returns its answer. It
// returns ErrNotRunning only when no instance provably runs (no socket,
// or nobody listening on it: a stale socket), and an error wrapping
// ErrNotAnswering when one seems to run but no answer came within
// timeout (or the connection broke before it).
func Send(path string, req Request, timeout time.Duration) (Response, error) {
	c, err := net.DialTimeout("unix", path, timeout)
	if err != nil {
		if gone(path, err) {
			return Response{}, ErrNotRunning
		}
		return Response{}, fmt.Errorf("%w: %w", ErrNotAnswering, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return Response{}, fmt.Errorf("%w: send: %w", ErrNotAnswering, err)
	}
	var res Response
	if err := json.NewDecoder(io.LimitReader(c, maxMessage)).Decode(&res); err != nil {
		return Response{}, fmt.Errorf("%w: answer: %w", ErrNotAnswering, err)
	}
	return res, nil
}

// gone reports whether a failed connection to path proves that no
// instance runs: there is no socket file, or nobody listens on it.
func gone(path string, err error) bool {
	if _, serr := os.Stat(path); errors.Is(serr, fs.ErrNotExist) {
		return true
	}
	return refused(err)
}
