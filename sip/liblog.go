package sip

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"sync/atomic"

	"github.com/emiago/diago/media"
	sipgosip "github.com/emiago/sipgo/sip"
)

// diago and sipgo log what they see: a message they cannot parse goes out
// whole (attribute "data", with its phone numbers and Authorization
// header), requests as their first line (sip:+4930...@host). Their logs go
// through redacting, which drops the raw messages and blanks every run of
// five or more digits, so no phone number reaches a log file. Their
// process-wide default loggers (the transport layer uses them, not the
// logger a server is given) point at the logger of the newest Engine.

// libTarget is where the libraries' default loggers write: the newest
// Engine's handler (slog's default until one exists).
var libTarget atomic.Pointer[slog.Handler]

func init() {
	l := slog.New(redacting(targetHandler{}))
	sipgosip.SetDefaultLogger(l)
	media.SetDefaultLogger(l)
}

// setLibraryLogger makes the libraries' default loggers write to h.
func setLibraryLogger(h slog.Handler) { libTarget.Store(&h) }

// targetHandler forwards to the handler in libTarget.
type targetHandler struct{}

func (targetHandler) current() slog.Handler {
	if h := libTarget.Load(); h != nil {
		return *h
	}
	return slog.Default().Handler()
}

func (t targetHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return t.current().Enabled(ctx, l)
}

func (t targetHandler) Handle(ctx context.Context, r slog.Record) error {
	return t.current().Handle(ctx, r)
}

// WithAttrs and WithGroup resolve the target now: the libraries derive
// their loggers once, when a transport or server is made.
func (t targetHandler) WithAttrs(as []slog.Attr) slog.Handler { return t.current().WithAttrs(as) }
func (t targetHandler) WithGroup(name string) slog.Handler    { return t.current().WithGroup(name) }

// digitRun is what may be a phone number.
var digitRun = regexp.MustCompile(`\d{5,}`)

// rawKeys are the libraries' attributes that hold whole SIP messages.
var rawKeys = map[string]bool{"data": true, "raw": true, "body": true}

// redacting wraps h for library logs.
func redacting(h slog.Handler) slog.Handler { return redactHandler{h} }

type redactHandler struct{ h slog.Handler }

func (r redactHandler) Enabled(ctx context.Context, l slog.Level) bool { return r.h.Enabled(ctx, l) }

// perPacket are diago's warnings about single RTP packets (its packet
// reader logs one for every reordered or duplicated packet): routine on a
// real network, they are logged at debug level, not as a flood of
// warnings.
var perPacket = map[string]bool{"sequence duplicate": true, "bad sequence": true}

func (r redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	level := rec.Level
	if level > slog.LevelDebug && level < slog.LevelError && perPacket[rec.Message] {
		if level = slog.LevelDebug; !r.h.Enabled(ctx, level) {
			return nil
		}
	}
	out := slog.NewRecord(rec.Time, level, redactText(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return r.h.Handle(ctx, out)
}

func (r redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = redactAttr(a)
	}
	return redactHandler{r.h.WithAttrs(red)}
}

func (r redactHandler) WithGroup(name string) slog.Handler { return redactHandler{r.h.WithGroup(name)} }

func redactText(s string) string { return digitRun.ReplaceAllString(s, "…") }

func redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch {
	case rawKeys[a.Key]:
		n := len(v.String())
		return slog.String(a.Key, fmt.Sprintf("(%d bytes not logged)", n))
	case v.Kind() == slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, x := range g {
			red[i] = redactAttr(x)
		}
		return slog.Group(a.Key, red...)
	case v.Kind() == slog.KindString:
		return slog.String(a.Key, redactText(v.String()))
	case v.Kind() == slog.KindAny:
		// errors, Stringers, structs: their text.
		return slog.String(a.Key, redactText(fmt.Sprint(v.Any())))
	}
	return slog.Attr{Key: a.Key, Value: v}
}
