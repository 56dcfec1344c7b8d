"""InferenceData layout (ArviZ's schema), netCDF round trip, and the CmdStan CSV reader."""

import csv
import datetime
import json
import tracemalloc

import netCDF4
import numpy as np
import pytest
import xarray as xr

from exmc.cmdstan_csv import CmdStanCsvError, parse_flat_name, read_cmdstan_csv
from exmc.inference_data import (InferenceData, from_cmdstan_csv, from_netcdf,
                                 to_inference_data)

from conftest import REPO, run_exmc

# ---------------------------------------------------------------------------------
# ArviZ's documented InferenceData schema (doc/source/schema/schema.md in arviz-devs/
# arviz, "InferenceData schema specification"), written down here because ArviZ is
# not installed:
#  * groups: posterior, sample_stats, log_likelihood, posterior_predictive,
#    observed_data, constant_data, prior, sample_stats_prior, prior_predictive,
#    predictions, predictions_constant_data (+ "warmup_" versions ArviZ writes for
#    saved warmup);
#  * sampled groups: the first two dimensions of every variable are (chain, draw);
#    observed_data / constant_data omit them;
#  * every dimension has a coordinate; variables do not share names with dimensions;
#  * each group has attributes created_at, inference_library,
#    inference_library_version;
#  * sample_stats names: lp, acceptance_rate, step_size, step_size_nom, tree_depth,
#    n_steps, diverging (boolean), energy, energy_error, max_energy_error.
# ArviZ's from_cmdstan maps Stan's columns to lp, acceptance_rate, step_size,
# tree_depth (int), n_steps (int), diverging (bool), energy; default variable
# dimensions are named <var>_dim_0, <var>_dim_1, ... with coordinates 0..n-1.
SCHEMA_GROUPS = {"posterior", "sample_stats", "log_likelihood", "posterior_predictive",
                 "observed_data", "constant_data", "prior", "sample_stats_prior",
                 "prior_predictive", "predictions", "predictions_constant_data"}
SCHEMA_GROUPS_ALL = SCHEMA_GROUPS | {"warmup_" + g for g in
                                     ("posterior", "posterior_predictive", "predictions",
                                      "sample_stats", "log_likelihood")}
NON_SAMPLED = {"observed_data", "constant_data", "predictions_constant_data"}
SCHEMA_SAMPLE_STATS = {"lp": "f", "acceptance_rate": "f", "step_size": "f",
                       "tree_depth": "i", "n_steps": "i", "diverging": "b", "energy": "f"}
GROUP_ATTRS = ("created_at", "inference_library", "inference_library_version")


def check_schema(idata):
    """Assert the ArviZ schema on an InferenceData (ours or one read back)."""
    groups = idata.groups()
    assert groups, "no groups"
    assert set(groups) <= SCHEMA_GROUPS_ALL, set(groups) - SCHEMA_GROUPS_ALL
    for g in groups:
        ds = idata[g]
        assert isinstance(ds, xr.Dataset)
        for a in GROUP_ATTRS:
            assert a in ds.attrs, (g, a)
        assert ds.attrs["inference_library"] == "exmc"
        datetime.datetime.fromisoformat(ds.attrs["created_at"])
        for name, da in ds.data_vars.items():
            assert name not in ds.dims, (g, name)
            if g in NON_SAMPLED:
                assert "chain" not in da.dims and "draw" not in da.dims, (g, name)
            else:
                assert da.dims[:2] == ("chain", "draw"), (g, name, da.dims)
            for d in da.dims:
                assert d in ds.coords, (g, name, d)
                assert ds.coords[d].size == ds.sizes[d]
        if g not in NON_SAMPLED:
            np.testing.assert_array_equal(ds.coords["chain"].values, np.arange(ds.sizes["chain"]))
            np.testing.assert_array_equal(ds.coords["draw"].values, np.arange(ds.sizes["draw"]))
    for g in ("sample_stats", "warmup_sample_stats"):
        if g in groups:
            ss = idata[g]
            assert set(SCHEMA_SAMPLE_STATS) <= set(ss.data_vars), set(ss.data_vars)
            for name, kind in SCHEMA_SAMPLE_STATS.items():
                assert ss[name].dtype.kind == kind, (name, ss[name].dtype)
            assert not any(v.endswith("__") for v in ss.data_vars)


