#!/usr/bin/env bash
# `greenml report` end to end on study databases built by
# tests/fixtures/make_study_db.py (schema from the real binary): the files of
# every figure, a self-contained HTML page that headless Chromium loads
# without console errors and whose figures all have drawn SVG, numbers that
# agree with the database, the omission sentences (one batch size, no GPU),
# several hosts, --run, and the exit codes of bad input; then a database
# written by a real `greenml bench` (fake GPU through the fake NVML), whose
# figures and tables must hold that bench's numbers, and which reading
# (runs, report) leaves byte for byte as it was.
# usage: report_scenarios.sh GREENML FIXTURES_DIR ARTEFACTS_DIR [FAKE_NVML]
set -u
GM=$(readlink -f "$1")
FIX=$(readlink -f "$2")
mkdir -p "$3"
ART=$(readlink -f "$3")
FAKE_NVML=${4:+$(readlink -f "$4")}
. "$(dirname "$0")/lib.sh"
workdir
check_py() { py_check "$@"; }
# Figures of an HTML file: {id: number of drawn path/polyline elements}.
FIGS='
class Figs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.figs, self.cur, self.depth = {}, None, 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "figure":
            self.cur, self.depth = a.get("id"), 0
            self.figs[self.cur] = 0
        if self.cur and tag in ("path", "polyline"):
            self.figs[self.cur] += 1
    def handle_endtag(self, tag):
        if tag == "figure":
            self.cur = None
def figures(text):
    p = Figs()
    p.feed(text)
    return p.figs
'
chromium_bin=$(command -v chromium || command -v chromium-browser || true)
# chrome OUT_PREFIX HTML: a screenshot (OUT_PREFIX.png), the console on
# stderr (OUT_PREFIX.log) and the DOM after loading (OUT_PREFIX.dom).
chrome() {
  local flags=(--headless --no-sandbox --disable-gpu --no-first-run
    --user-data-dir="$work/chrome" --hide-scrollbars)
  timeout 180 "$chromium_bin" "${flags[@]}" --window-size=1280,4000 \
    --screenshot="$1.png" --enable-logging=stderr --v=0 "file://$2" \
    >/dev/null 2>"$1.log"
  timeout 180 "$chromium_bin" "${flags[@]}" --dump-dom "file://$2" \
    >"$1.dom" 2>/dev/null
}

# ---- 1. the study: 16 models, a GPU, a batch-size sweep ---------------------
python3 "$FIX/make_study_db.py" "$GM" study.db >fixture.out 2>&1
check "1: the fixture builds (schema from 'greenml measure')" "[ -s study.db ]" \
  "$(cat fixture.out)"
"$GM" report --db study.db --out report.html --region FR --price 0.25 \
  >r1.out 2>r1.err
rc=$?
check "1: report exits 0" "[ $rc -eq 0 ]" "exit $rc: $(cat r1.err)"
check "1: nothing on stderr" "[ ! -s r1.err ]" "$(cat r1.err)"
check "1: says which benches it used" \
  "grep -q '^benches: study (id 1), sweep (id 2) (every complete bench)' r1.out" \
  "$(cat r1.out)"
check "1: six figures drawn, in report-figures" \
  "grep -q '^figures: 6 drawn in report-figures' r1.out" "$(cat r1.out)"
missing=""
for n in 2 3 4 5 6 7; do
  for ext in gp svg png pdf; do
    [ -s "report-figures/fig$n.$ext" ] || missing="$missing fig$n.$ext"
  done
  ls report-figures/fig$n*.dat >/dev/null 2>&1 || missing="$missing fig$n*.dat"
done
check "1: every figure's .gp, .svg, .png, .pdf and data" "[ -z \"$missing\" ]" \
  "missing:$missing"
check_py "1: PNG and PDF files are what they say" '
import glob
for f in glob.glob(args[0] + "/*.png"):
    want(open(f, "rb").read(8) == b"\x89PNG\r\n\x1a\n", f)
for f in glob.glob(args[0] + "/*.pdf"):
    want(open(f, "rb").read(5) == b"%PDF-", f)
' report-figures
check_py "1: data files carry units and provenance" '
d = args[0]
h = open(d + "/fig3-train.dat").read()
want("cpu_w (modelled)" in h and "gpu_w (measured counter)" in h, "fig3 header: " + h[:200])
want("energy_kJ" in open(d + "/fig6-train.dat").read(), "fig6 energy unit")
want(len(open(d + "/fig2.dat").read().splitlines()) == 2 + 16, "fig2 rows")
' report-figures
check "1: a script re-draws its figure in the figures' directory" \
  "(cd report-figures && rm fig2.svg fig2.png fig2.pdf && gnuplot fig2.gp 2>&1 && [ -s fig2.svg ] && [ -s fig2.png ] && [ -s fig2.pdf ])"
check_py "1: HTML has Figs. 2-7 inline, drawn, and nothing external" "$FIGS"'
t = open(args[0], encoding="utf-8").read()
figs = figures(t)
want(sorted(figs) == ["fig%d" % n for n in range(2, 8)], "figures %r" % sorted(figs))
for k, v in figs.items():
    want(v >= 5, "%s has %d paths" % (k, v))
want("omitted" not in re.sub(r"<style>.*?</style>", "", t, flags=re.S), "something omitted")
for pat in [r"https?:", r"<script", r"<link", r"<img", r"<iframe", r"@import",
            r"\bsrc\s*=", r"href\s*=\s*[\"\x27](?!#)", r"url\((?!#)"]:
    m = re.search(pat, t, re.I)
    want(not m, "external reference %r: %r" % (pat, t[m.start() - 40:m.end() + 40] if m else ""))
