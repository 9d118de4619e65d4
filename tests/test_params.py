"""Parameters files against the notebooks they drive.

papermill only warns about a parameter the notebook does not declare, and the
report then silently uses the default; these tests make such a file fail.
"""

from pathlib import Path

import papermill
import pytest

from journey_utils import build, params

ROOT = Path(__file__).resolve().parent.parent
PARAMS = ROOT / "params"
NOTEBOOKS = ROOT / "notebooks"
PREPROCESSING = NOTEBOOKS / "01_preprocessing.ipynb"
ANALYSIS = NOTEBOOKS / "02_journey_analysis.ipynb"
COMPARISON = NOTEBOOKS / "03_plan_comparison.ipynb"
SHARED = PARAMS / "preprocessing.yaml"
COMPARISON_PARAMS = PARAMS / "comparison.yaml"
PLAN_FILES = sorted(p for p in PARAMS.glob("*.yaml") if p not in (SHARED, COMPARISON_PARAMS))


def notebook_for(path: Path) -> Path:
    """Which notebook a parameters file drives, as in the Makefile."""
    return {SHARED: PREPROCESSING, COMPARISON_PARAMS: COMPARISON}.get(path, ANALYSIS)


def test_the_expected_parameter_files_exist():
    names = {p.name for p in PARAMS.glob("*.yaml")}
    assert {"preprocessing.yaml", "comparison.yaml", "all.yaml", "annual.yaml", "monthly.yaml",
            "quarterly.yaml"} <= names


@pytest.mark.parametrize("path", sorted(PARAMS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_key_is_a_notebook_parameter_of_the_declared_type(path):
    declared = papermill.inspect_notebook(str(notebook_for(path)))
    values = params.load(path)
    assert values, f"{path.name} is empty"
    for key, value in values.items():
        assert key in declared, f"{path.name}: {key!r} is not a parameter of {notebook_for(path).name}"
        assert key not in build.BUILD_SET, f"{path.name}: {key!r} is set by the build"
        annotation = declared[key]["inferred_type_name"]
        assert params.accepts(annotation, value), f"{path.name}: {key}={value!r} is not {annotation}"


@pytest.mark.parametrize("path", PLAN_FILES, ids=lambda p: p.name)
def test_plan_files_name_a_plan_and_do_not_repeat_preprocessing(path):
    values = params.load(path)
    assert isinstance(values.get("plan"), str) and values["plan"]
    assert not set(values) & set(params.load(SHARED))


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
    path = write(tmp_path, "plan: Annual\ntop: 10\n")
    with pytest.raises(params.ParamsError, match=r"unknown parameter 'top'.*accepted: plan, top_n"):
        build.resolve_parameters(ANALYSIS, params_file=path)


@pytest.mark.parametrize(("text", "found"), [
    ("top_n: '10'\n", r"'10' \(str\)"),
    ("top_n: 10.5\n", r"10.5 \(float\)"),
    ("top_n: yes\n", r"True \(bool\)"),
    ("plan: no\n", r"False \(bool\)"),
    ("sequence_lengths: 3\n", r"3 \(int\)"),
    ("key_pages: [Pricing, 2]\n", r"\['Pricing', 2\] \(list\)"),
])
def test_values_of_the_wrong_type_are_rejected_clearly(tmp_path, text, found):
    path = write(tmp_path, text)
    with pytest.raises(params.ParamsError, match=rf"plan.yaml: parameter '\w+' must be .*; found {found}"):
        build.resolve_parameters(ANALYSIS, params_file=path)


def test_build_set_keys_cannot_be_set_in_a_file(tmp_path):
    path = write(tmp_path, "plan: Annual\nprocessed_path: elsewhere.csv\n")
    with pytest.raises(params.ParamsError, match="'processed_path' is set by the build"):
        build.resolve_parameters(ANALYSIS, params_file=path, shared_file=SHARED)


def test_preprocessing_settings_have_one_home(tmp_path):
    path = write(tmp_path, "plan: Annual\nsessions: 3\n")
    with pytest.raises(params.ParamsError, match="'sessions' is a preprocessing setting"):
        build.resolve_parameters(ANALYSIS, params_file=path, shared_file=SHARED)


def test_resolved_parameters_merge_shared_file_and_build_values():
    values = build.resolve_parameters(
        ANALYSIS, params_file=PARAMS / "annual.yaml", shared_file=SHARED,
        overrides={"input_path": "in.csv", "processed_path": "out.csv"},
    )
    assert values["plan"] == "Annual"
    assert values["sessions"] == params.load(SHARED)["sessions"]
    assert values["input_path"] == "in.csv" and values["processed_path"] == "out.csv"


def test_comparison_takes_only_the_shared_settings_it_declares():
    values = build.resolve_parameters(COMPARISON, params_file=COMPARISON_PARAMS, shared_file=SHARED)
    declared = papermill.inspect_notebook(str(COMPARISON))
    assert set(values) <= set(declared)
