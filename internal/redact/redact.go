// Package redact removes credentials from text before dr prints or logs
// it. Remote strings carry them (rclone connection strings such as
// :webdav,url='http://bob:PASSWORD@host',pass=OBSCURED: or
// :s3,access_key_id=…,secret_access_key=…:bucket), and so do the errors
// and log lines that quote a remote; an obscured rclone password is only
// encoded, not encrypted, so it is a credential too.
//
// String is the one redactor: every remote, URL, error text and log value
// that leaves dr goes through it (storage keeps a redacted form of each
// remote, cmd/dr wraps its output streams and its log handler).
package redact

import (
	"regexp"
	"strings"
)

// Marker replaces every credential.
const Marker = "<redacted>"

// sensitiveKey is a parameter name that holds a credential: rclone's pass,
// password, password2, secret_access_key, access_key_id, key, sse_*_key,
// token, client_secret, bearer_token, sas_url, service_account_credentials,
// headers (which can carry "Authorization,Bearer …"), and the query
// parameters of webhook URLs (token=, sig=, signature=, api_key=). It
// errs on the side of hiding: a path behind key_file= is hidden too.
const sensitiveKey = `[A-Za-z0-9_.-]*(?i:pass|secret|token|key|credential|sas_url|header|bearer|cookie|signature|sig|auth)[A-Za-z0-9_.-]*`

// value is a parameter's value; see param.
const value = `\\"(?:[^"\\]|\\[^"])*(?:\\"|$)|'(?:[^']|'')*(?:'|$)|"(?:[^"]|"")*(?:"|$)|[^,:&\s'"\\]*`

var (
	// param is key=value as rclone connection strings, URL queries and
	// command lines write it. A value is single- or double-quoted (a
	// doubled quote is a literal one, as in rclone) or runs to the next
	// ',', ':', '&', white space or quote. An unterminated quote runs to
	// the end, so that text rclone failed to parse is still hidden. A
	// value in JSON-escaped quotes (\"…\") is one value too, so that
	// redacting JSON output never splits an escape.
	param = regexp.MustCompile(`(^|[^A-Za-z0-9_.-])(` + sensitiveKey + `)=(` + value + `)`)
	// userinfo is scheme://user:password@ in a URL; the user name stays,
	// so an operator can still tell which account is meant. The password
	// runs to the last "@" before white space or a quote: operators do not
	// always percent-encode a "/" or "@" in it. That hides a path in the
	// rare URL with an "@" after it, which is the safe mistake.
	userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/@\s:'"]*):[^\s'"]*@`)
	// flag is --password VALUE or --token=VALUE on a command line. Its
	// names are fewer than sensitiveKey's: a flag without a value
	// (--signal, --hex-blob) must not hide the word after it.
	flag = regexp.MustCompile(`(^|[\s'"])(--?[A-Za-z0-9_-]*(?i:pass|secret|token|credential|api-?key)[A-Za-z0-9_-]*)(\s+|=)('(?:[^']|'')*(?:'|$)|"(?:[^"]|"")*(?:"|$)|[^\s'"]+)`)
)

// String returns s with every credential it recognises replaced by
// Marker: URL passwords, the values of sensitive key=value parameters
// (rclone connection strings, URL queries) and of sensitive command-line
// flags. Applied twice it changes nothing more.
func String(s string) string {
	if !strings.ContainsAny(s, "=@-") {
		return s // the common case: nothing that could hold a credential
	}
	s = userinfo.ReplaceAllString(s, "${1}:"+Marker+"@")
	s = flag.ReplaceAllStringFunc(s, func(m string) string {
		sub := flag.FindStringSubmatch(m)
		if sub[4] == Marker {
			return m
		}
		return sub[1] + sub[2] + sub[3] + Marker
	})
	s = param.ReplaceAllString(s, "${1}${2}="+Marker)
	return s
}

// Error wraps err so that its text is redacted; errors.Is and errors.As
// still see the original.
func Error(err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{err: err}
}

type redactedError struct{ err error }

func (e *redactedError) Error() string { return String(e.err.Error()) }
func (e *redactedError) Unwrap() error { return e.err }
