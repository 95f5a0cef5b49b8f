#!/usr/bin/env bash
# End-to-end test of the registry's public explorer in headless Chromium.
#
# Builds the release binary, creates a registry with the three example
# devices deposited (the home camera and the kids' smartwatch with their
# deliberate findings fixed, so they can be signed), files a deviation report
# on the smart meter and rules on it (its bond is forfeited), exports the
# explorer and the log tiles into one directory, serves it on a loopback
# port, and drives Chromium through Selenium: the index shows the three
# devices and their bonds, a click opens a device page whose map shows its
# nodes, countries and zones, nothing overflows a 390 px wide phone screen.
# Screenshots go to target/e2e/ (index.png, device.png, map.png,
# phone-index.png, phone-device.png, phone-map.png, report.png).
#
# Needs root for apt-get when /usr/bin/chromium or /usr/bin/chromedriver is
# missing (Debian's chromium and chromium-driver), and PyPI for selenium
# (installed into a temporary venv). Exit 0 when every check passed.
#
# Environment: E2E_OUT (screenshots; default target/e2e), E2E_KEEP=1 keeps
# the work directory, PAGE_SOURCE=serve (default) or static picks how the
# pages are served (see serve_pages).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${E2E_OUT:-$ROOT/target/e2e}
PAGE_SOURCE=${PAGE_SOURCE:-serve}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/blueprint-e2e.XXXXXX")
SERVER_PID=
T0=$(date +%s)

cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    if [ "${E2E_KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

phase() { echo "[e2e +$(($(date +%s) - T0))s] $*"; }

ensure_chromium() {
    if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
        return
    fi
    phase "installing chromium and chromium-driver with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends chromium chromium-driver; then
        apt-get update
        apt-get install -y --no-install-recommends chromium chromium-driver
    fi
}

ensure_selenium() {
    phase "creating a venv with selenium"
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/pip" install --quiet --disable-pip-version-check selenium
}

build() {
    phase "building the release binary"
    (cd "$ROOT" && cargo build --release --locked --quiet)
    BP="$ROOT/target/release/blueprint"
}

# The two examples with deliberate findings, fixed the way their `# finding:`
# comments say, so they can be signed and deposited.
fixed_camera() {
    sed -e '/^# finding: gdpr.transfer-mechanism/,/^storage_regions/ s/^storage_regions = \["US"\]$/storage_regions = []/' \
        -e '/^# finding: pipl.xborder-notice-consent/,/^consent/ s/^consent = { kind = "opt_in"/consent = { kind = "separate"/' \
        -e 's|^\[security.support_period\]$|[security.support_period]\npublished_url = "https://lumencam.example/support"|' \
        -e 's/^spi_categories = false$/spi_categories = true/' \
        "$ROOT/examples/home-camera.toml"
}

fixed_watch() {
    sed -e 's/^retention = { criteria = "Deleted 7 days after both sides/retention = { period_days = 30, criteria = "Deleted 7 days after both sides/' \
        -e '/^# finding: gdpr.child-consent and coppa.vpc/,/^consent/ s/parental = \[\], age_gate = false/parental = ["guardian", "parental_verifiable"], age_gate = true/' \
        "$ROOT/examples/kids-smartwatch.toml"
}

# Runs a command quietly; shows its output when it fails.
q() {
    if ! "$@" >"$WORK/cmd.log" 2>&1; then
        echo "failed: $*" >&2
        cat "$WORK/cmd.log" >&2
        return 1
    fi
}

make_registry() {
    phase "creating a registry with the three example devices"
    local w=$WORK/fx reg=$WORK/fx/reg report
    mkdir -p "$w"
    cd "$w"
    fixed_camera >camera.toml
    fixed_watch >watch.toml
    for k in meter-vendor camera-vendor watch-vendor lab-a lab-b; do q "$BP" keygen -o "$k"; done
    q "$BP" registry init "$reg" --origin registry.example/escrow --quorum 2 --window 14
    q "$BP" registry member add "$reg" --name lab-a --role lab --pubkey lab-a.pub
    q "$BP" registry member add "$reg" --name lab-b --role lab --pubkey lab-b.pub
    q "$BP" sign "$ROOT/examples/smart-meter.toml" --key meter-vendor.key -o meter.dsse.json
    q "$BP" sign camera.toml --key camera-vendor.key -o camera.dsse.json
    q "$BP" sign watch.toml --key watch-vendor.key -o watch.dsse.json
    q "$BP" sign "$ROOT/examples/smart-meter-v3.toml" --key meter-vendor.key -o meter-v3.dsse.json
    q "$BP" registry deposit "$reg" meter.dsse.json --pubkey meter-vendor.pub --bond 50000 EUR -o r1.json
    q "$BP" registry deposit "$reg" camera.dsse.json --pubkey camera-vendor.pub --bond 120000 USD -o r2.json
    q "$BP" registry deposit "$reg" watch.dsse.json --pubkey watch-vendor.pub --bond 80000 GBP -o r3.json
    q "$BP" registry deposit "$reg" meter-v3.dsse.json --bond 50000 EUR -o r4.json
    # exit 1: the loosened meter deviates from its blueprint (that is the point)
    "$BP" diff meter.dsse.json meter-v3.dsse.json --pubkey meter-vendor.pub --format json -o deviations.json 2>/dev/null || [ $? -eq 1 ]
    report=$("$BP" registry report "$reg" deviations.json --key lab-a.key \
        --blueprint-digest "$("$BP" hash "$ROOT/examples/smart-meter.toml")" \
        --evidence "$ROOT/examples/smart-meter-v3.toml" | head -1)
    q "$BP" registry cosign "$reg" "$report" --key lab-b.key
    q "$BP" registry rule "$reg" "$report" --now "$(date -u -d '+15 days' +%Y-%m-%dT%H:%M:%SZ)"
    REG=$reg
    cd "$ROOT"
}

# `blueprint report` of the home camera (as shipped, findings and all),
# opened from the file system whatever serves the registry's pages.
make_report() {
    q "$BP" report "$ROOT/examples/home-camera.toml" -o "$WORK/report.html"
    REPORT_URL="file://$WORK/report.html"
}

# The one place that decides where the pages come from: sets BASE_URL (the
# index is BASE_URL/, device pages are reached by clicking).
# serve: `blueprint serve` on the registry, on a free loopback port (the
# address it logs). static: `registry site` and `registry tiles` into one
# directory, served by Python's http.server on a free loopback port.
serve_pages() {
    local www=$WORK/www port
    case "$PAGE_SOURCE" in
    serve)
        RUST_LOG=warn "$BP" serve --registry "$REG" --addr 127.0.0.1:0 2>"$WORK/serve.log" &
        SERVER_PID=$!
        BASE_URL=
        for _ in $(seq 100); do
            BASE_URL=$(sed -n 's/.* on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$WORK/serve.log" | head -1)
            [ -n "$BASE_URL" ] && break
            sleep 0.1
        done
        if [ -z "$BASE_URL" ]; then
            echo "blueprint serve did not start:" >&2
            cat "$WORK/serve.log" >&2
            exit 1
        fi
        ;;
    static)
        q "$BP" registry site "$REG" --out "$www"
        q "$BP" registry tiles "$REG" --out "$www"
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        python3 -m http.server --bind 127.0.0.1 --directory "$www" "$port" >"$WORK/http.log" 2>&1 &
        SERVER_PID=$!
        BASE_URL="http://127.0.0.1:$port"
        ;;
    *)
        echo "unknown PAGE_SOURCE=$PAGE_SOURCE" >&2
        exit 2
        ;;
    esac
    for _ in $(seq 50); do
        if python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$BASE_URL/" 2>/dev/null; then
            return
        fi
        sleep 0.1
    done
    echo "the pages are not served at $BASE_URL" >&2
    exit 1
}

drive() {
    phase "driving headless Chromium at $BASE_URL"
    mkdir -p "$OUT"
    cat >"$WORK/drive.py" <<'PY'
import sys, tempfile
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, report_url, out = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []

def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)

opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--user-data-dir=" + tempfile.mkdtemp(prefix="chromium-"), "--window-size=1280,900"]:
    opts.add_argument(flag)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
wait = WebDriverWait(driver, 20)

