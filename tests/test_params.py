"""Parameters files against the notebooks they drive.

papermill only warns about a parameter the notebook does not declare, and the
report then silently uses the default; these tests make such a file fail.
"""

from pathlib import Path

import papermill
import pytest

from journey_utils import build
from journey_utils.build import params, prepared
from tests.test_report_build import NEEDS_NOTEBOOKS_REASON, notebooks_read_prepared_data  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
PARAMS = ROOT / "params"
NOTEBOOKS = ROOT / "notebooks"
PREPROCESSING = NOTEBOOKS / "01_preprocessing.ipynb"
ANALYSIS = NOTEBOOKS / "02_journey_analysis.ipynb"
COMPARISON = NOTEBOOKS / "03_plan_comparison.ipynb"
SHARED = PARAMS / "preprocessing.yaml"
COMPARISON_PARAMS = PARAMS / "comparison.yaml"
DEFAULTS = PARAMS / "analysis.yaml"
OVERRIDES = sorted(PARAMS.glob("plans/*.yaml"))
EVERY_FILE = sorted(PARAMS.glob("*.yaml")) + OVERRIDES


def notebook_for(path: Path) -> Path:
    """Which notebook a parameters file drives, as in the Makefile."""
    return {SHARED: PREPROCESSING, COMPARISON_PARAMS: COMPARISON}.get(path, ANALYSIS)


def test_the_shipped_parameter_files_are_the_optional_defaults():
    assert {p.name for p in PARAMS.glob("*.yaml")} == {"preprocessing.yaml", "comparison.yaml", "analysis.yaml"}


@pytest.mark.parametrize("path", EVERY_FILE, ids=lambda p: p.name)
def test_every_key_is_a_notebook_parameter_of_the_declared_type(path):
    declared = papermill.inspect_notebook(str(notebook_for(path)))
    values = params.load(path)
    assert values, f"{path.name} is empty"
    for key, value in values.items():
        assert key in declared, f"{path.name}: {key!r} is not a parameter of {notebook_for(path).name}"
        assert key not in build.BUILD_SET, f"{path.name}: {key!r} is set by the build"
        annotation = declared[key]["inferred_type_name"]
        assert params.accepts(annotation, value), f"{path.name}: {key}={value!r} is not {annotation}"


def test_shipped_files_leave_page_choices_to_the_data():
    # Pages differ between websites: a shipped default naming pages would empty other sites' sections.
    for path, keys in [(DEFAULTS, ["key_pages"]), (COMPARISON_PARAMS, ["key_pages", "next_pages_of", "anchor_page"])]:
        values = params.load(path)
        assert all(values.get(key) in (None, [], "") for key in keys), (path.name, values)


def test_shipped_override_files_override_something():
    # A guard for files added to params/plans/ later (none ships today).
    for path in OVERRIDES:
        values = params.load(path)
        assert set(values) - {"plans"}, f"{path.name} only names a plan: other exports would warn about it"


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_every_notebook_parameter_has_a_supported_annotation_and_its_default_fits(notebook):
    declared = papermill.inspect_notebook(str(notebook))
    assert declared, f"{notebook.name} has no parameters cell"
    for name, spec in declared.items():
        default = eval(spec["default"], {})  # literals written in the notebook's own parameters cell
        assert params.accepts(spec["inferred_type_name"], default), (name, spec)


@pytest.mark.parametrize(
    ("annotation", "value", "expected"),
    [
        ("str", "Annual", True),
        ("str", 3, False),
        ("int", 10, True),
        ("int", True, False),
        ("int", 10.0, False),
        ("int", "10", False),
        ("float", 3, True),
        ("bool", False, True),
        ("list[str]", ["Pricing", "Sign up"], True),
        ("list[str]", ["Pricing", 3], False),
        ("list[str]", "Pricing", False),
        ("list[int]", [3, 4], True),
        ("list[int]", [3, "4"], False),
        ("list", [1, "a"], True),
        ("Union[int, str]", "All", True),
        ("Union[int, str]", 3, True),
        ("Union[int, str]", [3], False),
        ("Optional[int]", None, True),
    ],
)
def test_accepts(annotation, value, expected):
    assert params.accepts(annotation, value) is expected


def test_accepts_rejects_annotations_it_does_not_know():
    with pytest.raises(params.ParamsError, match="unsupported parameter annotation"):
        params.accepts("dict[str, int]", {})


