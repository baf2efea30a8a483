# Sourced by the test image builds: apt_mirror prints the first mirror and
# suite named in the machine's apt sources, deb822 or one-line format
# (read at run time: no mirror's host is written into the repo).
apt_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    awk '/^URIs:/{u=$2} /^Suites:/{s=$2} u&&s&&u!~/security/{print u, s; exit}' "$f"
  done
  if [[ -f /etc/apt/sources.list ]]; then
    awk '$1=="deb" && $0!~/security/ {for(i=2;i<=NF;i++) if ($i ~ /^(https?|file):/) {print $i, $(i+1); exit}}' /etc/apt/sources.list
  fi
}