ids = re.findall(r"\sid=[\"\x27]([^\"\x27]+)[\"\x27]", t)
dups = {i for i in ids if ids.count(i) > 1}
want(not dups, "duplicate ids %r" % sorted(dups)[:5])
' report.html
check_py "1: provenance on figures and table columns, carbon source, cost" '
t = open(args[0], encoding="utf-8").read()
for s in ["<th>CPU (modelled)</th>", "<th>DRAM (modelled)</th>",
          "<th>GPU (measured counter)</th>", "GPU (measured counter)",
          "region FR", "<th>Cost (EUR)</th>", "EUR</td>", "gCO2e</td>",
          "Spearman ρ", "Pearson r", "95 % prediction band"]:
    want(s in t, "missing %r" % s)
svg3 = t[t.index("<figure id=\"fig3\""):]
svg3 = svg3[:svg3.index("</figure>")]
want("CPU (modelled)" in svg3 and "GPU (measured counter)" in svg3, "fig3 legend without provenance")
want(t.count("<tr><td>") >= 2 + 16 + 16 + 3, "table rows")
' report.html
check_py "1: the energy table agrees with the database" '
t = open(args[1], encoding="utf-8").read()
db = sqlite3.connect(args[0])
gross, net = db.execute("SELECT SUM(energy_j), SUM(net_energy_j) FROM bench_phases WHERE bench_id = 1 AND batch_size = 128").fetchone()
row = re.search(r"<tr class=\"total\"><td>All models</td>(.*?)</tr>", t).group(1)
cells = re.findall(r"<td class=\"num\">([-0-9.]+) (J|kJ|MJ)</td>", row)
val = lambda c: float(c[0]) * {"J": 1, "kJ": 1e3, "MJ": 1e6}[c[1]]
want(len(cells) >= 9, "total row %r" % row)
if len(cells) >= 9:
    want(abs(val(cells[7]) - gross) <= 0.006e3 + 1e-6 * gross, "gross %r vs %r" % (cells[7], gross))
    want(abs(val(cells[8]) - net) <= 0.006e3 + 1e-6 * net, "net %r vs %r" % (cells[8], net))
    parts = sum(val(c) for c in cells[4:7])
    want(abs(parts - gross) <= 0.02e3, "parts %r vs gross %r" % (parts, gross))
carbon = float(re.search(r"([0-9.]+) gCO2e</td>", row).group(1))
m = re.search(r"at ([0-9.]+) gCO2e/kWh", t)
want(m and abs(carbon - gross / 3.6e6 * float(m.group(1))) < 0.06, "carbon %r" % carbon)
' study.db report.html
check_py "1: Fig. 6 Spearman rho agrees with the database" '
t = open(args[1], encoding="utf-8").read()
db = sqlite3.connect(args[0])
rows = db.execute("SELECT m.macs_per_param, SUM(p.net_energy_j) FROM bench_models m JOIN bench_phases p ON p.bench_id = m.bench_id AND p.model = m.model WHERE m.bench_id = 1 AND p.kind = \"train\" GROUP BY m.model").fetchall()
def ranks(v):
    s = sorted(v)
    return [s.index(x) + (s.count(x) - 1) / 2 for x in v]
rx, ry = ranks([r[0] for r in rows]), ranks([r[1] for r in rows])
n = len(rows)
mx, my = sum(rx) / n, sum(ry) / n
rho = sum((a - mx) * (b - my) for a, b in zip(rx, ry)) / math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))
cap = t[t.index("<figure id=\"fig6\""):]
m = re.search(r"Training: Spearman ρ = (-?[0-9.]+)", cap)
want(m and abs(float(m.group(1)) - rho) < 0.006, "caption %r, computed %.3f" % (m and m.group(1), rho))
' study.db report.html

# headless Chromium: loads offline, no console errors, every figure drawn
if [ -z "$chromium_bin" ]; then
  not_ok "1: chromium is installed (scripts/deps.sh installs it)"
else
  chrome shot "$work/report.html"
  check "1: Chromium logs no console message" "! grep -q 'CONSOLE' shot.log" \
    "$(grep CONSOLE shot.log | head -3)"
  check_py "1: Chromium's DOM has every figure with drawn SVG" "$FIGS"'
figs = figures(open(args[0], encoding="utf-8").read())
want(sorted(figs) == ["fig%d" % n for n in range(2, 8)], "figures %r" % sorted(figs))
for k, v in figs.items():
    want(v >= 5, "%s has %d paths in the DOM" % (k, v))
' shot.dom
  cp shot.png "$ART/report.png" 2>/dev/null
  check_py "1: the screenshot is a non-trivial 1280x4000 PNG ($ART/report.png)" '
