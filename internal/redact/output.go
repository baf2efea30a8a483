package redact

import (
	"context"
	"fmt"
	"io"
	"log/slog"
)

// Writer redacts what passes through it to w. It redacts each Write on
// its own: dr writes a line, or a table cell, at a time, so a credential
// is never split across two writes.
type Writer struct{ w io.Writer }

// NewWriter wraps w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write writes p with its credentials redacted and reports len(p), so
// that callers see the write they made.
func (r *Writer) Write(p []byte) (int, error) {
	s := string(p)
	if out := String(s); out != s {
		if _, err := io.WriteString(r.w, out); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return r.w.Write(p)
}

// Unwrap is the writer underneath (to tell whether it is a terminal).
func (r *Writer) Unwrap() io.Writer { return r.w }

// Handler is a slog.Handler that redacts the message and every attribute
// value before the next handler formats them.
type Handler struct{ next slog.Handler }

// NewHandler wraps next.
func NewHandler(next slog.Handler) *Handler { return &Handler{next: next} }

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, String(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(Attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = Attr(a)
	}
	return &Handler{next: h.next.WithAttrs(red)}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name)}
}

// Attr redacts one attribute's value. Strings, errors and anything
// printed with fmt are redacted as text; a value whose text holds no
// credential is passed on as it was, so JSON logs keep their structure.
func Attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, String(v.String()))
	case slog.KindGroup:
		group := v.Group()
		red := make([]any, len(group))
		for i, g := range group {
			red[i] = Attr(g)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		var text string
		if err, ok := v.Any().(error); ok {
			text = err.Error()
		} else {
			text = fmt.Sprint(v.Any())
		}
		if red := String(text); red != text {
			return slog.String(a.Key, red)
		}
		if _, ok := v.Any().(error); ok {
			// An error as its text: some handlers print an error value's
			// fields, which are not redacted.
			return slog.String(a.Key, text)
		}
		return slog.Attr{Key: a.Key, Value: v}
	default:
		return slog.Attr{Key: a.Key, Value: v}
	}
}
