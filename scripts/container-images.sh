#!/usr/bin/env bash
# Makes sure the base images that compose.yaml and the Dockerfiles name are on this Docker host. Each is pulled from
# its registry; where no registry can be reached (as on this project's build machines), a local stand-in is built from
# Debian's packages under the same name and tag, from the recipes in scripts/container-images/:
#
#   debian:bookworm-slim                 debootstrap --variant=minbase, trimmed like the official slim image
#   postgres:15                          Debian's postgresql-15, with an entrypoint for POSTGRES_USER/PASSWORD/DB
#   rabbitmq:3.13-management             Debian's rabbitmq-server (3.10) with the management plugin
#   mcr.microsoft.com/dotnet/aspnet:10.0 Debian 12 with this machine's .NET and ASP.NET Core runtimes
#   mcr.microsoft.com/dotnet/sdk:10.0    the same with this machine's .NET SDK
#
#   scripts/container-images.sh              pull or build what is missing or was built from an older recipe
#   scripts/container-images.sh --standins   build stand-ins without trying the registries
#   scripts/container-images.sh --list       the image names, one a line
#   scripts/container-images.sh --remove     remove the stand-ins (never an image that was pulled)
#
# A stand-in carries the label org.squeezenext.standin (the hash of its recipe); an image without it was pulled and is
# left alone. Needs root (debootstrap) and a running Docker engine. Settings: SQNXT_DEBIAN_MIRROR,
# SQNXT_DEBIAN_SECURITY_MIRROR (default: Debian's own, over HTTP as apt uses them here).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
recipes="$root/scripts/container-images"
label=org.squeezenext.standin
mirror="${SQNXT_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security_mirror="${SQNXT_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
# The .NET images carry the version the product Dockerfiles build on (their DOTNET_VERSION default).
dotnet_version="$(sed -nE 's/^ARG DOTNET_VERSION=([0-9.]+)$/\1/p' "$root/WorkerHost/Dockerfile" | head -1)"

# Name, recipe folder; in build order (each stand-in builds on the ones above it).
images=(
  "debian:bookworm-slim debian"
  "postgres:15 postgres"
  "rabbitmq:3.13-management rabbitmq"
  "mcr.microsoft.com/dotnet/aspnet:$dotnet_version aspnet"
  "mcr.microsoft.com/dotnet/sdk:$dotnet_version sdk"
)

log() { echo "container-images: $*"; }

# The recipe's hash: its folder, this script, and for the .NET images the host's .NET they copy.
recipe_hash() {
  local recipe="$1"
  {
    (cd "$recipes" && find "$recipe" -type f -print0 | sort -z | xargs -0 sha256sum)
    sha256sum "${BASH_SOURCE[0]}"
    case "$recipe" in aspnet|sdk) dotnet --list-sdks; dotnet --list-runtimes ;; esac
  } | sha256sum | cut -c1-16
}

# Prints the image's stand-in label: empty for a pulled image, "missing" when there is no such image.
standin_of() {
  if docker image inspect "$1" >/dev/null 2>&1; then
    docker image inspect --format "{{ index .Config.Labels \"$label\" }}" "$1"
  else
    echo missing
  fi
}

# The classic builder's deprecation notice is noise here: this engine has no BuildKit (docs/deployment.md).
quiet_build() { docker build -q "$@" 2> >(grep -v -E '^(DEPRECATED: The legacy builder|  +Install the buildx|  +https://docs.docker.com/go/buildx|$)' >&2) >/dev/null; }