b = open(args[0], "rb").read()
want(b[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG")
w, h, depth, colour = struct.unpack(">IIBB", b[16:26])
want((w, h) == (1280, 4000), "size %dx%d" % (w, h))
want(len(b) > 100000, "only %d bytes" % len(b))
idat, i = b"", 8
while i < len(b):
    n, kind = struct.unpack(">I4s", b[i:i + 8])
    if kind == b"IDAT":
        idat += b[i + 8:i + 8 + n]
    i += 12 + n
raw = zlib.decompress(idat)
want(len(set(raw[::97])) > 64, "%d distinct values: a blank page?" % len(set(raw[::97])))
' "$ART/report.png"
fi

# ---- 2. one batch size, no GPU: omissions said, never an empty chart --------
python3 "$FIX/make_study_db.py" "$GM" cpu.db --single-batch --no-gpu \
  >fixture2.out 2>&1
"$GM" report --db cpu.db --out cpu.html >r2.out 2>r2.err
rc=$?
check "2: report exits 0" "[ $rc -eq 0 ]" "exit $rc: $(cat r2.err)"
check "2: stdout says Fig. 7 is omitted and why" \
  "grep -q '^omitted: Fig. 7 is omitted: only one batch size (128) was measured' r2.out" \
  "$(cat r2.out)"
check "2: no Fig. 7 files" "! ls cpu-figures/fig7* >/dev/null 2>&1"
check_py "2: the page says what is left out and why" "$FIGS"'
t = open(args[0], encoding="utf-8").read()
figs = figures(t)
want(sorted(figs) == ["fig%d" % n for n in range(2, 7)], "figures %r" % sorted(figs))
for k, v in figs.items():
    want(v >= 5, "%s has %d paths" % (k, v))
want(re.search(r"id=\"fig7-omitted\">Fig\. 7 is omitted: only one batch size \(128\) was measured", t), "fig7 sentence")
for n in (3, 4):
    cap = t[t.index("<figure id=\"fig%d\"" % n):]
    cap = cap[:cap.index("</figure>")]
    want("no GPU was measured" in cap, "fig%d without the GPU sentence" % n)
    want("GPU (" not in cap, "fig%d shows a GPU" % n)
want("<th>GPU" not in t, "a GPU column in the table")
want("<th>Cost" not in t and "--price P" in t, "cost without --price")
' cpu.html
if [ -n "$chromium_bin" ]; then
  chrome cpu "$work/cpu.html"
  check "2: Chromium logs no console message" "! grep -q 'CONSOLE' cpu.log" \
    "$(grep CONSOLE cpu.log | head -3)"
fi

check_py "2: a bench without predictions has no prediction table" '
t = open(args[0], encoding="utf-8").read()
want("id=\"predictions\"" not in t, "a predictions section")
' cpu.html
check_py "1: the short-profile predictions with their errors" '
t = open(args[0], encoding="utf-8").read()
want("id=\"predictions\"" in t, "no predictions section")
sec = t[t.index("id=\"predictions\""):]
sec = sec[:sec.index("</section>")]
rows = re.findall(r"<tr><td>study</td>.*?</tr>", sec)
want(len(rows) == 2, "%d prediction rows" % len(rows))
want(rows and "+5.0 %" in rows[0] and "+5.3 %" in rows[0], "training errors (energy +5.0 %%, time +5.3 %%): %r" % rows[:1])
want(len(rows) > 1 and "not measured" in rows[1], "inference not verified: %r" % rows[1:])
' report.html

# ---- 2b. phases of different lengths: totals are not comparable --------------
python3 "$FIX/make_study_db.py" "$GM" mixed.db --single-batch --mixed-samples \
  >fixture2b.out 2>&1
"$GM" report --db mixed.db --out mixed.html >r2b.out 2>r2b.err
rc=$?
check "2b: report exits 0" "[ $rc -eq 0 ]" "exit $rc: $(cat r2b.err)"
check_py "2b: durations and energies shown per sample, and said so" "$FIGS"'
t = open(args[0], encoding="utf-8").read()
def caption(n):
    c = t[t.index("<figure id=\"fig%d\"" % n):]
    return c[:c.index("</figure>")]
want("time per 1000 samples" in caption(2), "fig2 caption")
want("energies are per sample" in caption(6), "fig6 caption")
gp = open(args[1], encoding="utf-8").read()
want("duration per 1000 samples (s)" in gp, "fig2 axis")
' mixed.html mixed-figures/fig2.gp
check "2b: the same database with equal phases keeps totals" \
  "! grep -q 'per 1000 samples' cpu-figures/fig2.gp"

# ---- 3. two hosts, --run by name and by id ----------------------------------
cp study.db two.db
python3 "$FIX/make_study_db.py" "$GM" two.db --host hc3 --no-gpu \
  --single-batch >fixture3.out 2>&1
"$GM" report --db two.db --out two.html --figures figs-two >r3.out 2>r3.err
rc=$?
check "3: two hosts: exits 0" "[ $rc -eq 0 ]" "exit $rc: $(cat r3.err)"
check_py "3: one section per host, figure ids and files prefixed" "$FIGS"'
t = open(args[0], encoding="utf-8").read()
figs = figures(t)
want(sorted(figs) == sorted(["hc1-fig%d" % n for n in range(2, 8)] + ["hc2-fig%d" % n for n in range(2, 7)] + ["hosts"]), "figures %r" % sorted(figs))
want("<section id=\"hc1\">" in t and "<section id=\"hc2\">" in t, "sections")
# the hosts side by side: a verdict row per pair and kind, and Fig. 9
want("<section id=\"hosts\">" in t, "no hosts section")
sec = t[t.index("<section id=\"hosts\">"):] if "<section id=\"hosts\">" in t else ""
sec = sec[:sec.index("</section>")] if sec else ""
rows = re.findall(r"<tr><td>[^<]+</td><td>[^<]+</td><td>(training|inference)</td><td class=\"num\">(\d+)</td><td class=\"num\">(\d+)</td>", sec)
want(rows and all(int(r[2]) >= 1 for r in rows), "pair rows %r" % rows)
want(re.search(r"<td>(agrees|does not agree|inconclusive|cannot test)</td>", sec), "no verdict")
want("id=\"hc2-fig7-omitted\"" in t, "hc2 fig7 omitted")
import os
want(os.path.exists("figs-two/hc1-fig7.gp") and os.path.exists("figs-two/hc2-fig2.svg"), "files")
want(os.path.exists("figs-two/hosts.dat") and os.path.exists("figs-two/hosts.svg"), "Fig. 9 files")
' two.html
"$GM" analyze --db two.db --json >a3.json 2>a3.err
rc=$?
check "3: analyze of two hosts exits 0" "[ $rc -eq 0 ]" "exit $rc: $(cat a3.err)"
check_py "3: analyze compares the hosts as the report does, with verdicts" '
d = json.load(open(args[0]))
t = open(args[1], encoding="utf-8").read()
h = d["hosts_compared"]
want(len(h) >= 1, "hosts_compared %r" % h)
for r in h:
    want(r["host_a"] < r["host_b"] and r["models"] >= 1, "pair %r" % r)
    want(r["rank_verdict"] in ("agrees", "does not agree", "inconclusive", "cannot test"), "verdict %r" % r["rank_verdict"])
    want((r["why"] is None) == (r["models"] >= 5), "why %r with %d models" % (r["why"], r["models"]))
sec = t[t.index("<section id=\"hosts\">"):]
sec = sec[:sec.index("</section>")]
want(sec.count("<tr><td>") - sec.count("<tr><td colspan") == len(h), "report rows vs analyze pairs")
' a3.json two.html
"$GM" report --db study.db --run sweep --out sweep.html >r4.out 2>r4.err
rc=$?
check "3: --run NAME reports that bench only" \
  "[ $rc -eq 0 ] && grep -q '^benches: sweep (id 2)\$' r4.out" "exit $rc: $(cat r4.out r4.err)"
"$GM" report --db study.db --run 1 --out one.html >r5.out 2>r5.err
rc=$?
check "3: --run ID too" \
  "[ $rc -eq 0 ] && grep -q '^benches: study (id 1)\$' r5.out" "exit $rc: $(cat r5.out r5.err)"

# ---- 3b. net energy at or below zero: left out and counted, never drawn -----
# VGG16's every phase (batch 128 in the study, 32, 64 and 256 in the sweep)
# below idle.
cp study.db neg.db
sqlite3 neg.db "UPDATE bench_phases SET net_energy_j = -ABS(net_energy_j) WHERE model = 'VGG16'"
"$GM" report --db neg.db --out neg.html >r3b.out 2>r3b.err
rc=$?
check "3b: report on negative nets exits 0" "[ $rc -eq 0 ]" "exit $rc: $(cat r3b.err)"
check_py "3b: the net figures leave VGG16 out and say so; the table marks it" '
t = open(args[0], encoding="utf-8").read()
def caption(n):
    c = t[t.index("<figure id=\"fig%d\"" % n):]
    return c[:c.index("</figure>")]
why = "whose net energy is not above 0 (at or below the idle baseline, which no work is: the baseline does not describe them); greenml report --gross draws every one on gross energy."
want("Left out: 1 model " + why in caption(5), "fig5 caption")
want("Left out: 2 models\x27 training or inference energies " + why in caption(6), "fig6 caption %r" % caption(6)[-600:])
want("Left out: 8 points (model, batch size and phase) " + why in caption(7), "fig7 caption %r" % caption(7)[-600:])
want("Net energy of each model" in caption(6), "fig6 is on net energy")
want("&dagger;" in t and "id=\"net-low\"" in t, "the table does not mark the negative nets")
rows = re.findall(r"<tr><td>VGG16</td>(.*?)</tr>", t)
want(any("net-low" in r for r in rows), "VGG16 rows %r" % rows)
' neg.html
check_py "3b: no figure data holds VGG16 or a negative energy" '
import glob
for f in glob.glob(args[0] + "/fig[67]-*.dat"):
    for line in open(f):
        if line.startswith("#") or not line.strip():
            continue
        want("VGG16" not in line, "%s: %s" % (f, line.strip()))
        want(not any(v.startswith("-") for v in line.split()[1:]), "%s: %s" % (f, line.strip()))
' neg-figures
"$GM" report --db neg.db --gross --out gross.html >r3c.out 2>r3c.err
rc=$?
check "3b: report --gross exits 0" "[ $rc -eq 0 ]" "exit $rc: $(cat r3c.err)"
check_py "3b: --gross draws every model on gross energy and leaves nothing out" '
t = open(args[0], encoding="utf-8").read()
want("Left out:" not in t, "something left out")
c6 = t[t.index("<figure id=\"fig6\""):]
c6 = c6[:c6.index("</figure>")]
want("Gross energy of each model" in c6, "fig6 caption %r" % c6[-400:])
want("VGG16" in open(args[1]).read(), "VGG16 not in fig6 data")
' gross.html gross-figures/fig6-train.dat

# ---- 4. bad input -----------------------------------------------------------
"$GM" report --db nothere.db --out x.html >/dev/null 2>e1.err
rc=$?
check "4: missing database: exit 66 naming the file" \
  "[ $rc -eq 66 ] && grep -q \"no database at 'nothere.db'\" e1.err" "exit $rc: $(cat e1.err)"
check "4: ... and creates nothing" "[ ! -e nothere.db ] && [ ! -e x.html ]"
"$GM" runs --db nothere.db >/dev/null 2>e1b.err
rc=$?
check "4: runs on a missing database: exit 66, and creates nothing" \
  "[ $rc -eq 66 ] && grep -q \"no database at 'nothere.db'\" e1b.err && [ -z \"\$(ls nothere.db* 2>/dev/null)\" ]" \
  "exit $rc: $(cat e1b.err)"
# a database with a run and no bench (measured on an empty fake /sys)
mkdir -p fake/sys fake/dev
GREENML_SYSFS="$work/fake/sys" GREENML_DEVFS="$work/fake/dev" \
  GREENML_NVML_LIB=/nonexistent "$GM" measure --db empty.db --quiet --no-gpu \
  --cpu-tdp 100 -- true >/dev/null 2>&1
"$GM" report --db empty.db --out x.html >/dev/null 2>e2.err
rc=$?
check "4: database without benches: exit 65 naming the fix" \
  "[ $rc -eq 65 ] && grep -q 'no bench' e2.err && grep -q 'greenml bench --db empty.db' e2.err" \
  "exit $rc: $(cat e2.err)"
touch plainfile
"$GM" report --db study.db --out plainfile/r.html >/dev/null 2>e3.err
rc=$?
check "4: unwritable --out: exit 73" \
  "[ $rc -eq 73 ] && grep -q \"cannot write 'plainfile/r.html'\" e3.err" "exit $rc: $(cat e3.err)"
"$GM" report --db study.db --out y.html --figures plainfile/figs >/dev/null 2>e4.err
rc=$?
check "4: unwritable --figures: exit 73, no page left behind" \
  "[ $rc -eq 73 ] && [ -z \"\$(ls y.html* 2>/dev/null)\" ]" "exit $rc: $(cat e4.err)"
PATH=/nonexistent "$GM" report --db study.db --out z.html >/dev/null 2>e5.err
rc=$?
check "4: no gnuplot: exit 69 with the fix" \
  "[ $rc -eq 69 ] && grep -q 'apt-get install gnuplot-nox' e5.err && [ ! -e z.html ]" \
  "exit $rc: $(cat e5.err)"
"$GM" report --db study.db --run nosuch --out x.html >/dev/null 2>e6.err
rc=$?
check "4: --run names no bench: exit 66 listing them" \
  "[ $rc -eq 66 ] && grep -q 'study (complete), sweep (complete)' e6.err" "exit $rc: $(cat e6.err)"
python3 "$FIX/make_study_db.py" "$GM" running.db --single-batch \
  --status interrupted >/dev/null 2>&1
"$GM" report --db running.db --out x.html >/dev/null 2>e7.err
rc=$?
check "4: no complete bench: exit 65 with --run and --resume" \
  "[ $rc -eq 65 ] && grep -q -- '--resume' e7.err && grep -q -- '--run NAME' e7.err" \
  "exit $rc: $(cat e7.err)"
"$GM" report --db running.db --run study --out x.html >/dev/null 2>e8.err
rc=$?
check "4: ... which --run reports anyway" "[ $rc -eq 0 ] && grep -q interrupted x.html" \
  "exit $rc: $(cat e8.err)"
"$GM" report --db study.db --region XX >/dev/null 2>e9.err
rc=$?
check "4: unknown --region: exit 64" "[ $rc -eq 64 ]" "exit $rc: $(cat e9.err)"
"$GM" report --db study.db extra >/dev/null 2>&1
rc=$?
check "4: stray argument: exit 64" "[ $rc -eq 64 ]" "exit $rc"

# ---- 5. a database written by a real greenml bench ---------------------------
# Three models at batch sizes 16 and 8, two epochs of two batches, each cell
# unmeasured and measured (--overhead), no idle baseline (gross energy), a
# fake GPU at a constant 50 W. The report must show exactly what the bench
# stored, from its metered rows.
if [ -z "$FAKE_NVML" ] || [ ! -f "$FAKE_NVML" ]; then
  not_ok "5: fake NVML" "the fake libnvidia-ml.so.1 was not built or not passed ('$FAKE_NVML')"
else
  mkdir -p real/sys real/dev
  printf '%s\n' 'driver 550.54.15' 'nvml 12.550.54.15' \
    'gpu name="Tesla P100-PCIE-16GB" arch=4 power_mw=50000 util=10 mem_util=5 temp=40' \
    >real/nvml.script
  # the environment of the measuring commands: empty fake /sys and /dev (CPU
  # and DRAM modelled), the fake NVML
  real_env=(env -u GREENML_MARK -u GREENML_PROCFS -u GREENML_FAKE_NVML_INIT
    OMP_WAIT_POLICY=PASSIVE GREENML_SYSFS="$work/real/sys"
    GREENML_DEVFS="$work/real/dev" GREENML_NVML_LIB="$FAKE_NVML"
    GREENML_FAKE_NVML_SCRIPT="$work/real/nvml.script")
  "${real_env[@]}" "$GM" bench --models LeNet,MobileNet,ShuffleNetV2 \
    --batch-sizes 16,8 --epochs 2 --limit-batches 2 --infer-samples 32 \
    --gap 0 --idle none --interval 20ms --data synthetic --threads 1 \
    --overhead --db real.db --run-id real >bench5.out 2>bench5.err
  rc=$?
  check "5: the bench writes its database" "[ $rc -eq 0 ]" \
    "exit $rc: $(tail -3 bench5.err)"
  sum_before=$(sha256sum <real.db)
  "$GM" runs --db real.db --json >runs5.json 2>runs5.err
  rc=$?
  check "5: runs lists the bench's runs" "[ $rc -eq 0 ]" "exit $rc: $(cat runs5.err)"
  "$GM" report --db real.db --out real.html >r5b.out 2>r5b.err
  rc=$?
  check "5: report exits 0 with six figures" \
    "[ $rc -eq 0 ] && grep -q '^benches: real (id 1) (every complete bench)' r5b.out && grep -q '^figures: 6 drawn in real-figures' r5b.out" \
    "exit $rc: $(cat r5b.out r5b.err)"
  "$GM" estimate --db real.db --model MobileNet --batch-size 16 --epochs 2 \
    --json >est5.json 2>est5.err
  rc=$?
  check "5: estimate on the same database" "[ $rc -eq 0 ]" "exit $rc: $(cat est5.err)"
  check "5: reading left the database as it was (sha256, no WAL left)" \
    "[ \"\$(sha256sum <real.db)\" = \"$sum_before\" ] && [ ! -e real.db-wal ] && [ ! -e real.db-shm ]"
  check_py "5: runs --json agrees with the runs table, provenance by energy.h" '
db = connect(args[0])
runs = json.load(open(args[1]))
rows = {r["id"]: r for r in db.execute("SELECT * FROM runs")}
want(len(runs) == len(rows) == 6, "%d runs listed, %d stored (one per metered cell)" % (len(runs), len(rows)))
for r in runs:
    s = rows[r["id"]]
    want(close(r["total_energy_j"], s["total_energy_j"]), "run %d energy" % r["id"])
    provs = {c["provenance"] for c in db.execute("SELECT provenance FROM components WHERE run_id = ? AND in_total = 1", (r["id"],))}
    want(r["provenance"] == (provs.pop() if len(provs) == 1 else "mixed"), "run %d provenance %r" % (r["id"], r["provenance"]))
' real.db runs5.json
  check_py "5: the energy table holds the metered rows of the bench, batch 16" '
db = connect(args[0])
t = open(args[1], encoding="utf-8").read()
def sums(where):
    return db.execute("SELECT SUM(energy_j) FROM bench_phases WHERE metered = 1 AND batch_size = 16 AND " + where).fetchone()[0]
want(db.execute("SELECT count(*) FROM bench_phases WHERE metered = 0").fetchone()[0] == 24, "unmetered rows")
def agrees(cell, want_j):
    num, unit = cell
    dec = len(num.split(".")[1]) if "." in num else 0
    scale = {"J": 1, "kJ": 1e3, "MJ": 1e6}[unit]
    return abs(float(num) * scale - want_j) <= 0.5 * 10 ** -dec * scale + 1e-12
cellre = r"<td class=\"num\">([-0-9.]+) (J|kJ|MJ)</td>"
table = t[t.index("Energy, carbon and cost per model"):]
for m in ("LeNet", "MobileNet", "ShuffleNetV2"):
    row = re.search(r"<tr><td>%s</td>(.*?)</tr>" % m, table)
    want(row, "no row for " + m)
    if not row:
        continue
    cells = re.findall(cellre, row.group(1))
    tr = sums("model = \"%s\" AND kind = \"train\"" % m)
    inf = sums("model = \"%s\" AND kind = \"infer\"" % m)
    want(len(cells) >= 2 and agrees(cells[0], tr), "%s training %r vs %r" % (m, cells[:1], tr))
    want(len(cells) >= 2 and agrees(cells[1], inf), "%s inference %r vs %r" % (m, cells[1:2], inf))
    want("n/a" in row.group(1), "%s: a net energy without an idle baseline" % m)
total = re.search(r"<tr class=\"total\"><td>All models</td>(.*?)</tr>", t).group(1)
cells = re.findall(cellre, total)
gross = sums("kind IN (\"train\", \"infer\")")
want(any(agrees(c, gross) for c in cells), "total %r vs %r" % (cells, gross))
want("<th>GPU (measured power)</th>" in t, "no GPU column with its provenance")
' real.db real.html
  check_py "5: Figs. 2, 3 and 7 hold the bench's durations, powers and energies" '
db = connect(args[0])
d = args[1]
def rows(path):
    out = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        f = line.split()
        out[f[0].strip("\"")] = [float(x) for x in f[1:]]
    return out
fig2 = rows(d + "/fig2.dat")
want(sorted(fig2) == ["LeNet", "MobileNet", "ShuffleNetV2"], "fig2 models %r" % sorted(fig2))
for m, v in fig2.items():
    for k, col in (("train", 0), ("infer", 1)):
        mean = db.execute("SELECT AVG(duration_s) FROM bench_phases WHERE metered = 1 AND batch_size = 16 AND model = ? AND kind = ?", (m, k)).fetchone()[0]
        want(close(v[col], mean, rel=1e-5), "fig2 %s %s %r vs %r" % (m, k, v[col], mean))
for k in ("train", "infer"):
    for m, v in rows(d + "/fig3-%s.dat" % k).items():
        dur = db.execute("SELECT SUM(duration_s) FROM bench_phases WHERE metered = 1 AND batch_size = 16 AND model = ? AND kind = ?", (m, k)).fetchone()[0]
        for col, part in enumerate(("cpu", "dram", "gpu")):
            e = db.execute("SELECT SUM(energy_j) FROM bench_phase_components WHERE metered = 1 AND in_total = 1 AND batch_size = 16 AND model = ? AND kind = ? AND component_kind = ?", (m, k, part)).fetchone()[0]
            want(e is not None and close(v[col], e / dur, rel=1e-5, ab=1e-9), "fig3 %s %s %s %r vs %r" % (k, m, part, v[col], e and e / dur))
text = open(d + "/fig7-train.dat").read()
unit = re.search(r"energy_(mJ|J|kJ|MJ)", text).group(1)
scale = {"mJ": 1e-3, "J": 1, "kJ": 1e3, "MJ": 1e6}[unit]
q = "SUM(energy_j) / SUM(samples)" if "per sample" in text.splitlines()[1] else "AVG(energy_j)"
n = 0
model = None
for line in text.splitlines()[2:]:
    if line.startswith("# "):
        model = line[2:].strip()
    elif line.strip():
        bs, e = line.split()
        got = db.execute("SELECT " + q + " FROM bench_phases WHERE metered = 1 AND kind = \"train\" AND model = ? AND batch_size = ?", (model, int(bs))).fetchone()[0]
        want(close(float(e) * scale, got, rel=1e-5), "fig7 %s b%s %r vs %r" % (model, bs, e, got))
        n += 1
want(n == 6, "fig7 has %d points" % n)
' real.db real-figures
  check_py "5: Fig. 6 is the fit greenml estimate makes (log-log, its slope and R^2)" '
db = connect(args[0])
t = open(args[1], encoding="utf-8").read()
est = json.load(open(args[2]))
cap = t[t.index("<figure id=\"fig6\""):]
cap = cap[:cap.index("</figure>")]
m = re.search(r"Training: .*?fit E = ([0-9.e+-]+) (J|kJ|MJ) x \(MACs/param\)\^(-?[0-9.]+), R² = ([0-9.]+) in log-log", cap)
want(m, "no training fit in the caption: %r" % cap[-700:])
fit = est["regression"]["fit_energy"]
if m:
    want(abs(float(m.group(3)) - fit["b"]) <= 0.0006, "slope %s vs estimate %r" % (m.group(3), fit["b"]))
    want(abs(float(m.group(4)) - fit["r2"]) <= 0.006, "R^2 %s vs estimate %r" % (m.group(4), fit["r2"]))
want("Both axes are logarithmic" in cap and "ln E = a + b ln(MACs/param)" in cap, "caption")
dat = open(args[3] + "/fig6-train.dat").read()
scale = {"J": 1, "kJ": 1e3, "MJ": 1e6}[re.search(r"energy_(J|kJ|MJ)", dat).group(1)]
pts = {}
for line in dat.splitlines():
    if not line.startswith("#"):
        f = line.split()
        pts[f[0].strip("\"")] = (float(f[1]), float(f[2]))
want(len(pts) == 3, "fig6 points %r" % pts)
for mo, (x, y) in pts.items():
    e = db.execute("SELECT SUM(p.energy_j), m.macs_per_param FROM bench_phases p JOIN bench_models m ON m.bench_id = p.bench_id AND m.model = p.model WHERE p.metered = 1 AND p.kind = \"train\" AND p.batch_size = 16 AND p.model = ?", (mo,)).fetchone()
    want(close(y * scale, e[0], rel=1e-5) and close(x, e[1], rel=1e-5), "fig6 %s (%r, %r) vs %r" % (mo, x, y, e))
want("set logscale xy" in open(args[3] + "/fig6.gp").read(), "log-log axes")
' real.db real.html est5.json real-figures
fi

# ---- 6. a measured PyTorch run: report --from-run ---------------------------
# A small PyTorch loop measured by `greenml measure`, its phases marked
# through the Python package (delegated to the outer meter), on a fake GPU
# at a constant 250 W without an energy counter: every phase's GPU energy is
# 250 W x its duration.
SRC=$(cd "$(dirname "$0")/../.." && pwd)
if [ -n "$FAKE_NVML" ]; then
  mkdir -p m6/sys m6/dev m6/proc
  printf 'cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\n' \
    >m6/proc/stat
  printf 'MemTotal:       16777216 kB\nMemAvailable:    8388608 kB\n' \
    >m6/proc/meminfo
  printf 'processor\t: 0\nmodel name\t: Test CPU\n' >m6/proc/cpuinfo
  printf '%s\n' 'gpu name="NVIDIA Test GPU" uuid=GPU-6 power_mw=250000 power_limit_mw=400000' \
    'not_supported 0 = energy' >m6/nvml.txt
  cat >train6.py <<'PY'
import torch, greenml, greenml.pytorch as gp
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.01)
x, y = torch.randn(2048, 32), torch.randint(0, 10, (2048,))
with greenml.Meter() as m:
    assert m.delegated
    for _ in gp.epochs(m, 3):
        for i in range(0, 2048, 64):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x[i:i + 64]), y[i:i + 64]).backward()
            opt.step()
    with gp.inference(m, model=model):
        model(x)
