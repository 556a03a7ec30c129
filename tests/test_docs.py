"""The documentation agrees with the code: docs/config.md lists every configuration key with its
default and nothing else, docs/architecture.md lists every module, the README stays a short
user's guide, and every relative link in README.md and docs/*.md points at a file that exists.

Why: the configuration reference and the package tree are written by hand from the dataclasses
and the files; without these checks they go stale the day a key or a module is added."""
from __future__ import annotations

import dataclasses
import inspect
import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
CONFIG_MD = DOCS / "config.md"
ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|(.*)\|\s*$")


def sections(path: Path) -> dict[str, list[list[str]]]:
    """Table rows under each ``## ... (`ID`)`` heading: ID -> rows, each a list of cells (first
    cell's backticks removed, the rest stripped)."""
    out: dict[str, list[list[str]]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            m = re.search(r"\(`([^`]+)`\)\s*$", line)
            current = m.group(1) if m else None
            if current is not None:
                assert current not in out, f"{path.name}: two sections for {current}"
                out[current] = []
            continue
        m = ROW.match(line)
        if m and current is not None:
            out[current].append([m.group(1)] + [c.strip() for c in m.group(2).split("|")])
    return out


def default_of(f: dataclasses.Field):
    value = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    if dataclasses.is_dataclass(value):
        return {}  # a nested config: an empty object means its own defaults
    return json.loads(json.dumps(value))  # tuples as lists, as a JSON config spells them


def cell_value(cell: str):
    assert cell.startswith("`") and cell.endswith("`"), f"a default is one code span: {cell!r}"
    return json.loads(cell.strip("`"))


@pytest.fixture(scope="module")
def config_doc():
    return sections(CONFIG_MD)


def key_rows(rows, width=4):
    """key -> default cell, for rows ``| `key` | type | `default` | meaning |``."""
    out = {}
    for r in rows:
        assert len(r) == width, f"a table row with {len(r)} cells: {r}"
        assert r[0] not in out, f"{r[0]} listed twice"
        out[r[0]] = r[2]
    return out


def iterate_refuses(tmp_path, section: str, key: str, value) -> bool:
    """Whether ``prover iterate`` refuses a config that sets ``section.key`` (alone)."""
    from prover.loop.config import ConfigError, IterateConfig
    path = tmp_path / "probe.json"
    path.write_text(json.dumps({section: {key: value}}))
    try:
        IterateConfig.load(path)
    except ConfigError:
        return True
    return False


def dataclass_cases():
    from prover.loop.config import IterateConfig
    from prover.loop.selection import BudgetPolicy
    from prover.model import ModelConfig
    from prover.search import SearchConfig
    from prover.selfplay import SelfPlayConfig
    from prover.train import TrainConfig
    return [IterateConfig, SearchConfig, BudgetPolicy, SelfPlayConfig, TrainConfig, ModelConfig]


@pytest.mark.parametrize("cls", dataclass_cases(), ids=lambda c: c.__name__)
def test_config_md_lists_every_field_of_each_config_dataclass_with_its_default(cls, config_doc, tmp_path):
    assert cls.__name__ in config_doc, f"docs/config.md has no section ending in (`{cls.__name__}`)"
    documented = key_rows(config_doc[cls.__name__])
    fields = {f.name: f for f in dataclasses.fields(cls)}
    # a field the loop refuses in its section (search.max_expansions: budgets decide) is not a key
    refused = set()
    if cls.__name__ == "SearchConfig":
        refused = {n for n, f in fields.items() if iterate_refuses(tmp_path, "search", n, default_of(f))}
    missing = sorted(set(fields) - refused - set(documented))
    unknown = sorted(set(documented) - set(fields))
    assert not missing, f"docs/config.md lacks {cls.__name__} keys: {missing}"
    assert not unknown, f"docs/config.md lists keys {cls.__name__} does not have: {unknown}"
    assert not set(documented) & refused, f"docs/config.md lists refused keys: {sorted(set(documented) & refused)}"
    for name, cell in documented.items():
        assert cell_value(cell) == default_of(fields[name]), \
            f"docs/config.md: {cls.__name__}.{name} default {cell} != {default_of(fields[name])!r}"


def test_config_md_decode_keys_are_exactly_what_model_spec_reads(config_doc):
    from prover.policy.model import DecodeConfig
    from prover.policy.spec import DECODE_KEYS, model_spec
    documented = key_rows(config_doc["DecodeConfig"])
    popped = set(re.findall(r'd\.pop\("(\w+)"', inspect.getsource(model_spec)))
    assert popped and set(DECODE_KEYS) | popped <= set(documented), \
        f"docs/config.md lacks decode keys: {sorted(set(DECODE_KEYS) | popped - set(documented))}"
    for key, cell in documented.items():
        value = cell_value(cell)
        model_spec(None, {key: value})  # every documented key is accepted with its documented default
    with pytest.raises(ValueError):
        model_spec(None, {"no_such_key": 1})
    defaults = {f.name: default_of(f) for f in dataclasses.fields(DecodeConfig)}
    spec = model_spec(None, {})
    defaults.update(k=spec.k, sources=list(spec.sources), generate=spec.generator == "model",
                    source_options=spec.options, menu=False, templates=False)
    for key, cell in documented.items():
        assert cell_value(cell) == defaults[key], f"docs/config.md: decode.{key} default {cell} != {defaults[key]!r}"


def test_config_md_pool_entry_keys_are_those_the_loop_reads(config_doc):
    from prover.loop.iterate import Experiment
    read = set(re.findall(r'spec(?:\.get\(|\[)"(\w+)"', inspect.getsource(Experiment.load_sets)))
    documented = key_rows(config_doc["load_sets"])
    assert read and set(documented) == read, f"pool keys: documented {sorted(documented)}, read {sorted(read)}"
    assert all(cell_value(c) is None for c in documented.values())


def test_config_md_source_options_are_parameters_of_the_sources(config_doc):
    from prover.policy.sources import SOURCES, source_class
    seen = set()
    for source, option, default, _meaning in config_doc["sources"]:
        source = source.strip("`")
        assert source in SOURCES, f"docs/config.md: unknown source {source}"
        option = option.strip("`")
        cls = source_class(source)
        params = inspect.signature(cls.__init__).parameters
        assert option in params, f"docs/config.md: {source} has no option {option}"
        expected = params[option].default
        if expected is None and option == "limit" and getattr(cls, "limit_default", None) is not None:
            expected = cls.limit_default
        assert cell_value(default) == json.loads(json.dumps(expected)), f"{source}.{option}: {default} != {expected!r}"
        seen.add(source)
    assert seen == set(SOURCES), f"sources without options listed: {sorted(set(SOURCES) - seen)}"


def test_config_md_trace_options_are_the_backends(config_doc):
    from prover import backends
    documented: dict[str, set] = {}
    for backend, option, default, _meaning in config_doc["trace_options"]:
        backend, option = backend.strip("`"), option.strip("`")
        documented.setdefault(backend, set()).add(option)
        module = backends.get(backend).module("trace")
        for fn in ("trace_corpus", "trace_repo"):
            params = inspect.signature(getattr(module, fn)).parameters if hasattr(module, fn) else {}
            if option in params:
                assert cell_value(default) == params[option].default, f"trace {backend}.{option}: {default}"
    for name in backends.names():
        assert documented.get(name, set()) == set(backends.get(name).trace_options), f"trace options of {name}"


def test_config_md_example_is_a_valid_config(tmp_path):
    from prover.loop.config import IterateConfig
    text = CONFIG_MD.read_text(encoding="utf-8")
    examples = re.findall(r"```json\n(.*?)```", text, re.S)
    assert examples, "docs/config.md shows an example preset"
    for i, example in enumerate(examples):
        path = tmp_path / f"example{i}.json"
        path.write_text(example)
        IterateConfig.load(path)


def test_every_preset_loads(tmp_path):
    """The presets the README lists are real configs (a key they use that was renamed fails here)."""
    from prover.loop.config import IterateConfig
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"^\| `(\w+)` \|", readme, re.M)) & {p.stem for p in (REPO / "data/configs").glob("*.json")}
    assert {"tiny", "default", "lean"} <= named
    for name in named:  # the gpu preset fine-tunes a checkpoint the command line names
        IterateConfig.load(REPO / "data" / "configs" / f"{name}.json", checkpoint=str(tmp_path) if name == "gpu" else None)