def write(tmp_path, text, name="plan.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_is_data_only(tmp_path):
    path = write(tmp_path, "plan: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(params.ParamsError, match="not valid YAML literals"):
        params.load(path)


@pytest.mark.parametrize(("text", "match"), [
    ("- Annual\n", "expected a mapping"),
    ("1: Annual\n", "names must be text"),
    ("plan: [Annual\n", "not valid YAML"),
])
def test_load_rejects_files_that_are_not_a_mapping_of_names(tmp_path, text, match):
    with pytest.raises(params.ParamsError, match=match):
        params.load(write(tmp_path, text))


def test_load_of_a_missing_file_names_it(tmp_path):
    with pytest.raises(params.ParamsError, match="missing.yaml"):
        params.load(tmp_path / "missing.yaml")


def test_unknown_key_is_rejected_with_the_accepted_keys(tmp_path):
    path = write(tmp_path, "plans: [Annual]\ntop: 10\n")
    with pytest.raises(params.ParamsError, match=r"unknown parameter 'top'.*accepted: plans, top_n"):
        build.resolve_parameters(ANALYSIS, params_file=path)


@pytest.mark.parametrize(("text", "found"), [
    ("top_n: '10'\n", r"'10' \(str\)"),
    ("top_n: 10.5\n", r"10.5 \(float\)"),
    ("top_n: yes\n", r"True \(bool\)"),
    ("plans: no\n", r"False \(bool\)"),
    ("plans: Annual\n", r"'Annual' \(str\)"),
    ("sequence_lengths: 3\n", r"3 \(int\)"),
    ("key_pages: [Pricing, 2]\n", r"\['Pricing', 2\] \(list\)"),
])
def test_values_of_the_wrong_type_are_rejected_clearly(tmp_path, text, found):
    path = write(tmp_path, text)
    with pytest.raises(params.ParamsError, match=rf"plan.yaml: parameter '\w+' must be .*; found {found}"):
        build.resolve_parameters(ANALYSIS, params_file=path)


@pytest.mark.parametrize("key", build.BUILD_SET)
def test_build_set_keys_cannot_be_set_in_a_file(tmp_path, key):
    path = write(tmp_path, f"plans: [Annual]\n{key}: elsewhere.parquet\n")
    with pytest.raises(params.ParamsError, match=f"'{key}' is set by the build"):
        build.resolve_parameters(ANALYSIS, params_file=path, shared_file=SHARED)


def test_the_build_sets_the_input_folder_and_the_output_file_only():
    assert build.BUILD_SET == ("input_path", "output_path")


@pytest.mark.skipif("not notebooks_read_prepared_data()", reason=NEEDS_NOTEBOOKS_REASON)
def test_the_notebooks_take_what_the_build_sets():
    # As the Makefile runs them: 01 with input_path and output_path, 02 and 03 with input_path.
    for notebook, keys in [(PREPROCESSING, {"input_path", "output_path"}), (ANALYSIS, {"input_path"}),
                           (COMPARISON, {"input_path"})]:
        declared = papermill.inspect_notebook(str(notebook))
        assert keys <= set(declared) and not {"processed_path", "sessions_output_path"} & set(declared), notebook.name


def test_every_window_parameter_the_prepare_step_reads_is_a_notebook_parameter():
    # The prepared data holds the windows the reports use; a renamed parameter would leave one out.
    for name, (parameter, files) in prepared.WINDOW_PARAMETERS.items():
        declared = papermill.inspect_notebook(str(NOTEBOOKS / f"{name}.ipynb"))
        assert declared[parameter]["inferred_type_name"] == "int", (name, parameter)
        for pattern in files:
            for path in PARAMS.glob(pattern):
                assert notebook_for(path).stem == name, path


def test_preprocessing_settings_have_one_home(tmp_path):
    path = write(tmp_path, "plans: [Annual]\nsessions: 3\n")
    with pytest.raises(params.ParamsError, match="'sessions' is a preprocessing setting"):
        build.resolve_parameters(ANALYSIS, params_file=path, shared_file=SHARED)


def test_resolved_parameters_merge_shared_file_and_build_values():
    values = build.resolve_parameters(
        ANALYSIS, params_file=DEFAULTS, shared_file=SHARED,
        overrides={"input_path": "data/processed/users"},
    )
    assert values["top_n"] == params.load(DEFAULTS)["top_n"]
    assert values["sessions"] == params.load(SHARED)["sessions"]
    assert values["input_path"] == "data/processed/users"


def test_comparison_takes_only_the_shared_settings_it_declares():
    values = build.resolve_parameters(COMPARISON, params_file=COMPARISON_PARAMS, shared_file=SHARED)
    declared = papermill.inspect_notebook(str(COMPARISON))
    assert set(values) <= set(declared)


# ------------------------------------------------- params/ as optional overrides of the plans in the data

PLANS = ["Annual", "Free trial → Pro", "Monthly"]


def params_folder(tmp_path, files: dict) -> Path:
    folder = tmp_path / "params"
    (folder / "plans").mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def by_plan(found) -> dict:
    return {r["plan"]: r for r in found["reports"]}


def test_every_plan_gets_a_report_with_no_file_at_all(tmp_path):
    found = build.plan_reports(PLANS, params_dir=tmp_path / "missing", notebook=ANALYSIS)
    assert [r["plan"] for r in found["reports"]] == [None, *sorted(PLANS)]
    assert [r["parameters"] for r in found["reports"]] == [{"plans": []}] + [{"plans": [p]} for p in sorted(PLANS)]
    assert found["skipped"] == [] and found["warnings"] == []


def test_defaults_then_one_plans_override(tmp_path):
    folder = params_folder(tmp_path, {
        "analysis.yaml": "top_n: 7\nsession_window: 2\n",
        "plans/pro.yaml": "plans: ['Free trial → Pro']\ntop_n: 3\n",
        "plans/everyone.yaml": "plans: []\nsequence_lengths: [2]\n",
    })
    reports = by_plan(build.plan_reports(PLANS, params_dir=folder, notebook=ANALYSIS))
    assert reports["Free trial → Pro"]["parameters"] == {"plans": ["Free trial → Pro"], "top_n": 3, "session_window": 2}
    assert reports["Free trial → Pro"]["sources"] == ["params/analysis.yaml", "params/plans/pro.yaml"]
    assert reports["Annual"]["parameters"] == {"plans": ["Annual"], "top_n": 7, "session_window": 2}
    assert reports[None]["parameters"] == {"plans": [], "top_n": 7, "session_window": 2, "sequence_lengths": [2]}


def test_a_file_for_a_plan_not_in_the_data_is_skipped_with_a_warning_naming_it(tmp_path):
    folder = params_folder(tmp_path, {"plans/weekly.yaml": "plans: [Weekly]\ntop_n: 5\n",
                                      "plans/annual.yaml": "plans: [annual]\ntop_n: 5\n"})
    found = build.plan_reports(PLANS, params_dir=folder, notebook=ANALYSIS)
    assert [r["plan"] for r in found["reports"]] == [None, *sorted(PLANS)]
    assert all(r["parameters"].get("top_n") is None for r in found["reports"])
    assert found["skipped"] == [("params/plans/annual.yaml", "annual"), ("params/plans/weekly.yaml", "Weekly")]
    weekly = found["warnings"][1]
    assert "params/plans/weekly.yaml" in weekly and "'Weekly'" in weekly and "skipped" in weekly
    assert "plans present: Annual, Free trial → Pro, Monthly" in weekly
    assert "did you mean 'Annual'?" in found["warnings"][0]


@pytest.mark.parametrize(("files", "match"), [
    ({"plans/a.yaml": "plan: Annual\n"},
     r"plans/a.yaml: say which report .* plans: \[<plan name>\].*found plan: 'Annual'"),
    ({"plans/a.yaml": "top_n: 3\n"}, r"plans/a.yaml: .*name it with plans: \[<plan name>\]"),
    ({"plans/a.yaml": "plans: [Annual, Monthly]\n"}, r"plans/a.yaml: plans must be a list of one plan name"),
    ({"plans/a.yaml": "plans: [Annual]\nsessions: 3\n"}, r"plans/a.yaml: 'sessions' is a preprocessing setting"),
    ({"plans/a.yaml": "plans: [Annual]\ninput_path: x.csv\n"}, r"plans/a.yaml: 'input_path' is set by the build"),
    ({"plans/a.yaml": "plans: [Annual]\ntop: 3\n"}, r"plans/a.yaml: unknown parameter 'top'"),
    ({"plans/a.yaml": "plans: [Annual]\n", "plans/b.yaml": "plans: [Annual]\ntop_n: 2\n"},
     r"plans/a.yaml and params/plans/b.yaml both set the parameters of the report on plan 'Annual'"),
    ({"plans/my plan.yaml": "plans: [Annual]\n"}, r"plans/my plan.yaml: rename the file"),
    ({"analysis.yaml": "plans: [Annual]\n"}, r"analysis.yaml: 'plans' cannot be set here"),
    ({"analysis.yaml": "top_n: ten\n"}, r"analysis.yaml: parameter 'top_n' must be int"),
])
def test_override_files_that_cannot_be_used_stop_the_build_naming_the_file(tmp_path, files, match):
    folder = params_folder(tmp_path, {"preprocessing.yaml": "sessions: All\n", **files})
    with pytest.raises(params.ParamsError, match=match):
        build.plan_reports(PLANS, params_dir=folder, notebook=ANALYSIS)


def test_notes_next_to_the_overrides_are_ignored(tmp_path):
    folder = params_folder(tmp_path, {"plans/README.md": "# notes\n"})
    assert build.plan_reports(PLANS, params_dir=folder, notebook=ANALYSIS)["warnings"] == []