PY
  GREENML_SYSFS=$work/m6/sys GREENML_PROCFS=$work/m6/proc \
    GREENML_DEVFS=$work/m6/dev GREENML_NVML_LIB=$FAKE_NVML \
    GREENML_FAKE_NVML_SCRIPT=$work/m6/nvml.txt \
    GREENML_LIB=$(dirname "$GM")/libgreenml.so.0 PYTHONPATH=$SRC/python \
    OMP_NUM_THREADS=1 "$GM" measure --db run6.db --idle none --interval 10ms \
    --quiet --json m6.json -- /usr/bin/python3 train6.py >m6.out 2>&1
  rc=$?
  check "6: the PyTorch run is measured (exit 0)" "[ $rc -eq 0 ]" \
    "exit $rc: $(tail -5 m6.out)"
  cp run6.db run6.before
  "$GM" report --db run6.db --from-run 1 --out run6.html --region FR \
    --price 0.25 >r6.out 2>r6.err
  rc=$?
  check "6: report --from-run exits 0 and says what it drew" \
    "[ $rc -eq 0 ] && grep -q '^run 1: 4 phases; figures: 2 drawn in run6-figures' r6.out" \
    "exit $rc: $(cat r6.out r6.err)"
  check "6: the database is left byte for byte as it was" \
    "cmp -s run6.db run6.before"
  check_py "6: the page holds the run's phases and energies as measured" "$FIGS"'