def synthetic(rng, chains=3, draws=40, warmup=10):
    post = {"mu": rng.normal(size=(chains, draws)),
            "theta": rng.normal(size=(chains, draws, 4)),
            "Sigma": rng.normal(size=(chains, draws, 2, 3))}
    stats = {"lp__": rng.normal(size=(chains, draws)),
             "accept_stat__": rng.uniform(size=(chains, draws)),
             "stepsize__": np.full((chains, draws), 0.3),
             "treedepth__": rng.integers(1, 5, size=(chains, draws)).astype(float),
             "n_leapfrog__": rng.integers(1, 31, size=(chains, draws)).astype(float),
             "divergent__": (rng.uniform(size=(chains, draws)) < 0.1).astype(float),
             "energy__": rng.normal(size=(chains, draws))}
    return to_inference_data(
        posterior=post, sample_stats=stats,
        log_likelihood={"log_lik": rng.normal(size=(chains, draws, 5))},
        posterior_predictive={"y_rep": rng.normal(size=(chains, draws, 5))},
        observed_data={"y": rng.normal(size=5)},
        constant_data={"x": np.arange(5.0), "N": np.array(5)},
        warmup_posterior={k: v[:, :warmup] for k, v in post.items()},
        warmup_sample_stats={k: v[:, :warmup] for k, v in stats.items()},
        dims={"y": ["obs"], "y_rep": ["obs"], "log_lik": ["obs"], "x": ["obs"]},
        coords={"obs": np.array(["a", "b", "c", "d", "e"])})


def test_schema_of_to_inference_data():
    idata = synthetic(np.random.default_rng(1))
    check_schema(idata)
    assert idata.groups() == ["posterior", "posterior_predictive", "log_likelihood",
                              "sample_stats", "observed_data", "constant_data",
                              "warmup_posterior", "warmup_sample_stats"]
    assert idata.posterior["theta"].dims == ("chain", "draw", "theta_dim_0")
    assert idata.posterior["Sigma"].dims == ("chain", "draw", "Sigma_dim_0", "Sigma_dim_1")
    assert idata.posterior_predictive["y_rep"].dims == ("chain", "draw", "obs")
    assert list(idata.observed_data.coords["obs"].values) == ["a", "b", "c", "d", "e"]
    assert idata.constant_data["N"].dims == ()
    assert idata.warmup_posterior.sizes["draw"] == 10
    # renamed from Stan's names, diverging as booleans equal to divergent__ != 0
    ss = idata.sample_stats
    assert set(ss.data_vars) == set(SCHEMA_SAMPLE_STATS)
    assert ss["diverging"].values.sum() > 0
    assert idata.attrs["inference_library"] == "exmc"


def test_netcdf_round_trip(tmp_path):
    idata = synthetic(np.random.default_rng(2))
    path = tmp_path / "idata.nc"
    assert idata.to_netcdf(path) == str(path)
    back = from_netcdf(path)
    assert back.groups() == idata.groups()
    for g in idata.groups():
        xr.testing.assert_identical(back[g], idata[g])
        for v in idata[g].data_vars:
            assert back[g][v].dtype == idata[g][v].dtype, (g, v)
    assert back.attrs == idata.attrs
    check_schema(back)
    # the file's layout is ArviZ's: root attributes, one netCDF4 group per group,
    # nothing else at the root
    with netCDF4.Dataset(path) as nc:
        assert nc.data_model == "NETCDF4"
        assert list(nc.groups) == idata.groups()
        assert len(nc.variables) == 0
        assert nc.getncattr("inference_library") == "exmc"
        assert set(nc.groups["sample_stats"].variables) >= set(SCHEMA_SAMPLE_STATS) | {"chain", "draw"}
    # xarray opens a group directly, as arviz.from_netcdf does
    with xr.open_dataset(path, group="posterior") as ds:
        np.testing.assert_array_equal(ds["theta"].values, idata.posterior["theta"].values)
    assert InferenceData.from_netcdf(path).groups() == idata.groups()