# --------------------------------------------------------------------------- the package tree
def test_architecture_md_lists_every_module():
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    listed, current = set(), None
    for line in text.splitlines():
        m = re.match(r"^### `([\w/]+)/`\s*$", line)
        if m:
            current = m.group(1)
            continue
        m = ROW.match(line)
        if m and current and m.group(1).endswith(".py"):
            listed.add(f"{current}/{m.group(1)}")
    present = {p.relative_to(REPO).as_posix() for pkg in ("prover", "coq_env", "lean_env")
               for p in (REPO / pkg).rglob("*.py") if "__pycache__" not in p.parts}
    assert not present - listed, f"docs/architecture.md lacks modules: {sorted(present - listed)}"
    assert not listed - present, f"docs/architecture.md lists modules that are gone: {sorted(listed - present)}"


# --------------------------------------------------------------------------- README and links
def test_readme_is_a_short_users_guide():
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines (at most 200: details go to docs/)"
    fence = False
    for n, line in enumerate(lines, 1):
        if line.startswith("```"):
            fence = not fence
            continue
        if not fence and not line.startswith("|"):
            assert len(line) <= 200, f"README.md:{n} has {len(line)} characters (prose lines at most 200)"


LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


@pytest.mark.parametrize("doc", ["README.md"] + sorted(p.relative_to(REPO).as_posix() for p in DOCS.glob("*.md")))
def test_relative_links_point_at_existing_files(doc):
    path = REPO / doc
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    broken = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL or an anchor in the same page
        file = target.split("#", 1)[0]
        if not (path.parent / file).exists():
            broken.append(target)
    assert not broken, f"{doc}: links to missing files: {broken}"