def text():
    return driver.find_element(By.TAG_NAME, "body").text

def shoot(name, full=True):
    if full:
        h = driver.execute_script("return document.documentElement.scrollHeight")
        w = driver.execute_script("return window.innerWidth")
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": w, "height": min(h, 8000), "deviceScaleFactor": 1, "mobile": w < 500})
    driver.save_screenshot(f"{out}/{name}.png")
    print(f"     screenshot {out}/{name}.png")

def desktop():
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False})

def phone():
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})

def fits(what):
    sw = driver.execute_script("return document.documentElement.scrollWidth")
    iw = driver.execute_script("return window.innerWidth")
    check(sw <= 390 and iw == 390, f"{what}: nothing overflows 390 px (scrollWidth {sw}, innerWidth {iw})")

try:
    desktop()
    driver.get(base + "/")
    wait.until(lambda d: d.find_elements(By.TAG_NAME, "h1"))
    body = text()
    for device in ["Voltaris Metering GmbH EM5-G", "Lumen Home Technologies Ltd. HC-200", "Kidtrack B.V. K3"]:
        check(device in body, f"index lists {device}")
    for state in ["50000 EUR forfeited", "50000 EUR held", "120000 USD held", "80000 GBP held"]:
        check(state in body, f"index shows the bond '{state}'")
    check("forfeited" in body and "entry" in body, "index shows the ruling")
    check(len(driver.find_elements(By.TAG_NAME, "h1")) == 1, "index has one h1")
    shoot("index")
    desktop()
    link = driver.find_element(By.PARTIAL_LINK_TEXT, "HC-200")
    link.click()
    wait.until(lambda d: "HC-200" in d.find_element(By.TAG_NAME, "h1").text)
    check("/devices/" in driver.current_url, f"the click opened a device page ({driver.current_url})")
    body = text()
    svg_text = [t.text for t in driver.find_elements(By.CSS_SELECTOR, "svg.flow text")]
    for node in ["cam", "video_eu", "DE", "US", "CN", "European Economic Area", "Mainland China", "United States"]:
        check(node in svg_text, f"the map shows {node}")
    check(driver.find_element(By.CSS_SELECTOR, "svg.flow").is_displayed(), "the map is displayed")
    check("120000 USD held" in body, "the device page shows the bond state")
    check("DE (European Economic Area)" in body, "the map in words names the countries and zones")
    check("passes" in body, "the device page shows the profiles it passes")
    check(len(driver.find_elements(By.TAG_NAME, "h1")) == 1, "the device page has one h1")
    shoot("device")
    figure = driver.find_element(By.TAG_NAME, "figure")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1280, "height": figure.rect["height"] + 40, "deviceScaleFactor": 1, "mobile": False})
    driver.execute_script("arguments[0].scrollIntoView()", figure)
    figure.screenshot(f"{out}/map.png")
    print(f"     screenshot {out}/map.png")
    device_url = driver.current_url
    phone()
    driver.get(base + "/")
    wait.until(lambda d: d.find_elements(By.TAG_NAME, "h1"))
    fits("index")
    right = driver.execute_script("return document.querySelector('.bond').getBoundingClientRect().right")
    check(right <= 390, f"on a phone the first bond state is on screen without scrolling (right edge {right:.0f})")
    shoot("phone-index", full=False)
    phone()
    driver.get(device_url)
    wait.until(lambda d: d.find_elements(By.TAG_NAME, "h1"))
    fits("device page")
    shoot("phone-device", full=False)
    driver.execute_script("document.querySelector('figure').scrollIntoView()")
    shoot("phone-map", full=False)
    desktop()
    driver.get(report_url)
    wait.until(lambda d: d.find_elements(By.TAG_NAME, "h1"))
    check("HC-200" in text(), "report.html of the home camera renders")
    shoot("report")
finally:
    driver.quit()

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
PY
    SE_OFFLINE=true SE_AVOID_STATS=true "$WORK/venv/bin/python" "$WORK/drive.py" "$BASE_URL" "$REPORT_URL" "$OUT"
}

ensure_chromium
ensure_selenium
build
make_registry
make_report
serve_pages
drive
phase "done in $(($(date +%s) - T0)) s"
