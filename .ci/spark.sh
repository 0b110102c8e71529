#!/usr/bin/env bash
# Make sure a Java runtime is there for the Spark tests (pyspark starts a JVM; Spark 4 needs
# Java 17 or newer). Installs Debian's default-jre-headless as root when `java` is missing and
# prints the version found. Exits 1 when there is no usable Java and none can be installed:
# the Spark tests then skip and say why.
set -euo pipefail
if ! command -v java >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    # Slim images lack the man folder the JRE's post-install step writes a link into.
    mkdir -p /usr/share/man/man1
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      default-jre-headless) >/dev/null
  else
    echo "java is not installed and cannot be installed without root" >&2
    exit 1
  fi
fi
VERSION="$(java -version 2>&1 | head -n 1)"
MAJOR="$(echo "$VERSION" | sed -E 's/.*version "([0-9]+).*/\1/')"
if [ "${MAJOR:-0}" -lt 17 ] 2>/dev/null; then
  echo "Spark 4 needs Java 17 or newer; found: $VERSION" >&2
  exit 1
fi
echo "$VERSION"
