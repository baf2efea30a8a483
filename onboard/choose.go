package onboard

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Choose asks which of several projects to protect: it lists them
// numbered on out and reads a number or a name from in. An empty answer or
// end of input is an error; a wrong answer is asked again, three times.
func Choose(in io.Reader, out io.Writer, projects []string) (string, error) {
	fmt.Fprintln(out, "Several compose projects run a MariaDB/MySQL service:")
	for i, p := range projects {
		fmt.Fprintf(out, "  %d) %s\n", i+1, p)
	}
	rd := bufio.NewReader(in)
	for range 3 {
		fmt.Fprintf(out, "Which one does dr protect? [1-%d or name]: ", len(projects))
		line, err := rd.ReadString('\n')
		answer := strings.TrimSpace(line)
		if answer == "" {
			if err != nil {
				return "", fmt.Errorf("no project chosen; run again with --project NAME (%s)", strings.Join(projects, ", "))
			}
			continue
		}
		if n, convErr := strconv.Atoi(answer); convErr == nil && n >= 1 && n <= len(projects) {
			return projects[n-1], nil
		}
		if slices.Contains(projects, answer) {
			return answer, nil
		}
		fmt.Fprintf(out, "%q is not one of them.\n", answer)
		if err != nil {
			break
		}
	}
	return "", fmt.Errorf("no project chosen; run again with --project NAME (%s)", strings.Join(projects, ", "))
}
