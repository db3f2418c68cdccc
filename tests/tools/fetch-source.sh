#!/usr/bin/env bash
# fetch-source.sh PKG DIR MARKER... - unpacks Debian's source package PKG outside the
# repository (into DIR) and prints the path of its source tree: the folder DIR/PKG-*/ that
# holds every MARKER file.
#
# The machine's own apt sources are read, never changed: their Debian entries are copied as
# deb-src entries into a private apt folder (DIR/.apt) that has its own package lists and
# cache, and `apt-get source` runs against that. Nothing of the package is kept in the
# repository: the builds compile the files they need straight from DIR.
#
# Exit status 0 with the path on stdout; 1 (with the reason on stderr) when the source
# cannot be obtained. Progress goes to stderr. Needs apt-get and dpkg-source (dpkg-dev).
set -u
pkg=$1
dest=$2
shift 2
markers=("$@")
mkdir -p "$dest" 2>/dev/null || { dest=/tmp/wamp1-$pkg-src; mkdir -p "$dest"; }
dest=$(cd "$dest" && pwd)

find_tree() {
  local d
  local d m ok
  for d in "$dest"/"$pkg"-*/; do
    ok=1
    for m in "${markers[@]}"; do [ -f "$d/$m" ] || ok=0; done
    [ $ok = 1 ] && { echo "${d%/}"; return 0; }
  done
  return 1
}
if tree=$(find_tree); then echo "$tree"; exit 0; fi

log() { echo "fetch-source $pkg: $*" >&2; }
command -v apt-get >/dev/null || { log "no apt-get on this machine"; exit 1; }
if ! command -v dpkg-source >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    log "installing dpkg-dev (for dpkg-source)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dpkg-dev >&2 ||
      { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dpkg-dev >&2; }
  fi
  command -v dpkg-source >/dev/null || { log "dpkg-source (package dpkg-dev) is missing"; exit 1; }
fi

apt=$dest/.apt
rm -rf "$apt"
mkdir -p "$apt/sources.list.d" "$apt/lists/partial" "$apt/cache/archives/partial"
: >"$apt/sources.list"

# Copy the system's Debian entries as deb-src entries, both one-line and deb822 styles.
etc=$(apt-config shell E Dir::Etc | sed -E "s/^E='(.*)'$/\1/")
etc=/${etc#/}
parts=$(apt-config shell P Dir::Etc::sourceparts | sed -E "s/^P='(.*)'$/\1/")
list=$(apt-config shell L Dir::Etc::sourcelist | sed -E "s/^L='(.*)'$/\1/")
case $parts in /*) ;; *) parts=$etc/$parts ;; esac
case $list in /*) ;; *) list=$etc/$list ;; esac
n=0
if [ -f "$list" ]; then
  grep -E '^[[:space:]]*deb[[:space:]]' "$list" | grep -i 'debian' |
    sed -E 's/^[[:space:]]*deb[[:space:]]/deb-src /' >>"$apt/sources.list"
fi
for f in "$parts"/*.list; do
  [ -f "$f" ] || continue
  grep -E '^[[:space:]]*deb[[:space:]]' "$f" | grep -i 'debian' |
    sed -E 's/^[[:space:]]*deb[[:space:]]/deb-src /' >>"$apt/sources.list"
done
for f in "$parts"/*.sources; do
  [ -f "$f" ] || continue
  # one stanza per paragraph; keep those that are enabled, of Types deb, on a Debian archive
  awk -v RS= -v ORS='\n\n' '
    /(^|\n)Types:[^\n]*deb([ \t]|\n|$)/ && /(^|\n)URIs:[^\n]*debian/ && !/(^|\n)Enabled:[ \t]*no/ {
      n = split($0, L, "\n"); out = ""
      for (i = 1; i <= n; i++) {
        if (L[i] ~ /^#/) continue
        if (L[i] ~ /^Types:/) L[i] = "Types: deb-src"
        out = out L[i] "\n"
      }
      printf "%s\n", out
    }' "$f" >"$apt/sources.list.d/deb-src-$((n += 1)).sources"
done
if ! grep -qs 'deb-src' "$apt/sources.list" "$apt"/sources.list.d/*.sources; then
  log "no Debian entry in the apt sources of this machine"
  exit 1
fi

opts=(-o "Dir::Etc::sourcelist=$apt/sources.list" -o "Dir::Etc::sourceparts=$apt/sources.list.d"
      -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
      -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
      -o "APT::Sandbox::User=root" -o "Debug::NoLocking=1" -q)
log "apt-get update (private lists in $apt)"
if ! apt-get "${opts[@]}" update >"$apt/update.log" 2>&1; then
  log "apt-get update failed (see $apt/update.log)"
  tail -n 5 "$apt/update.log" >&2
  exit 1
fi
log "apt-get source $pkg into $dest"
if ! (cd "$dest" && apt-get "${opts[@]}" source "$pkg") >"$apt/source.log" 2>&1; then
  log "apt-get source $pkg failed (see $apt/source.log)"
  tail -n 5 "$apt/source.log" >&2
  exit 1
fi
if tree=$(find_tree); then echo "$tree"; exit 0; fi
log "the source package did not unpack into $dest/$pkg-*"
exit 1