t = open(args[0], encoding="utf-8").read()
doc = json.load(open(args[1]))
figs = figures(t)
want(sorted(figs) == ["run1-power", "run1-util"], "figures %r" % sorted(figs))
def joules(cell):
    m = re.fullmatch(r"(-?[0-9.]+) (J|kJ|MJ)", cell)
    return float(m.group(1)) * {"J": 1, "kJ": 1e3, "MJ": 1e6}[m.group(2)] if m else None
sec = t[t.index("id=\"phases\""):]
sec = sec[:sec.index("</section>")]
rows = re.findall(r"<tr><td>([^<]+)(?:<span[^>]*>[^<]*</span>)?</td>(.*?)</tr>", sec)
want([r[0].strip() for r in rows] == ["epoch-1", "epoch-2", "epoch-3", "inference"], "phase rows %r" % [r[0] for r in rows])
for (name, cells), ph in zip(rows, doc["phases"]):
    c = re.findall(r"<td class=\"num\">([^<]*)</td>", cells)
    want(ph["name"] == name.strip(), "phase order %r vs %r" % (name, ph["name"]))
    e = joules(c[2])
    want(e is not None and close(e, ph["energy_j"], rel=2e-3, ab=6e-4), "%s energy %r vs %r" % (name, c[2], ph["energy_j"]))
    want(c[3] == "n/a", "%s net without a baseline: %r" % (name, c[3]))
    gpu = [x for x in ph["components"] if x["name"] == "gpu0"][0]
    want(close(gpu["energy_j"], 250.0 * ph["duration_s"], rel=1e-9), "%s GPU %r J over %r s" % (name, gpu["energy_j"], ph["duration_s"]))