def test_bad_inputs_are_errors():
    rng = np.random.default_rng(3)
    with pytest.raises(ValueError, match="chain, draw"):
        to_inference_data(posterior={"a": rng.normal(size=(2, 10)), "b": rng.normal(size=(2, 9))})
    with pytest.raises(ValueError, match="coords"):
        to_inference_data(posterior={"a": rng.normal(size=(2, 10, 3))}, dims={"a": ["k"]},
                          coords={"k": [1, 2]})
    with pytest.raises(ValueError, match="unknown InferenceData group"):
        InferenceData(posteriors=xr.Dataset())


# --------------------------------------------------------------- from_cmdstan_csv
def read_plain_csv(path):
    """The CSV's data rows by column name, read with the csv module (independently)."""
    with open(path) as fh:
        rows = [r for r in csv.reader(line for line in fh if not line.startswith("#"))]
    header, data = rows[0], np.array(rows[1:], dtype=float)
    return {name: data[:, i] for i, name in enumerate(header)}


def test_from_cmdstan_csv_eight_schools(eight_schools_csv, tmp_path):
    idata = from_cmdstan_csv(eight_schools_csv, posterior_predictive=True)
    check_schema(idata)
    assert idata.groups() == ["posterior", "posterior_predictive", "log_likelihood", "sample_stats"]
    post = idata.posterior
    assert post["theta"].shape == (2, 100, 8)
    assert post["mu"].shape == (2, 100)
    assert set(post.data_vars) == {"mu", "tau", "theta_tilde", "theta"}
    assert idata.log_likelihood["log_lik"].shape == (2, 100, 8)
    assert idata.posterior_predictive["y_rep"].shape == (2, 100, 8)
    for c, path in enumerate(eight_schools_csv):
        plain = read_plain_csv(path)
        for j in range(8):
            np.testing.assert_array_equal(post["theta"].values[c, :, j], plain[f"theta.{j + 1}"])
            np.testing.assert_array_equal(idata.log_likelihood["log_lik"].values[c, :, j],
                                          plain[f"log_lik.{j + 1}"])
        np.testing.assert_array_equal(post["tau"].values[c], plain["tau"])
        np.testing.assert_array_equal(idata.sample_stats["lp"].values[c], plain["lp__"])
        np.testing.assert_array_equal(idata.sample_stats["diverging"].values[c],
                                      plain["divergent__"] != 0)
        np.testing.assert_array_equal(idata.sample_stats["n_steps"].values[c],
                                      plain["n_leapfrog__"].astype(int))
    # without posterior_predictive, y_rep stays in the posterior; log_likelihood=None keeps log_lik
    idata2 = from_cmdstan_csv(eight_schools_csv, log_likelihood=None)
    assert {"y_rep", "log_lik"} <= set(idata2.posterior.data_vars)
    assert "log_likelihood" not in idata2.groups()
    # and it round-trips
    idata.to_netcdf(tmp_path / "e.nc")
    back = from_netcdf(tmp_path / "e.nc")
    for g in idata.groups():
        xr.testing.assert_identical(back[g], idata[g])


def test_read_cmdstan_csv_sample(eight_schools_csv):
    f = read_cmdstan_csv(eight_schools_csv)
    assert f.method == "sample"
    assert f.num_chains == 2 and f.draws_per_chain == [100, 100]
    assert f.columns[:7] == ["lp__", "accept_stat__", "stepsize__", "treedepth__",
                             "n_leapfrog__", "divergent__", "energy__"]
    assert f.config[0]["sample.num_samples"] == 100
    assert f.config[0]["random.seed"] == 3
    assert f.config_value("delta") == 0.8
    assert f.config[0]["sample.hmc.nuts.max_depth"] == 10
    assert f.config[1]["output.file"].endswith("out_2.csv")
    for c in range(2):
        a = f.adaptation[c]
        # the adapted step size is the one every kept draw used
        assert np.all(f.chains[c][:, 2] == a["step_size"])
        assert a["inv_metric"].shape == (10,) and np.all(a["inv_metric"] > 0)
        assert set(f.timing[c]) == {"warmup", "sampling", "total"}
        assert f.warmup[c].shape == (0, len(f.columns))
    assert f.draws().shape == (2, 100, len(f.columns))


