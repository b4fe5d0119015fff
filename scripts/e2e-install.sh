#!/usr/bin/env bash
# Installs the pinned n8n the end-to-end test runs against (test/e2e/n8n/package.json and its lockfile)
# into a cache folder outside the published package: .cache/n8n-e2e/ unless N8N_E2E_CACHE says otherwise.
#
# The first install takes a few minutes and about 1.8 GB (sqlite3 and isolated-vm compile from source,
# since their prebuilt binaries are downloaded from GitHub). Afterwards it is a no-op as long as the
# cache holds the same package.json, lockfile and Node ABI (hash stamp in <cache>/.e2e-install-stamp).
#
#   scripts/e2e-install.sh            install if needed, following the lockfile (see below why not npm ci)
#   scripts/e2e-install.sh --force    reinstall even when the stamp matches
#   scripts/e2e-install.sh --update-lock
#                                     re-resolve with npm install and copy the new lockfile back into
#                                     test/e2e/n8n/ (after changing the pinned version or the overrides)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
src="$root/test/e2e/n8n"
cache="${N8N_E2E_CACHE:-$root/.cache/n8n-e2e}"
stamp_file="$cache/.e2e-install-stamp"

force=0
update_lock=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --update-lock) update_lock=1; force=1 ;;
    *) echo "e2e-install: unknown argument $arg" >&2; exit 2 ;;
  esac
done

stamp() {
  {
    cat "$src/package.json"
    [ -f "$src/package-lock.json" ] && cat "$src/package-lock.json"
    [ -f "$src/.npmrc" ] && cat "$src/.npmrc"
    # Native modules are built for one Node ABI; a different Node means a rebuild.
    node -p 'process.platform + "-" + process.arch + "-modules" + process.versions.modules'
  } | sha256sum | cut -d' ' -f1
}

want=$(stamp)
if [ "$force" = 0 ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$want" ] \
  && [ -f "$cache/node_modules/n8n/bin/n8n" ]; then
  echo "e2e-install: n8n $(node -p "require('$cache/node_modules/n8n/package.json').version") already installed in $cache"
  exit 0
fi

# Under `npm run`, the root project's settings arrive as npm_config_* variables (legacy-peer-deps from the
# root .npmrc, the root as local prefix), and they would beat the cache folder's own .npmrc.
unset npm_config_legacy_peer_deps npm_config_local_prefix npm_config_prefix npm_config_workspace \
  npm_config_workspaces npm_config_include_workspace_root npm_config_global
# @scarf/scarf is denied in allowScripts; this also silences any other Scarf install analytics.
export SCARF_ANALYTICS=false

mkdir -p "$cache"
rm -f "$stamp_file"
cp "$src/package.json" "$cache/package.json"
if [ -f "$src/.npmrc" ]; then cp "$src/.npmrc" "$cache/.npmrc"; else rm -f "$cache/.npmrc"; fi
start=$(date +%s)
if [ "$update_lock" = 1 ] || [ ! -f "$src/package-lock.json" ]; then
  rm -f "$cache/package-lock.json"
  echo "e2e-install: npm install in $cache (no lockfile to follow)"
  (cd "$cache" && npm install --no-audit --no-fund --loglevel=warn)
  cp "$cache/package-lock.json" "$src/package-lock.json"
  echo "e2e-install: wrote test/e2e/n8n/package-lock.json"
  want=$(stamp)
else
  cp "$src/package-lock.json" "$cache/package-lock.json"
  # Not `npm ci`: the registry here answers 404 for some optional platform packages (e.g.
  # @msgpackr-extract/msgpackr-extract-darwin-arm64@3.0.7), so the lockfile lacks them and `npm ci`
  # refuses it as out of sync. `npm install` on a clean node_modules follows the lockfile's versions
  # just the same and skips the missing optional packages.
  echo "e2e-install: npm install in $cache, following test/e2e/n8n/package-lock.json"
  rm -rf "$cache/node_modules"
  (cd "$cache" && npm install --no-audit --no-fund --loglevel=warn)
fi
echo "$want" > "$stamp_file"
echo "e2e-install: n8n $(node -p "require('$cache/node_modules/n8n/package.json').version") installed in $(($(date +%s) - start)) s ($(du -sh "$cache" | cut -f1))"
