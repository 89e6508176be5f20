# Sourced by ./vnetd, bench/run.sh and .ci/run: sets JAVA_HOME to a JDK 25 or newer.
# Order: $JAVA_HOME, the java on PATH, then /usr/lib/jvm/* (newest first).

vnetd_java_feature() { # prints the feature release of the java at $1/bin/java, or nothing
    [ -x "$1/bin/java" ] || return 0
    "$1/bin/java" -XshowSettings:properties -version 2>&1 \
        | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

vnetd_find_jdk() {
    local candidate feature
    local candidates=()
    [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
    if command -v javac >/dev/null 2>&1; then
        candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")")
    fi
    for candidate in $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV); do
        candidates+=("${candidate%/}")
    done
    for candidate in "${candidates[@]}"; do
        [ -x "$candidate/bin/javac" ] || continue
        feature=$(vnetd_java_feature "$candidate")
        if [ -n "$feature" ] && [ "$feature" -ge 25 ]; then
            export JAVA_HOME="$candidate"
            export PATH="$JAVA_HOME/bin:$PATH"
            return 0
        fi
    done
    echo "vnetd: no JDK 25 or newer found (looked at \$JAVA_HOME, PATH and /usr/lib/jvm)." >&2
    echo "vnetd: install one (e.g. apt-get install openjdk-25-jdk-headless) or set JAVA_HOME." >&2
    return 1
}