def test_save_warmup_thin_and_dense_metric(tmp_path):
    run_exmc("sample", "examples/eight_schools.stan", "--data", "examples/eight_schools.data.json",
             "--chains", 1, "--warmup", 100, "--draws", 5, "--thin", 2, "--save-warmup",
             "--metric", "dense", "--seed", 4, "--output", tmp_path / "w.csv", "--no-progress")
    f = read_cmdstan_csv(tmp_path / "w.csv")
    assert f.warmup[0].shape[0] == 50 and f.chains[0].shape[0] == 3
    inv = f.adaptation[0]["inv_metric"]
    assert inv.shape == (10, 10)
    np.testing.assert_allclose(inv, inv.T)
    idata = from_cmdstan_csv(tmp_path / "w.csv")
    check_schema(idata)
    assert idata.warmup_posterior["theta"].shape == (1, 50, 8)
    assert idata.warmup_log_likelihood["log_lik"].shape == (1, 50, 8)
    assert idata.posterior["theta"].shape == (1, 3, 8)
    # CmdStan 2.35 writes its booleans as true/false: int("true") was a ValueError, and on
    # "save_warmup = false" too, so no file of a current CmdStan could be read
    text = (tmp_path / "w.csv").read_text()
    assert "save_warmup = 1\n" in text
    for word, warm in (("true", 50), ("false", 0)):
        (tmp_path / f"{word}.csv").write_text(text.replace("save_warmup = 1\n", f"save_warmup = {word}\n"))
        f = read_cmdstan_csv(tmp_path / f"{word}.csv")
        assert f.warmup[0].shape[0] == warm and f.chains[0].shape[0] == 53 - warm


def test_single_file_methods(tmp_path):
    common = ["examples/eight_schools.stan", "--data", "examples/eight_schools.data.json",
              "--seed", 5]
    run_exmc("variational", *common, "--draws", 200, "--output", tmp_path / "v.csv")
    f = read_cmdstan_csv(tmp_path / "v.csv")
    assert f.method == "variational"
    plain = read_plain_csv(tmp_path / "v.csv")
    assert f.chains[0].shape[0] == 200  # the mean row is not a draw
    np.testing.assert_array_equal(f.mean, [plain[c][0] for c in f.columns])
    np.testing.assert_array_equal(f.chains[0][:, f.columns.index("mu")], plain["mu"][1:])
    idata = from_cmdstan_csv(tmp_path / "v.csv")
    assert idata.posterior["theta"].shape == (1, 200, 8)
    assert list(idata.attrs["variational_mean"]) == list(f.mean)

    run_exmc("optimize", *common, "--output", tmp_path / "o.csv")
    f = read_cmdstan_csv(tmp_path / "o.csv")
    assert f.method == "optimize" and f.draws().shape == (1, 1, len(f.columns))
    assert from_cmdstan_csv(tmp_path / "o.csv").posterior["theta"].shape == (1, 1, 8)
    (tmp_path / "o2.csv").write_bytes((tmp_path / "o.csv").read_bytes())
    with pytest.raises(ValueError, match="one file"):
        read_cmdstan_csv([tmp_path / "o.csv", tmp_path / "o2.csv"])
    # One file named twice would be two chains of one: refused before anything else.
    with pytest.raises(ValueError, match="o.csv: the same file as .*o.csv, given twice"):
        read_cmdstan_csv([tmp_path / "o.csv", tmp_path / "." / "o.csv"])


HAND_CSV = """# model = hand
# method = sample (Default)
#   sample
#     num_samples = 2
#     save_warmup = 0 (Default)
lp__,mu,Sigma.1.1,Sigma.2.1,Sigma.1.2,Sigma.2.2,Sigma.1.3,Sigma.2.3,a.1.1.1,a.2.1.1,a.1.2.1,a.2.2.1,a.1.1.2,a.2.1.2,a.1.2.2,a.2.2.2,z.real,z.imag
{rows}
"""


def hand_rows(draws=2):
    rows = []
    for d in range(draws):
        vals = [-1.0 - d, 0.5 + d]
        vals += [100 * d + 10 * i + j for j in (1, 2, 3) for i in (1, 2)]  # column-major
        vals += [1000 * d + 100 * i + 10 * j + k for k in (1, 2) for j in (1, 2) for i in (1, 2)]
        vals += [d + 0.25, d - 0.25]
        rows.append(",".join(repr(float(v)) for v in vals))
    return "\n".join(rows)