run = t[t.index("id=\"run\""):]
run = run[:run.index("</section>")]
want("complete: every sample stored" in run, "not complete")
want("France" in run or "FR" in run, "carbon source: %r" % run[-300:])
want(re.search(r"<th>Cost \(gross\)</th><td class=\"num\">[0-9.e-]+ EUR</td>", run), "cost")
want("mixed" in run, "the total is measured GPU + modelled CPU and DRAM")
' run6.html m6.json
  check_py "6: Fig. 1 plots 250 W for the GPU, the phases shaded and named" '
d = args[0]
rows = [l.split() for l in open(d + "/run1-power.dat") if not l.startswith("#")]
head = open(d + "/run1-power.dat").readline().split()
col = [i for i, h in enumerate(head[1:]) if h.startswith("gpu0_w")]
want(col and len(rows) > 10, "no gpu0 column or too few rows: %r" % head)
if col:
    vals = [float(r[col[0]]) for r in rows if r[col[0]] != "NaN"]
    want(vals and all(abs(v - 250.0) < 1e-6 for v in vals), "gpu0 power %r" % vals[:5])
gp = open(d + "/run1-power.gp").read()
for n, name in enumerate(["epoch-1", "epoch-2", "epoch-3", "inference"], 1):
    want(("set object %d rect" % n) in gp and ("\"%s\"" % name) in gp, "phase %s not shaded" % name)
