"""The Python package against the C library and the CLI, on one fake machine:
an empty sysfs (no RAPL), a procfs with 16 GiB of memory (the DRAM model:
6 W) and the fake libnvidia-ml.so.1 with one GPU whose power sensor reads
250 W and which has no energy counter (integrated power). Both powers are
constant, so every energy is P x duration exactly.

usage: test_api.py  (environment: GREENML_LIB, GREENML_TEST_CLI,
GREENML_TEST_FAKE_NVML, PYTHONPATH with the package)
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

import greenml

GPU_W = 250.0
DRAM_W = 6.0
CLI = os.environ["GREENML_TEST_CLI"]
FAKE_NVML = os.environ["GREENML_TEST_FAKE_NVML"]


class FakeMachine(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="greenml-py-")
        root = self.tmp
        for d in ("sys", "dev", "proc", "home"):
            os.makedirs(os.path.join(root, d))
        self._write("proc/stat", "cpu  100 0 100 800 0 0 0 0 0 0\n"
                    "cpu0 100 0 100 800 0 0 0 0 0 0\nintr 1 2 3\n")
        self._write("proc/meminfo", "MemTotal:       16777216 kB\n"
                    "MemAvailable:    8388608 kB\n")
        self._write("proc/cpuinfo", "processor\t: 0\nmodel name\t: Test CPU\n")
        self._write("nvml.txt",
                    'gpu name="NVIDIA Test GPU" uuid=GPU-1234 '
                    "power_mw=250000 power_limit_mw=400000\n"
                    "not_supported 0 = energy\n")
        self.saved_env = dict(os.environ)
        os.environ.update({
            "GREENML_SYSFS": os.path.join(root, "sys"),
            "GREENML_PROCFS": os.path.join(root, "proc"),
            "GREENML_DEVFS": os.path.join(root, "dev"),
            "GREENML_NVML_LIB": FAKE_NVML,
            "GREENML_FAKE_NVML_SCRIPT": os.path.join(root, "nvml.txt"),
            "HOME": os.path.join(root, "home"),
            "XDG_DATA_HOME": os.path.join(root, "home", "data"),
        })
        os.environ.pop("GREENML_MARK", None)
        # the host's GPU selection is not the test's
        os.environ.pop("CUDA_VISIBLE_DEVICES", None)
        os.environ.pop("NVIDIA_VISIBLE_DEVICES", None)

    def tearDown(self):
        os.environ.clear()
        os.environ.update(self.saved_env)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _write(self, rel, text):
        with open(os.path.join(self.tmp, rel), "w") as f:
            f.write(text)

    def path(self, rel):
        return os.path.join(self.tmp, rel)

    def cli(self, *args, check=True):
        p = subprocess.run([CLI, *args], capture_output=True, text=True,
                           timeout=60)
        if check and p.returncode != 0:
            self.fail(f"greenml {' '.join(args)}: exit {p.returncode}\n"
                      f"{p.stdout}\n{p.stderr}")
        return p

    def assert_constant_power(self, comp, duration_s, power_w):
        self.assertAlmostEqual(comp["avg_power_w"], power_w, delta=1e-9 * power_w)
        self.assertAlmostEqual(comp["energy_j"], power_w * duration_s,
                               delta=1e-9 * power_w * duration_s)


class EnergiesAsTheCli(FakeMachine):
    def test_same_components_and_energies_as_measure(self):
        with greenml.Meter(interval="10ms", db=False) as m:
            time.sleep(0.4)
        py = m.result.to_dict()
        out = self.path("cli.json")
        self.cli("measure", "--no-db", "--quiet", "--interval", "10ms",
                 "--json", out, "--", "sleep", "0.4")
        with open(out) as f:
            cli = json.load(f)
        # one document, the same keys: the library writes both
        self.assertEqual(sorted(py), sorted(cli))
        desc = ("name", "kind", "domain", "source", "provenance", "signal",
                "detail", "in_total", "max_power_w", "max_power_origin")
        self.assertEqual([[c[k] for k in desc] for c in py["components"]],
                         [[c[k] for k in desc] for c in cli["components"]])
        for doc in (py, cli):
            comps = {c["name"]: c for c in doc["components"]}
            self.assertEqual(comps["gpu0"]["source"], "nvml")
            self.assertEqual(comps["gpu0"]["provenance"], "measured")
            self.assertEqual(comps["gpu0"]["signal"], "power sensor")
            self.assert_constant_power(comps["gpu0"], doc["duration_s"], GPU_W)
            self.assertEqual(comps["dram"]["provenance"], "modelled")
            self.assert_constant_power(comps["dram"], doc["duration_s"], DRAM_W)
            self.assertGreater(doc["duration_s"], 0.39)
            self.assertEqual(doc["interval_s"], 0.01)
        # the Result's attributes are the document's numbers
        r = m.result
        self.assertEqual(r.component("gpu0").energy_j,
                         py["components"][[c["name"] for c in py["components"]]
                                          .index("gpu0")]["energy_j"])
        self.assertEqual(r.total_energy_j, py["total_energy_j"])
        self.assertGreater(r.meter_cpu_s, 0)
        self.assertEqual(r.total_provenance, "mixed")
        self.assertFalse(r.total_partial)
        self.assertIsNone(r.run_id)
        self.assertIn("no store", r.idle_note)
        self.assertIsNone(py["process_cpu_s"])  # the script's own work is not the meter's


class Phases(FakeMachine):
    def test_phases_in_process_with_sync(self):
        calls = []
        with greenml.Meter(interval="10ms", db=False,
                           sync=lambda: calls.append(time.monotonic())) as m:
            with m.phase("warmup"):
                time.sleep(0.1)
            m.begin("epoch-1")
            time.sleep(0.15)
            m.begin("epoch-2")  # ends epoch-1
            time.sleep(0.05)
            m.end()
        r = m.result
        self.assertEqual([p.name for p in r.phases], ["warmup", "epoch-1", "epoch-2"])
        self.assertEqual(len(calls), 5)  # every boundary: 3 begins, 2 ends
        for p, least in zip(r.phases, (0.1, 0.15, 0.05)):
            self.assertGreaterEqual(p.duration_s, least)
            self.assertLess(p.duration_s, least + 0.1)
            self.assertAlmostEqual(p.components["gpu0"], GPU_W * p.duration_s,
                                   delta=1e-9 * GPU_W)
            self.assertAlmostEqual(p.components["dram"], DRAM_W * p.duration_s,
                                   delta=1e-9 * DRAM_W)
            self.assertFalse(p.ended_by_stop)
        # back to back: epoch-2 begins where epoch-1 ends
        self.assertAlmostEqual(r.phases[1].start_s + r.phases[1].duration_s,
                               r.phases[2].start_s, delta=1e-9)

    def test_a_phase_left_open_ends_with_the_meter(self):
        with greenml.Meter(interval="10ms", db=False, sync=None) as m:
            m.begin("tail")
            time.sleep(0.05)
        self.assertTrue(m.result.phase("tail").ended_by_stop)

    def test_phases_under_greenml_measure_go_to_the_measuring_process(self):
        script = textwrap.dedent("""
            import time, greenml
            with greenml.Meter(db=False) as m:
                assert m.delegated
                with m.phase("warmup"):
                    time.sleep(0.1)
                with m.phase("epoch-1"):
                    time.sleep(0.15)
            assert m.result is None
            print("inner done")
        """)
        out = self.path("outer.json")
        p = self.cli("measure", "--no-db", "--quiet", "--interval", "10ms",
                     "--json", out, "--", sys.executable, "-c", script)
        self.assertIn("inner done", p.stdout)
        with open(out) as f:
            doc = json.load(f)
        self.assertEqual(doc["exit_code"], 0)
        self.assertEqual([ph["name"] for ph in doc["phases"]], ["warmup", "epoch-1"])
        self.assertEqual(doc["markers"]["bad_lines"], 0)
        for ph, least in zip(doc["phases"], (0.1, 0.15)):
            self.assertGreaterEqual(ph["duration_s"], least)
            gpu = {c["name"]: c for c in ph["components"]}["gpu0"]
            self.assertAlmostEqual(gpu["energy_j"], GPU_W * ph["duration_s"],
                                   delta=1e-9 * GPU_W)
        # the measured script started no meter of its own: one run, no store
        self.assertFalse(os.path.exists(self.path("home/data/greenml")))


class GpuSelection(FakeMachine):
    def test_gpus_none_a_list_and_the_environment(self):
        with greenml.Meter(db=False, gpus="none") as m:
            pass
        self.assertNotIn("gpu0", [c.name for c in m.result.components])
        with greenml.Meter(db=False, gpus=[0]) as m:
            pass
        self.assertIn("gpu0", [c.name for c in m.result.components])
        os.environ["CUDA_VISIBLE_DEVICES"] = "3"
        with greenml.Meter(db=False) as m:
            pass
        missing = {x["name"]: x for x in m.result.missing}
        self.assertIn("gpu 3", missing)
        self.assertIn("CUDA_VISIBLE_DEVICES='3' names GPU '3'",
                      missing["gpu 3"]["reason"])
        self.assertTrue(m.result.total_partial)


class Attribution(FakeMachine):
    """This process's share: the GPU's by the fake driver's process list (a
    constant share, so exact); CPU and DRAM unknown on a procfs whose
    /proc/stat never moves: counted, the figure PARTIAL."""

    def _tree(self):
        pid = os.getpid()
        os.makedirs(self.path(f"proc/{pid}/task/{pid}"))
        self._write(f"proc/{pid}/stat", f"{pid} (python3) S 1 1 1 0 -1 0 0 0 "
                    "0 0 10 0 0 0 20 0 1 0 1 1 1 0\n")
        self._write(f"proc/{pid}/task/{pid}/children", "")
        return pid

    def test_the_gpu_share_of_this_process(self):
        pid = self._tree()
        with open(self.path("nvml.txt"), "a") as f:
            f.write(f"procs 0 = {pid}:60,999999:20\n")
        with greenml.Meter(db=False, interval="10ms") as m:
            time.sleep(0.1)
        r = m.result
        gpu = r.component("gpu0")
        self.assertEqual(gpu.attributed["provenance"], "attributed by GPU processes")
        self.assertAlmostEqual(gpu.attributed["energy_j"], 0.75 * gpu.energy_j,
                               delta=1e-9 * gpu.energy_j)
        dram = r.component("dram")
        self.assertEqual(dram.attributed["energy_j"], 0)
        self.assertAlmostEqual(dram.attributed["unknown_j"], dram.energy_j,
                               delta=1e-12)
        self.assertEqual(r.attributed.to, f"process tree of pid {pid}")
        self.assertTrue(r.attributed.partial)
        self.assertEqual(r.attributed.provenance,
                         "attributed by CPU-time share and GPU processes")
        self.assertAlmostEqual(r.attributed.energy_j, gpu.attributed["energy_j"],
                               delta=1e-9)
        df = r.to_pandas()
        row = df[(df.component == "gpu0") & df.phase.isna()].iloc[0]
        self.assertAlmostEqual(row.attributed_energy_j, gpu.attributed["energy_j"])
        self.assertEqual(row.attributed_provenance, "attributed by GPU processes")

    def test_none_a_cgroup_that_is_not_one_and_a_bad_value(self):
        with greenml.Meter(db=False, attribute="none") as m:
            pass
        self.assertIsNone(m.result.attributed)
        self.assertIsNone(m.result.component("gpu0").attributed)
        with self.assertRaises(ValueError):
            greenml.Meter(db=False, attribute="job_7")
        with self.assertRaises(greenml.Error) as cm:
            greenml.Meter(db=False, attribute="/no-such.slice").start()
        self.assertIn("/no-such.slice", str(cm.exception))


class Decorator(FakeMachine):
    def test_each_call_is_measured(self):
        @greenml.measure(db=False, interval="10ms")
        def work(x):
            time.sleep(0.1)
            return 2 * x

        self.assertIsNone(work.last_result)
        self.assertEqual(work(21), 42)
        first = work.last_result
        self.assertGreaterEqual(first.duration_s, 0.1)
        self.assertAlmostEqual(first.component("gpu0").energy_j,
                               GPU_W * first.duration_s, delta=1e-9 * GPU_W)
        self.assertEqual(work.__name__, "work")
        work(1)
        self.assertIsNot(work.last_result, first)

    def test_bare_decorator_uses_the_default_database(self):
        @greenml.measure
        def work():
            time.sleep(0.02)

        work()
        self.assertEqual(work.last_result.run_id, 1)
        self.assertTrue(os.path.exists(greenml.default_db()))
        self.assertEqual(greenml.default_db(),
                         self.path("home/data/greenml/greenml.db"))


class Store(FakeMachine):
    def test_runs_are_stored_and_listed_by_the_cli(self):
        db = self.path("new/dir/g.db")
        with greenml.Meter(db=db, tags={"model": "lenet"}, label="train lenet",
                           carbon_intensity=100) as m:
            time.sleep(0.05)
        r = m.result
        self.assertEqual(r.run_id, 1)
        self.assertEqual(r.store["complete"], True)
        self.assertEqual(r.store["samples_lost"], 0)
        self.assertEqual(r.tags, {"model": "lenet"})
        self.assertAlmostEqual(r.carbon_g, r.total_energy_j / 3.6e6 * 100, delta=1e-12)
        with self.assertRaises(ValueError):
            with greenml.Meter(db=db) as m2:
                raise ValueError("the user's code failed")
        self.assertEqual(m2.result.run_id, 2)
        runs = json.loads(self.cli("runs", "--db", db, "--json").stdout)
        by_id = {x["id"]: x for x in runs}
        self.assertEqual(by_id[1]["command"], "train lenet")
        self.assertEqual(by_id[1]["exit_code"], 0)
        self.assertTrue(by_id[1]["complete"])
        self.assertAlmostEqual(by_id[1]["total_energy_j"], r.total_energy_j,
                               delta=1e-9)
        self.assertEqual(by_id[2]["exit_code"], 1)  # the block raised

    def test_a_stored_baseline_is_subtracted(self):
        db = self.path("g.db")
        self.cli("idle", "--db", db, "--duration", "200ms", "--interval", "10ms")
        with greenml.Meter(db=db, interval="10ms") as m:
            time.sleep(0.1)
        r = m.result
        self.assertEqual(r.idle_baseline, "subtracted")
        gpu = r.component("gpu0")
        self.assertAlmostEqual(gpu.idle_power_w, GPU_W, delta=1e-9)
        self.assertAlmostEqual(gpu.net_energy_j, 0.0, delta=1e-6)
        with greenml.Meter(db=db, idle="none") as m:
            pass
        self.assertEqual(m.result.idle_baseline, "none")


class EstimateFromRun(FakeMachine):
    def test_a_python_run_projected_from_its_first_epochs(self):
        db = self.path("g.db")
        with greenml.Meter(db=db, interval="10ms", label="epochs") as m:
            for i, sec in enumerate((0.05, 0.07, 0.06, 0.08)):
                with m.phase(f"epoch-{i + 1}"):
                    time.sleep(sec)
            with m.phase("inference"):
                time.sleep(0.02)
        r = m.result
        epochs = [p for p in r.phases if p.name.startswith("epoch-")]
        out = json.loads(self.cli("estimate", "--from-run", str(r.run_id),
                                  "--db", db, "--phases", "epoch-*",
                                  "--total", "10", "--json").stdout)
        self.assertEqual(out["phases_matched"], [p.name for p in epochs])
        mean2 = (epochs[0].energy_j + epochs[1].energy_j) / 2
        self.assertAlmostEqual(out["energy_j"]["value"], 10 * mean2, delta=1e-9)
        mean2_s = (epochs[0].duration_s + epochs[1].duration_s) / 2
        self.assertAlmostEqual(out["duration_s"]["value"], 10 * mean2_s, delta=1e-9)
        self.assertLess(out["energy_j"]["lo"], out["energy_j"]["value"])
        self.assertGreater(out["energy_j"]["hi"], out["energy_j"]["value"])
        # the check: the 4 measured epochs predicted from the first 2
        chk = out["check"]
        self.assertEqual(chk["phases"], 4)
        actual = sum(p.energy_j for p in epochs)
        self.assertAlmostEqual(chk["energy_j"]["actual"], actual, delta=1e-9)
        self.assertAlmostEqual(chk["energy_j"]["predicted"], 4 * mean2, delta=1e-9)
        self.assertAlmostEqual(chk["energy_j"]["error_rel"],
                               (4 * mean2 - actual) / actual, delta=1e-12)
        self.assertEqual(out["provenance"], "mixed")
        text = self.cli("estimate", "--from-run", str(r.run_id), "--db", db,
                        "--phases", "epoch-*", "--total", "10").stdout
        self.assertIn("from the first 2 (epoch-1 .. epoch-2) of the 4 measured", text)
        self.assertIn("check on the 4 measured phases", text)
        # too few matching phases: exit 65, the count and the fix
        p = self.cli("estimate", "--from-run", str(r.run_id), "--db", db,
                     "--phases", "inference", "--total", "3", check=False)
        self.assertEqual(p.returncode, 65)
        self.assertIn("1 whole phase matching 'inference'", p.stderr)


class ExportRun(FakeMachine):
    def test_phases_and_samples_of_a_python_run(self):
        import csv
        import io

        db = self.path("g.db")
        with greenml.Meter(db=db, interval="10ms") as m:
            with m.phase("load"):
                time.sleep(0.05)
            with m.phase("train"):
                time.sleep(0.1)
        r = m.result
        out = self.cli("export", "--from-run", str(r.run_id), "--db", db,
                       "--price", "0.2").stdout
        rows = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual([x["phase"] for x in rows], ["load", "train"])
        for row, ph in zip(rows, r.phases):
            self.assertAlmostEqual(float(row["energy_j"]), ph.energy_j, delta=1e-9)
            self.assertAlmostEqual(float(row["duration_s"]), ph.duration_s, delta=1e-9)
            self.assertAlmostEqual(float(row["energy_gpu0_j"]),
                                   GPU_W * ph.duration_s, delta=1e-6)
            self.assertAlmostEqual(float(row["energy_dram_j"]),
                                   ph.components["dram"], delta=1e-9)
            self.assertEqual(row["net_energy_j"], "")  # no baseline: empty, not 0
            self.assertAlmostEqual(float(row["cost_eur"]),
                                   ph.energy_j / 3.6e6 * 0.2, delta=1e-15)
        samples = json.loads(self.cli("export", "--from-run", str(r.run_id),
                                      "--db", db, "--what", "samples",
                                      "--format", "json").stdout)
        self.assertEqual(len(samples), r.store["samples_stored"])
        names = {x["phase"] for x in samples}
        self.assertEqual(names, {None, "load", "train"})
        e = [x["energy_gpu0_j"] for x in samples]
        self.assertEqual(e, sorted(e))  # cumulative
        self.assertAlmostEqual(e[-1], r.component("gpu0").energy_j, delta=1e-6)
        for x in samples[1:]:
            self.assertAlmostEqual(x["power_gpu0_w"], GPU_W, delta=1e-6)
        p = self.cli("export", "--from-run", "99", "--db", db, check=False)
        self.assertEqual(p.returncode, 66)
        self.assertIn("no run 99", p.stderr)

    def test_analyze_groups_the_phases_and_tests_the_claim(self):
        db = self.path("g.db")
        with greenml.Meter(db=db, interval="10ms") as m:
            for i, sec in enumerate((0.03, 0.05, 0.07, 0.04, 0.06)):
                with m.phase(f"epoch-{i + 1}"):
                    time.sleep(sec)
            with m.phase("test"):
                time.sleep(0.02)
        r = m.result
        out = json.loads(self.cli("analyze", "--from-run", str(r.run_id),
                                  "--db", db, "--json").stdout)
        groups = {g["name"]: g for g in out["groups"]}
        self.assertEqual(list(groups), ["epoch", "test"])
        epochs = [p for p in r.phases if p.name.startswith("epoch-")]
        self.assertEqual(groups["epoch"]["phases"], 5)
        self.assertAlmostEqual(groups["epoch"]["energy_j"],
                               sum(p.energy_j for p in epochs), delta=1e-9)
        # constant power: each phase's energy is P x its duration, so energy
        # is exactly linear in time (r = 1 to rounding) and the claim agrees
        self.assertAlmostEqual(groups["epoch"]["avg_power_w"], GPU_W + DRAM_W,
                               delta=1e-6)
        self.assertEqual(out["energy_vs_time"]["n"], 6)
        self.assertAlmostEqual(out["energy_vs_time"]["pearson"]["coefficient"],
                               1.0, delta=1e-9)
        claim = out["claims"][0]
        self.assertEqual(claim["claim"], "linear_time")
        self.assertEqual(claim["verdict"], "agrees")
        self.assertEqual(claim["provenance"], "mixed")
        # without a baseline --net has no energy to analyse: said, not 0
        net = json.loads(self.cli("analyze", "--from-run", str(r.run_id),
                                  "--db", db, "--json", "--net").stdout)
        self.assertIsNone(net["groups"][0]["energy_j"])
        self.assertEqual(net["claims"][0]["verdict"], "cannot test")


class Errors(FakeMachine):
    def test_a_refused_database_is_an_error_and_left_untouched(self):
        path = self.path("notes.txt")
        self._write("notes.txt", "not a database\n")
        before = os.stat(path)
        with self.assertRaises(greenml.Error) as cm:
            greenml.Meter(db=path).start()
        self.assertEqual(cm.exception.status, "GM_ERR_PARSE")
        self.assertIn(path, cm.exception.message)
        after = os.stat(path)
        self.assertEqual((before.st_size, before.st_mtime_ns),
                         (after.st_size, after.st_mtime_ns))
        self.assertEqual(sorted(os.listdir(self.tmp)),
                         ["dev", "home", "notes.txt", "nvml.txt", "proc", "sys"])

    def test_bad_settings(self):
        with self.assertRaises(greenml.Error) as cm:
            greenml.Meter(interval="0.5ms", db=False).start()
        self.assertEqual(cm.exception.status, "GM_ERR_INVALID_ARG")
        self.assertIn("between 1 ms and 60 s", str(cm.exception))
        with self.assertRaises(greenml.Error) as cm:
            greenml.Meter(region="XX", db=False).start()
        self.assertIn("region 'XX'", cm.exception.message)
        with self.assertRaises(greenml.Error) as cm:
            greenml.Meter(pue=0.5, db=False).start()
        self.assertIn("pue", cm.exception.message)
        with self.assertRaises(ValueError):
            greenml.Meter(interval="soon")
        with self.assertRaises(ValueError):
            greenml.Meter(idle="sometimes")
        with self.assertRaises(ValueError):
            greenml.Meter(db="")
        with self.assertRaises(TypeError):
            greenml.Meter(colour="green")

    def test_states_and_phase_names(self):
        m = greenml.Meter(db=False)
        with self.assertRaises(greenml.Error) as cm:
            m.begin("early")
        self.assertEqual(cm.exception.status, "GM_ERR_STATE")
        with self.assertRaises(greenml.Error) as cm:
            m.stop()
        self.assertEqual(cm.exception.status, "GM_ERR_STATE")
        with m:
            with self.assertRaises(greenml.Error) as cm:
                m.start()
            self.assertEqual(cm.exception.status, "GM_ERR_STATE")
            with self.assertRaises(greenml.Error) as cm:
                m.begin("")
            self.assertEqual(cm.exception.status, "GM_ERR_INVALID_ARG")
            with self.assertRaises(greenml.Error):
                m.begin("x" * 64)
            m.begin("fine")
        self.assertEqual([p.name for p in m.result.phases], ["fine"])

    def test_a_missing_library_names_the_path_and_the_fix(self):
        env = dict(os.environ, GREENML_LIB=self.path("nowhere/libgreenml.so.0"))
        p = subprocess.run([sys.executable, "-c", "import greenml"], env=env,
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ImportError", p.stderr)
        self.assertIn("nowhere/libgreenml.so.0 (no such file)", p.stderr)
        self.assertIn("GREENML_LIB", p.stderr)


class Pandas(FakeMachine):
    def test_to_pandas_rows(self):
        import pandas  # noqa: F401  (python3-pandas, scripts/deps.sh)

        with greenml.Meter(db=False, interval="10ms") as m:
            with m.phase("a"):
                time.sleep(0.03)
        df = m.result.to_pandas()
        self.assertEqual(len(df), 2 * len(m.result.components))
        row = df[(df.phase == "a") & (df.component == "gpu0")].iloc[0]
        self.assertAlmostEqual(row.energy_j, m.result.phase("a").components["gpu0"])
        self.assertEqual(row.provenance, "measured")


class PyTorch(FakeMachine):
    def test_epochs_and_inference_around_a_training_loop(self):
        import torch

        import greenml.pytorch as gp

        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(),
                                    torch.nn.Linear(16, 2))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        x, y = torch.randn(256, 8), torch.randint(0, 2, (256,))
        losses = []
        with greenml.Meter(db=False, interval="10ms") as m:
            for _ in gp.epochs(m, 3):
                for i in range(0, 256, 64):
                    opt.zero_grad()
                    loss = torch.nn.functional.cross_entropy(model(x[i:i + 64]),
                                                             y[i:i + 64])
                    loss.backward()
                    opt.step()
                losses.append(loss.item())
            with gp.inference(m, model=model):
                self.assertFalse(model.training)
                self.assertTrue(torch.is_inference_mode_enabled())
                model(x)
        self.assertTrue(model.training)
        r = m.result
        self.assertEqual([p.name for p in r.phases],
                         ["epoch-1", "epoch-2", "epoch-3", "inference"])
        for p in r.phases:
            self.assertAlmostEqual(p.components["gpu0"], GPU_W * p.duration_s,
                                   delta=1e-9 * GPU_W)
        self.assertEqual(len(losses), 3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