def test_matrix_from_column_major_names(tmp_path):
    p = tmp_path / "hand.csv"
    p.write_text(HAND_CSV.format(rows=hand_rows()))
    idata = from_cmdstan_csv(p)
    S = idata.posterior["Sigma"]
    assert S.dims == ("chain", "draw", "Sigma_dim_0", "Sigma_dim_1")
    assert S.shape == (1, 2, 2, 3)
    for d in range(2):
        for i in (1, 2):
            for j in (1, 2, 3):
                assert S.values[0, d, i - 1, j - 1] == 100 * d + 10 * i + j
    A = idata.posterior["a"].values
    assert A.shape == (1, 2, 2, 2, 2)
    for d in range(2):
        for i, j, k in np.ndindex(2, 2, 2):
            assert A[0, d, i, j, k] == 1000 * d + 100 * (i + 1) + 10 * (j + 1) + (k + 1)
    np.testing.assert_array_equal(idata.posterior["z"].values[0], [[0.25, -0.25], [1.25, 0.75]])
    assert parse_flat_name("Sigma.2.1") == ("Sigma", (2, 1))
    assert parse_flat_name("mu") == ("mu", ())
    assert parse_flat_name("t:1") == ("t:1", ())


def test_errors_name_file_and_line(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text(HAND_CSV.format(rows=hand_rows()).replace(",11.0,", ",oops,", 1))
    with pytest.raises(CmdStanCsvError, match=r"bad\.csv:7: value 'oops' in column 3"):
        read_cmdstan_csv(p)
    p.write_text(HAND_CSV.format(rows=hand_rows() + "\n1,2,3"))
    with pytest.raises(CmdStanCsvError, match=r"bad\.csv:9: 3 values, the header has 18"):
        read_cmdstan_csv(p)
    p.write_text("# method = sample\n")
    with pytest.raises(CmdStanCsvError, match=r"bad\.csv: no column header"):
        read_cmdstan_csv(p)
    p.write_text("# method =\nlp__,mu\n1,2\n")
    with pytest.raises(CmdStanCsvError, match=r"bad\.csv: the header's method line names no method"):
        read_cmdstan_csv(p)
    p.write_text(HAND_CSV.format(rows=hand_rows()).replace(",Sigma.2.3,", ",Sigma.9.3,"))
    with pytest.raises(ValueError, match="Sigma"):
        from_cmdstan_csv(p)
    with pytest.raises(CmdStanCsvError, match="cannot read"):
        read_cmdstan_csv(tmp_path / "missing.csv")


def test_a_large_file_is_read_in_blocks_with_every_value_and_line_number(tmp_path):
    # Rows are parsed a block at a time: a file's text, its lines and a Python string per value
    # were held at once (10^7 draws, 552 MB: 8.2 GB), 108 MB of allocations for this 8 MB file.
    rng = np.random.default_rng(1)
    values = rng.normal(size=(100_000, 10))
    p = tmp_path / "big.csv"
    with open(p, "w") as fh:
        fh.write("# method = sample (Default)\n")
        fh.write(",".join(["lp__"] + [f"x.{j}" for j in range(1, 10)]) + "\n")
        np.savetxt(fh, values, fmt="%.17g", delimiter=",")
    tracemalloc.start()
    try:
        f = read_cmdstan_csv(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(f.chains[0], values)  # 17 digits: every value exactly
    assert peak < 3 * values.nbytes, peak
    # A bad value in a later block is named by its line (header on line 2, row r on r + 2).
    lines = p.read_text().splitlines()
    parts = lines[2 + 50_000].split(",")
    lines[2 + 50_000] = ",".join([parts[0], "oops"] + parts[2:])
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(CmdStanCsvError, match=r"big\.csv:50003: value 'oops' in column 2"):
        read_cmdstan_csv(p)


def test_observed_and_constant_data(eight_schools_csv):
    data = json.loads((REPO / "examples" / "eight_schools.data.json").read_text())
    idata = from_cmdstan_csv(eight_schools_csv, posterior_predictive="y_rep",
                             observed_data={"y": np.array(data["y"])},
                             constant_data={"sigma": np.array(data["sigma"]), "J": data["J"]},
                             dims={"y": ["school"], "y_rep": ["school"], "sigma": ["school"],
                                   "theta": ["school"], "log_lik": ["school"]})
    check_schema(idata)
    assert idata.observed_data["y"].dims == ("school",)
    assert idata.posterior["theta"].dims == ("chain", "draw", "school")
    assert idata.posterior["theta_tilde"].dims == ("chain", "draw", "theta_tilde_dim_0")
    np.testing.assert_array_equal(idata.constant_data["sigma"].values, data["sigma"])


def test_files_of_different_runs_are_refused_unless_allowed(eight_schools_csv, tmp_path, capsys):
    # as `exmc summary` refuses them: out_1.csv of one run beside out_2.csv of another (an
    # earlier run with more chains) were silently read, and plotted, as one run's chains
    run_exmc("sample", "examples/eight_schools.stan", "--data", "examples/eight_schools.data.json",
             "--chains", 2, "--warmup", 100, "--draws", 100, "--seed", 4, "--output", tmp_path / "o.csv",
             "--no-progress")
    mixed = [eight_schools_csv[0], tmp_path / "o_2.csv"]
    with pytest.raises(ValueError, match="different runs") as err:
        from_cmdstan_csv(mixed)
    assert "o_2.csv" in str(err.value) and "allow_mixed_runs" in str(err.value)
    assert from_cmdstan_csv(mixed, allow_mixed_runs=True).posterior.sizes["chain"] == 2
    assert from_cmdstan_csv([tmp_path / "o_1.csv", tmp_path / "o_2.csv"]).posterior.sizes["chain"] == 2

    from exmc.__main__ import main
    png = tmp_path / "mixed.png"
    assert main(["plot", *map(str, mixed), "--vars", "mu", "-o", str(png)]) == 2
    assert "different runs" in capsys.readouterr().err and not png.exists()
    assert main(["plot", *map(str, mixed), "--vars", "mu", "--allow-mixed-runs", "-o", str(png)]) == 0


def test_a_run_without_draws_reads_and_is_not_plotted(tmp_path, capsys):
    # --draws 0 is a valid run (warmup only, to --save-metric): reading it was a TypeError
    # (cannot unpack None) and `exmc plot` died with that traceback
    run_exmc("sample", "examples/eight_schools.stan", "--data", "examples/eight_schools.data.json",
             "--chains", 2, "--warmup", 30, "--draws", 0, "--save-warmup", "--seed", 4,
             "--output", tmp_path / "z.csv", "--no-progress")
    files = [tmp_path / "z_1.csv", tmp_path / "z_2.csv"]
    idata = from_cmdstan_csv(files)
    assert idata.posterior["theta"].shape == (2, 0, 8)
    assert idata.sample_stats.sizes["draw"] == 0
    assert idata.warmup_posterior["theta"].shape == (2, 30, 8)

    from exmc.__main__ import main
    png = tmp_path / "z.png"
    assert main(["plot", *map(str, files), "-o", str(png)]) == 2
    assert "no draws" in capsys.readouterr().err and not png.exists()


def test_headerless_csv_is_read_as_draws(tmp_path):
    # CmdStan always writes "# method = sample (Default)"; draws exported without comments
    # (cmdstanpy's draws_pd().to_csv(), pandas, ArviZ) were refused for want of that line,
    # although `exmc summary` reads them.
    p = tmp_path / "export.csv"
    p.write_text("lp__,accept_stat__,mu\n-1,0.9,0.5\n-2,0.8,0.7\n")
    f = read_cmdstan_csv(p)
    assert f.method == "sample" and f.chains[0].shape == (2, 3)
    # cmdstanpy's draws_pd(): every chain in one file, with chain__, iter__ and draw__
    p.write_text("chain__,iter__,draw__,lp__,mu\n1,1,1,-1,0.5\n1,2,2,-2,0.6\n2,1,3,-1.5,0.7\n2,2,4,-2.5,0.8\n")
    f = read_cmdstan_csv(p)
    assert f.columns == ["lp__", "mu"] and len(f.chains) == 2
    np.testing.assert_array_equal(f.chains[1][:, 1], [0.7, 0.8])
    idata = from_cmdstan_csv(p)
    assert idata.posterior["mu"].shape == (2, 2)
    # the other methods' own columns say which they are
    p.write_text("lp_approx__,lp__,mu\n-1,-2,0.5\n")
    assert read_cmdstan_csv(p).method == "pathfinder"
    p.write_text("log_p__,log_g__,mu\n-1,-2,0.5\n")
    assert read_cmdstan_csv(p).method == "laplace"