' run6-figures
  if [ -n "$chromium_bin" ]; then
    chrome run6 "$work/run6.html"
    check "6: Chromium logs no console message" "! grep -q 'CONSOLE' run6.log" \
      "$(grep CONSOLE run6.log | head -3)"
    check_py "6: Chromium's DOM has both figures drawn" "$FIGS"'
figs = figures(open(args[0], encoding="utf-8").read())
want(sorted(figs) == ["run1-power", "run1-util"] and min(figs.values()) >= 3, "figures %r" % figs)
' run6.dom
    cp run6.png "$ART/run-report.png" 2>/dev/null
  fi
  "$GM" report --db run6.db --from-run 9 --out x.html >r6b.out 2>r6b.err
  rc=$?
  check "6: report --from-run of a run that is not there: exit 66, named" \
    "[ $rc -eq 66 ] && grep -q 'no run 9' r6b.err" "exit $rc: $(cat r6b.err)"
  "$GM" report --db run6.db --from-run x >r6c.out 2>r6c.err
  rc=$?
  check "6: --from-run x is a usage error (64)" \
    "[ $rc -eq 64 ] && grep -q \"'x' is not a run id\" r6c.err" "exit $rc"
  "$GM" report --db run6.db --from-run 1 --run study >r6d.out 2>r6d.err
  rc=$?
  check "6: --from-run with --run is a usage error (64)" "[ $rc -eq 64 ]" \
    "exit $rc: $(cat r6d.err)"
fi

tap_done "report scenarios"
