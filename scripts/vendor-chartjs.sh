#!/bin/sh
# Vendor Chart.js for the dashboard's statistics page: installs the version pinned (with
# its integrity hash) in webhook_app/dashboard/static/vendor/package-lock.json and copies
# the minified UMD build (unchanged) and its licence under static/vendor/chart.js/, which are
# committed: the service never needs npm at run time, and no page loads a CDN.
set -eu
vendor="$(dirname "$0")/../webhook_app/dashboard/static/vendor"
cd "$vendor"
npm ci --ignore-scripts --no-audit --no-fund
mkdir -p chart.js
cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/LICENSE.md chart.js/
rm -rf node_modules
echo "Chart.js $(node -p "require('./package-lock.json').packages['node_modules/chart.js'].version") vendored in $vendor/chart.js"