# Copies this machine's .NET (runtimes only, or the whole SDK) into a build context.
stage_dotnet() {
  local context="$1" what="$2" dotnet_root
  dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
  local runtime
  runtime="$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" { print $2 }' | sort -V | tail -1)"
  case "$runtime" in
    "$dotnet_version".*) ;;
    *) log "this machine's .NET runtime is $runtime; the Dockerfiles build on $dotnet_version"; return 1 ;;
  esac
  mkdir -p "$context/dotnet/shared"
  if [ "$what" = runtime ]; then
    cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$context/dotnet/"
    cp -a "$dotnet_root"/LICENSE.txt "$dotnet_root"/ThirdPartyNotices.txt "$context/dotnet/" 2>/dev/null || true
    for framework in Microsoft.NETCore.App Microsoft.AspNetCore.App; do
      mkdir -p "$context/dotnet/shared/$framework"
      cp -a "$dotnet_root/shared/$framework/$runtime" "$context/dotnet/shared/$framework/"
    done
  else
    # The runtimes are in the ASP.NET stand-in already.
    for part in sdk packs sdk-manifests templates; do
      [ -d "$dotnet_root/$part" ] && cp -a "$dotnet_root/$part" "$context/dotnet/"
    done
  fi
}

build_standin() {
  local image="$1" recipe="$2" hash context previous
  hash="$(recipe_hash "$recipe")"
  previous="$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
  context="$work/$recipe"
  mkdir -p "$context"
  local started=$SECONDS
  case "$recipe" in
    debian)
      command -v debootstrap >/dev/null || { log "debootstrap is not installed (apt-get install debootstrap)"; return 1; }
      debootstrap --variant=minbase bookworm "$context/root" "$mirror" >"$context/debootstrap.log" 2>&1 \
        || { tail -20 "$context/debootstrap.log"; log "debootstrap failed"; return 1; }
      cp "$recipes/debian/slim.sh" "$context/root/tmp/slim.sh"
      chroot "$context/root" /bin/sh /tmp/slim.sh "$mirror" "$security_mirror"
      rm -f "$context/root/tmp/slim.sh"
      tar -C "$context/root" -c . | docker import \
        --change "CMD [\"bash\"]" --change "LABEL $label=$hash" - "$image" >/dev/null
      ;;
    aspnet | sdk)
      cp -a "$recipes/$recipe/." "$context/"
      stage_dotnet "$context" "$([ "$recipe" = aspnet ] && echo runtime || echo sdk)"
      quiet_build --label "$label=$hash" -t "$image" "$context"
      ;;
    *)
      quiet_build --label "$label=$hash" -t "$image" "$recipes/$recipe"
      ;;
  esac
  # The stand-in this one replaces, unless another image still builds on it.
  if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect --format '{{.Id}}' "$image")" ]; then
    docker image rm "$previous" >/dev/null 2>&1 || true
  fi
  log "built stand-in $image in $((SECONDS - started)) s ($(docker image inspect --format '{{.Size}}' "$image" | awk '{ printf "%d MB", $1 / 1e6 }'))"
}

ensure() {
  local image="$1" recipe="$2" pull="$3" current
  current="$(standin_of "$image")"
  if [ "$current" = "$(recipe_hash "$recipe")" ]; then return 0; fi
  if [ "$current" != missing ] && [ -n "$current" ]; then
    log "$image: rebuilding the stand-in (its recipe changed)"
  elif [ "$current" = missing ] && [ "$pull" = yes ] && docker pull -q "$image" >/dev/null 2>&1; then
    log "pulled $image"
    return 0
  elif [ "$current" != missing ]; then
    return 0 # pulled earlier: the real image
  fi
  build_standin "$image" "$recipe"
}

case "${1:-}" in
  --list)
    for entry in "${images[@]}"; do echo "${entry%% *}"; done
    ;;
  --remove)
    for ((i = ${#images[@]} - 1; i >= 0; i--)); do
      image="${images[$i]%% *}"
      current="$(standin_of "$image")"
      if [ "$current" != missing ] && [ -n "$current" ]; then docker image rm "$image" >/dev/null && log "removed $image"; fi
    done
    ;;
  "" | --standins)
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    docker info >/dev/null 2>&1 || { log "no Docker engine answers"; exit 1; }
    pull=yes
    [ "${1:-}" = --standins ] && pull=no
    for entry in "${images[@]}"; do ensure ${entry} "$pull"; done
    ;;
  *)
    sed -n '2,19p' "${BASH_SOURCE[0]}"
    exit 2
    ;;
esac
