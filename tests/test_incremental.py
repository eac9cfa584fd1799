"""Incremental builds give exactly the bytes of clean builds, and write only what changed."""
from __future__ import annotations

import shutil

import pytest

from tests.helpers import SEED_SOURCE, build, snapshot

SEED = SEED_SOURCE.read_text(encoding="utf-8")


def variant(agency: str, year: int) -> str:
    return SEED.replace("agency: 涼山鄉人民政府", f"agency: {agency}").replace("year: 2022", f"year: {year}")


@pytest.fixture
def site(make_site):
    return make_site({
        "site.yaml": "title: 增量\nbase_url: https://example.org/\n",
        "content/2021/a.md": variant("甲县人民政府", 2021),
        "content/2022/a.md": variant("甲县人民政府", 2022),
        "content/2022/b.md": variant("乙县人民政府", 2022),
    })


def bytes_of(folder):
    return {k: v[0] for k, v in snapshot(folder).items()}


def clean_copy(site, tmp_path):
    return bytes_of(build(site, out_dir=tmp_path / "clean", cache_dir=tmp_path / "clean-cache", clean=True).output)


def test_noop_rebuild_writes_nothing(site):
    build(site)
    before = snapshot(site / "output")
    result = build(site)
    assert result.written == [] and result.removed == []
    assert snapshot(site / "output") == before


def test_edit_rewrites_only_what_it_touches_and_equals_clean(site, tmp_path):
    build(site)
    before = snapshot(site / "output")
    path = site / "content" / "2022" / "b.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n新增的一段文字。\n", encoding="utf-8")
    result = build(site)
    assert "2022/b/index.html" in result.written
    assert "2021/a/index.html" not in result.written and "2022/a/index.html" not in result.written
    after = snapshot(site / "output")
    untouched = [p for p in before if p not in result.written and not p.startswith("search/")]
    assert all(after[p] == before[p] for p in untouched)  # same bytes and same mtime: not rewritten
    assert bytes_of(site / "output") == clean_copy(site, tmp_path)


def test_prose_edit_leaves_pages_that_do_not_show_prose(site, tmp_path):
    build(site)
    path = site / "content" / "2022" / "b.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n只改正文，不改数据。\n", encoding="utf-8")
    result = build(site)
    pages = sorted(p for p in result.written if not p.startswith("search/"))
    assert pages == ["2022/b/index.html"]
    assert bytes_of(site / "output") == clean_copy(site, tmp_path)


def test_figure_edit_reaches_year_table_agency_and_data_files(site, tmp_path):
    build(site)
    path = site / "content" / "2022" / "b.md"
    text = path.read_text(encoding="utf-8")
    assert "results_total:" in text
    path.write_text(text.replace("title:", "region: 乙县\ntitle:", 1) if "region:" not in text
                    else text.replace("region:", "region: 改", 1), encoding="utf-8")
    year_page = site / "output" / "2022" / "index.html"
    year_before = year_page.stat().st_mtime_ns
    result = build(site)
    for expected in ("2022/b/index.html", "2022/b/report.json", "data/reports.json",
                     "data/requests.csv", "tables/requests/2022/index.html"):
        assert expected in result.written
    assert "2021/a/index.html" not in result.written and "2021/index.html" not in result.written
    # The year page was made again (its inputs changed) but shows no region:
    # its bytes came out the same, so the file was left as it was.
    assert "2022/index.html" not in result.written and year_page.stat().st_mtime_ns == year_before
    assert bytes_of(site / "output") == clean_copy(site, tmp_path)


def test_pages_made_again_into_the_same_bytes_are_not_rewritten(site, tmp_path, monkeypatch):
    """After an upgrade of site-gen every page is made again; a page that
    comes out as it was keeps its file and its time (deploy tools that
    compare times upload nothing), and the next build is a no-op."""
    import site_gen.build as build_module
    build(site)
    before = snapshot(site / "output")
    real = build_module.code_digest
    monkeypatch.setattr(build_module, "code_digest", lambda: "upgraded-" + real())
    result = build(site)
    assert result.written == [] and result.removed == [] and result.unchanged == len(before) - 1  # the marker
    assert snapshot(site / "output") == before
    assert build(site).written == []
    assert bytes_of(site / "output") == clean_copy(site, tmp_path)


def test_a_touched_output_file_with_the_right_bytes_is_kept(site):
    """A file whose time changed but whose bytes are right is made again,
    found right and left alone; its new time is recorded, so the rebuild
    after that is a no-op again (not a new check of it every time)."""
    import os
    build(site)
    page = site / "output" / "2021" / "a" / "index.html"
    os.utime(page, ns=(1_000_000_000, 1_000_000_000))
    first = build(site)
    assert first.written == [] and page.stat().st_mtime_ns == 1_000_000_000
    again = build(site)
    assert again.written == [] and again.timings.get("render") is None  # the no-op path, no render


def _set_region(path, region):
    text = path.read_text(encoding="utf-8")
    lines = [line for line in text.split("\n") if not line.startswith("region:")]
    lines.insert(1, f"region: {region}")
    path.write_text("\n".join(lines), encoding="utf-8")


def test_data_files_reuse_unchanged_lines_and_equal_clean(site, tmp_path):
    """Archive-wide data files keep the bytes of unchanged reports' lines
    (see build.LineFile); after edits, adds, removes and a hand-edited data
    file they still equal a clean build's."""
    build(site)
    content = site / "content"
    _set_region(content / "2022" / "b.md", "乙县")
    build(site)
    _set_region(content / "2022" / "a.md", "甲县")
    result = build(site)
    assert "data/reports.json" in result.written and "2021/index.html" not in result.written
    assert bytes_of(site / "output") == clean_copy(site, tmp_path)
    (content / "2023").mkdir()
    (content / "2023" / "c.md").write_text(variant("丙县人民政府", 2023), encoding="utf-8")
    (content / "2021" / "a.md").unlink()
    build(site)
    assert bytes_of(site / "output") == clean_copy(site, tmp_path)
    data = site / "output" / "data" / "reports.json"
    data.write_bytes(data.read_bytes().replace("乙县".encode(), "错县".encode()))  # damaged by hand
    _set_region(content / "2022" / "a.md", "甲县二")
    build(site)
    assert "错县".encode() not in data.read_bytes()
    assert bytes_of(site / "output") == clean_copy(site, tmp_path)


def test_figure_edit_after_clean_build_encodes_only_its_lines(site, monkeypatch):
    import site_gen.build as build_module
    build(site, clean=True)
    made = []
    original = build_module.report_json
    monkeypatch.setattr(build_module, "report_json", lambda r, results: made.append(r.source_path) or original(r, results))
    _set_region(site / "content" / "2022" / "b.md", "乙县")
    result = build(site, jobs=1)  # in this process, where the calls are counted
    assert "data/reports.json" in result.written
    # its report.json and its line of data/reports.json; the other lines are reused
    assert made == ["content/2022/b.md", "content/2022/b.md"]


def test_add_and_remove_reports(site, tmp_path):
    build(site)
    (site / "content" / "2023").mkdir()
    (site / "content" / "2023" / "a.md").write_text(variant("甲县人民政府", 2023), encoding="utf-8")
    (site / "content" / "2021" / "a.md").unlink()
    result = build(site)
    assert "2023/a/index.html" in result.written and "2021/a/index.html" in result.removed
    assert not (site / "output" / "2021").exists()
    assert bytes_of(site / "output") == clean_copy(site, tmp_path)


def test_template_edit_rerenders_pages(site, tmp_path):
    build(site)
    override = site / "themes" / "default" / "templates" / "page.html"
    override.parent.mkdir(parents=True)
    from site_gen.render import default_theme_dir
    shutil.copy(default_theme_dir() / "templates" / "report.html", override.parent / "report.html")
    text = (override.parent / "report.html").read_text(encoding="utf-8")
    (override.parent / "report.html").write_text(text.replace("<article", "<article data-edited=\"1\""),
                                                  encoding="utf-8")
    result = build(site)
    assert "2022/a/index.html" in result.written
    assert 'data-edited="1"' in (site / "output" / "2022" / "a" / "index.html").read_text(encoding="utf-8")
    assert bytes_of(site / "output") == clean_copy(site, tmp_path)


def test_damaged_cache_is_ignored(site, tmp_path):
    build(site)
    (site / ".site-gen-cache" / "state.pickle").write_bytes(b"\x80\x05garbage")
    (site / ".site-gen-cache" / "fingerprint.json").write_text("{not json", encoding="utf-8")
    result = build(site)
    assert result.full
    assert bytes_of(site / "output") == clean_copy(site, tmp_path)


def test_cache_shards_rewritten_only_when_their_sources_change(site, tmp_path):
    build(site)
    cache = site / ".site-gen-cache"
    before = {p.name: p.stat().st_mtime_ns for p in cache.glob("sources-*.pickle")}
    assert before
    path = site / "content" / "2022" / "b.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n一段。\n", encoding="utf-8")
    build(site)
    after = {p.name: p.stat().st_mtime_ns for p in cache.glob("sources-*.pickle")}
    assert len(set(after) - set(before)) == 1  # one new shard file, the others kept as they were
    assert all(after[name] == before[name] for name in set(after) & set(before))
    for shard in cache.glob("sources-*.pickle"):
        shard.write_bytes(b"\x80\x05damaged")
    (cache / "fingerprint.json").unlink()
    result = build(site)
    assert result.full
    assert bytes_of(site / "output") == clean_copy(site, tmp_path)


def test_cache_side_files_of_the_wrong_shape_are_ignored(site, tmp_path):
    build(site)
    for name in ("fingerprint.json", "templates.json"):
        (site / ".site-gen-cache" / name).write_text("[1, 2]", encoding="utf-8")
    build(site)
    assert bytes_of(site / "output") == clean_copy(site, tmp_path)


def test_noop_fast_path_notices_any_change(site):
    build(site)
    assert build(site).timings == {}  # nothing read beyond file names and times
    (site / "output" / "2022" / "a" / "report.json").unlink()
    result = build(site)
    assert result.written == ["2022/a/report.json"]
    (site / "agencies.yaml").write_text("- name: 甲县人民政府\n  level: county\n  kind: government\n",
                                        encoding="utf-8")
    assert build(site).timings != {}


def test_output_file_changed_by_hand_is_restored(site):
    build(site)
    page = site / "output" / "2022" / "a" / "index.html"
    good = page.read_bytes()
    page.write_text("tampered", encoding="utf-8")
    result = build(site)
    assert "2022/a/index.html" in result.written and page.read_bytes() == good


def test_a_fifo_left_where_a_page_was_is_replaced_without_waiting(site):
    """A FIFO in place of a page is not the page: the build remakes the page
    and moves it in, and does not wait on the FIFO for a writer (a
    subprocess with a timeout, so a hang fails the test)."""
    import os
    import subprocess
    import sys
    build(site)
    page = site / "output" / "2022" / "a" / "index.html"
    good = page.read_bytes()
    page.unlink()
    os.mkfifo(page)
    done = subprocess.run([sys.executable, "-m", "site_gen", "build", str(site), "--quiet"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert page.is_file() and page.read_bytes() == good


def test_clean_makes_every_page_again_and_moves_only_what_differs(site, tmp_path, monkeypatch):
    """`--clean` trusts no cache: every page is made again. Over an output
    folder site-gen made, only files that differ are moved in (a page that
    was tampered with), files it does not make are removed, and every other
    file keeps its time, as after any incremental build."""
    import site_gen.build as build_module
    build(site)
    out = site / "output"
    (out / "stray.txt").write_text("not made by site-gen", encoding="utf-8")
    (out / "2021" / "a" / "index.html").write_bytes(b"tampered")
    before = snapshot(out)
    made, real = [], build_module.PageMaker.make
    monkeypatch.setattr(build_module.PageMaker, "make", lambda self, job: made.append(job.path) or real(self, job))
    result = build(site, clean=True, jobs=1)  # one process: the pages are made here, where they are counted
    assert result.full and {"2021/a/index.html", "2022/a/index.html", "2022/b/index.html", "index.html"} <= set(made)
    assert result.written == ["2021/a/index.html"] and result.removed == ["stray.txt"]
    after = snapshot(out)
    assert all(after[rel][1] == before[rel][1] for rel in after if rel != "2021/a/index.html")
    assert bytes_of(out) == clean_copy(site, tmp_path)


def test_a_full_build_into_an_empty_folder_swaps_a_fresh_one_in(site):
    """No site-gen output yet (an empty folder): the build is written into a
    fresh folder and swapped in, as on the first run."""
    (site / "output").mkdir()
    result = build(site)
    assert result.full and "2021/a/index.html" in result.written and (site / "output" / ".site-gen-output").is_file()


def test_template_edit_rerenders_only_pages_made_with_it(site):
    build(site)
    from site_gen.render import default_theme_dir
    override = site / "themes" / "default" / "templates" / "page.html"
    override.parent.mkdir(parents=True)
    override.write_text((default_theme_dir() / "templates" / "page.html").read_text(encoding="utf-8")
                        + "{# edited #}\n", encoding="utf-8")
    result = build(site)
    assert not [p for p in result.written if p.endswith("index.html") and p[:4].isdigit()]
    base = site / "themes" / "default" / "templates" / "base.html"
    base.write_text((default_theme_dir() / "templates" / "base.html").read_text(encoding="utf-8")
                    + "<!-- edited -->\n", encoding="utf-8")
    result = build(site)
    assert "2022/a/index.html" in result.written and "2022/index.html" in result.written
    assert "<!-- edited -->" in (site / "output" / "2022" / "index.html").read_text(encoding="utf-8")
    # An edit that changes no page (a template comment) re-renders them all
    # and writes none of them.
    base.write_text(base.read_text(encoding="utf-8") + "{# only a comment #}\n", encoding="utf-8")
    result = build(site)
    assert [p for p in result.written if not p.startswith("search/")] == []


def test_adding_a_report_leaves_other_years_pages(site):
    build(site)
    (site / "content" / "2022" / "c.md").write_text(variant("丙县人民政府", 2022), encoding="utf-8")
    result = build(site)
    assert "2022/c/index.html" in result.written and "2022/index.html" in result.written
    assert "2021/a/index.html" not in result.written


def test_noop_fast_path_keeps_warnings_and_strict(site):
    bad = site / "content" / "2022" / "b.md"
    bad.write_text(bad.read_text(encoding="utf-8").replace(
        "admin_review: {upheld: 0, corrected: 0, other: 0, pending: 0, total: 0}",
        "admin_review: {upheld: 1, corrected: 0, other: 0, pending: 0, total: 0}"), encoding="utf-8")
    first = build(site)
    again = build(site)
    assert again.timings == {} and [str(w) for w in again.warnings] == [str(w) for w in first.warnings]
    assert len(again.warnings) == 1
    from site_gen.errors import BuildFailed
    with pytest.raises(BuildFailed) as info:
        build(site, strict=True)  # --strict does not change pages: still the no-op path
    assert [str(e) for e in info.value.errors] == [str(w) for w in first.warnings]


def test_trusted_html_setting_reaches_cached_plain_pages(site):
    (site / "content" / "pages").mkdir()
    (site / "content" / "pages" / "about.md").write_text(
        "---\ntitle: 关于\n---\n<span class=\"x\" onclick=\"go()\">说明</span>\n", encoding="utf-8")
    build(site)
    page = site / "output" / "about" / "index.html"
    assert "onclick" not in page.read_text(encoding="utf-8")
    settings = site / "site.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + "trusted_html: true\n", encoding="utf-8")
    build(site)
    assert 'onclick="go()"' in page.read_text(encoding="utf-8")


def _append_prose(path, text):
    path.write_text(path.read_text(encoding="utf-8") + f"\n{text}\n", encoding="utf-8")


@pytest.fixture
def full_plans(monkeypatch):
    """The builds that planned the whole site (a list growing by one per plan)."""
    import site_gen.build as build_module
    calls = []
    original = build_module.plan_site
    monkeypatch.setattr(build_module, "plan_site", lambda *a, **k: calls.append(1) or original(*a, **k))
    return calls


def test_text_only_edits_plan_just_the_edited_pages(site, tmp_path, full_plans):
    build(site)
    _append_prose(site / "content" / "2022" / "b.md", "只改正文。")
    _append_prose(site / "content" / "2021" / "a.md", "这一篇也只改正文。")
    result = build(site)
    assert full_plans == [1]  # the first build only
    assert sorted(p for p in result.written if not p.startswith("search/")) == ["2021/a/index.html",
                                                                                "2022/b/index.html"]
    assert bytes_of(site / "output") == clean_copy(site, tmp_path)
    _append_prose(site / "content" / "2022" / "b.md", "再改一次。")  # the carried plan carries on
    assert [p for p in build(site).written if not p.startswith("search/")] == ["2022/b/index.html"]
    assert full_plans == [1, 1]  # and the clean copy
    assert bytes_of(site / "output") == clean_copy(site, tmp_path)


@pytest.mark.parametrize("change", ["frontmatter", "added", "removed", "template", "agencies", "check"])
def test_anything_beyond_text_plans_the_whole_site(site, tmp_path, change, full_plans):
    build(site)
    path = site / "content" / "2022" / "b.md"
    _append_prose(path, "正文也改了。")
    if change == "frontmatter":
        _set_region(path, "乙县")
    elif change == "added":
        (site / "content" / "2022" / "c.md").write_text(variant("丙县人民政府", 2022), encoding="utf-8")
    elif change == "removed":
        (site / "content" / "2021" / "a.md").unlink()
    elif change == "template":
        override = site / "themes" / "default" / "templates" / "year.html"
        override.parent.mkdir(parents=True)
        from site_gen.render import default_theme_dir
        override.write_text((default_theme_dir() / "templates" / "year.html").read_text(encoding="utf-8")
                            + "{# edited #}\n", encoding="utf-8")
    elif change == "agencies":
        (site / "agencies.yaml").write_text("- name: 甲县人民政府\n  level: county\n  kind: government\n",
                                            encoding="utf-8")
    elif change == "check":  # a figure that breaks a rule: the frontmatter changes too
        path.write_text(path.read_text(encoding="utf-8").replace(
            "admin_review: {upheld: 0, corrected: 0, other: 0, pending: 0, total: 0}",
            "admin_review: {upheld: 1, corrected: 0, other: 0, pending: 0, total: 0}"), encoding="utf-8")
    build(site)
    assert full_plans == [1, 1]
    assert bytes_of(site / "output") == clean_copy(site, tmp_path)


def test_text_only_edit_still_restores_outputs_changed_by_hand(site, tmp_path, full_plans):
    build(site)
    year_page = site / "output" / "2022" / "index.html"
    year_page.unlink()
    _append_prose(site / "content" / "2022" / "b.md", "只改正文。")
    result = build(site)
    assert "2022/index.html" in result.written and "2022/b/index.html" in result.written
    assert full_plans == [1, 1]
    assert bytes_of(site / "output") == clean_copy(site, tmp_path)


def test_text_only_edits_in_the_dev_server_state(site, tmp_path, full_plans):
    """The dev server keeps its state in memory: the same short plan."""
    bad = site / "content" / "2022" / "b.md"
    bad.write_text(bad.read_text(encoding="utf-8").replace(
        "admin_review: {upheld: 0, corrected: 0, other: 0, pending: 0, total: 0}",
        "admin_review: {upheld: 1, corrected: 0, other: 0, pending: 0, total: 0}"), encoding="utf-8")
    out, cache = tmp_path / "served", tmp_path / "served-cache"
    first = build(site, out_dir=out, cache_dir=cache, state_in_memory=True)
    _append_prose(site / "content" / "2022" / "a.md", "预览中的修改。")
    _append_prose(bad, "有问题的这篇也改了正文。")
    result = build(site, out_dir=out, cache_dir=cache, state_in_memory=True)
    assert full_plans == [1]
    assert len(first.warnings) == 1 and [str(w) for w in result.warnings] == [str(w) for w in first.warnings]
    assert sorted(p for p in result.written if not p.startswith("search/")) == ["2022/a/index.html",
                                                                                "2022/b/index.html"]
    assert "预览中的修改" in (out / "2022" / "a" / "index.html").read_text(encoding="utf-8")
    assert bytes_of(out) == clean_copy(site, tmp_path)


def test_clean_rebuilds_the_search_index_it_kept(site):
    build(site)
    kept = site / ".site-gen-cache" / "search-out"
    docs = sorted((kept / "d").rglob("*.js"))
    good = docs[0].read_bytes()
    docs[0].write_bytes(good.replace("人民政府".encode(), "人民政腐".encode()))
    assert build(site).written == []  # an ordinary rebuild trusts its cache
    build(site, clean=True)
    published = site / "output" / "search" / docs[0].relative_to(kept)
    assert published.read_bytes() == good and docs[0].read_bytes() == good


def edit_figure(path, before: str, after: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert before in text
    path.write_text(text.replace(before, after, 1), encoding="utf-8")


def test_early_pages_are_in_place_before_the_rest_and_match_a_clean_build(site, tmp_path):
    """The dev server's builds show the pages of changed reports first: when
    `early` is called, the edited report's page already shows the new figure
    while its year's table page still shows the old one; the rest of the
    build finds the page right and leaves it, and the site is as a clean
    build makes it."""
    out, cache = tmp_path / "served", tmp_path / "served-cache"
    build(site, out_dir=out, cache_dir=cache, state_in_memory=True)
    source = site / "content" / "2022" / "b.md"
    edit_figure(source, "new_received: [0, 0, 0, 0, 0, 0, 0]", "new_received: [5678, 0, 0, 0, 0, 0, 5678]")
    seen = []

    def early(paths):
        seen.append((list(paths), (out / "2022" / "b" / "index.html").read_text(encoding="utf-8"),
                     (out / "tables" / "requests" / "2022" / "index.html").read_text(encoding="utf-8")))

    result = build(site, out_dir=out, cache_dir=cache, state_in_memory=True, early=early)
    [(paths, page, table)] = seen
    assert paths == ["2022/b/index.html"]
    assert ">5678<" in page and ">5678<" not in table
    assert "2022/b/index.html" not in result.written and "tables/requests/2022/index.html" in result.written
    assert ">5678<" in (out / "tables" / "requests" / "2022" / "index.html").read_text(encoding="utf-8")
    assert bytes_of(out) == clean_copy(site, tmp_path)

    (site / "content" / "2022" / "b.md").write_text(source.read_text(encoding="utf-8") + "\n正文。\n", encoding="utf-8")
    seen.clear()
    build(site, out_dir=out, cache_dir=cache, state_in_memory=True, early=early)
    assert seen == []  # prose only: the build is small already, nothing goes ahead of it


def test_early_page_of_a_build_that_failed_is_remade_next_time(site, tmp_path, monkeypatch):
    """A page shown ahead of a build that then fails shows a source the
    server's state does not know; after `forget_outputs` the next build remakes
    it, even when the source went back to what the state knew."""
    import site_gen.build as build_module
    from site_gen.errors import BuildFailed, SiteGenError
    out, cache = tmp_path / "served", tmp_path / "served-cache"
    build(site, out_dir=out, cache_dir=cache, state_in_memory=True)
    source = site / "content" / "2022" / "b.md"
    original = source.read_text(encoding="utf-8")
    good = (out / "2022" / "b" / "index.html").read_bytes()
    edit_figure(source, "new_received: [0, 0, 0, 0, 0, 0, 0]", "new_received: [5678, 0, 0, 0, 0, 0, 5678]")
    shown = []

    def broken_year(self, job):
        raise SiteGenError("the year page broke", "themes/default/templates/year.html", 1)

    with monkeypatch.context() as patch:
        patch.setattr(build_module.PageMaker, "_year", broken_year)
        with pytest.raises(BuildFailed, match="the year page broke"):
            build(site, out_dir=out, cache_dir=cache, state_in_memory=True, early=shown.extend)
    assert shown == ["2022/b/index.html"] and b">5678<" in (out / "2022" / "b" / "index.html").read_bytes()
    build_module.forget_outputs(cache, shown)
    source.write_text(original, encoding="utf-8")
    build(site, out_dir=out, cache_dir=cache, state_in_memory=True, early=shown.extend)
    assert (out / "2022" / "b" / "index.html").read_bytes() == good
    assert bytes_of(out) == clean_copy(site, tmp_path)


def test_random_edits_keep_every_kind_of_build_equal_to_a_clean_one(make_site, tmp_path):
    """Thirty random changes to a small archive of five agencies over three
    years (prose, figures that R5 compares across years, agencies, titles,
    dates, reports added and removed). After each, an incremental build with
    its cache on disk and one of the dev server (state in memory, changed
    pages first) give exactly the bytes of a clean build."""
    import random
    rng = random.Random(20261128)
    agencies = ["甲县人民政府", "乙县人民政府", "丙县人民政府", "丁县人民政府", "戊县人民政府"]
    reports = {f"r{i}": {"year": 2020 + i % 3, "agency": agencies[i % 5], "n": i, "title": "", "prose": "",
                         "published": "2023-01-12", "slug": f"r{i}"} for i in range(10)}

    def free(year: int, slug: str) -> bool:
        return not any(m["year"] == year and m["slug"] == slug for m in reports.values())

    def text(meta: dict) -> str:
        body = SEED.replace("agency: 涼山鄉人民政府", f"agency: {meta['agency']}")
        body = body.replace("year: 2022", f"year: {meta['year']}").replace("published: 2023-01-12",
                                                                          f"published: {meta['published']}")
        body = body.replace("title: 涼山鄉人民政府2022年", f"title: {meta['agency']}{meta['year']}年{meta['title']}")
        n, over, forward = meta["n"], meta["n"] % 2, meta["n"] % 3 % 2  # R5 passes or fails with n
        body = body.replace("new_received: [0, 0, 0, 0, 0, 0, 0]", f"new_received: [{n}, 0, 0, 0, 0, 0, {n}]")
        body = body.replace("carried_over: [0, 0, 0, 0, 0, 0, 0]", f"carried_over: [{over}, 0, 0, 0, 0, 0, {over}]")
        body = body.replace("carried_forward: [0, 0, 0, 0, 0, 0, 0]",
                            f"carried_forward: [{forward}, 0, 0, 0, 0, 0, {forward}]")
        return body + meta["prose"]

    site = make_site({"site.yaml": "title: 随机\nbase_url: https://example.org/\n"})

    def write_all() -> None:
        """Write the sources that changed, remove those gone (the others
        keep their times, as in an editor)."""
        wanted = {site / "content" / str(meta["year"]) / f"{meta['slug']}.md": text(meta) for meta in reports.values()}
        for path in (site / "content").rglob("*.md"):
            if path not in wanted:
                path.unlink()
        for path, body in wanted.items():
            if not path.is_file() or path.read_text(encoding="utf-8") != body:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(body, encoding="utf-8")

    served, served_cache = tmp_path / "served", tmp_path / "served-cache"
    reference, reference_cache = tmp_path / "reference", tmp_path / "reference-cache"
    write_all()
    build(site)
    build(site, out_dir=served, cache_dir=served_cache, state_in_memory=True)
    done, shown = [], []
    for step in range(30):
        name = rng.choice(sorted(reports))
        meta = reports[name]
        change = rng.choice(["prose", "figure", "agency", "title", "published", "add", "remove", "year"])
        if change == "prose":
            meta["prose"] += f"\n第{step}次补充的正文。\n"
        elif change == "figure":
            meta["n"] = rng.randrange(0, 50)
        elif change == "agency":
            meta["agency"] = rng.choice(agencies)
        elif change == "title":
            meta["title"] = f"（第{step}次修订）"
        elif change == "published":
            meta["published"] = f"2023-0{rng.randrange(1, 10)}-1{rng.randrange(0, 10)}"
        elif change == "year":
            year = rng.choice([2020, 2021, 2022])
            if free(year, meta["slug"]):
                meta["year"] = year
        elif change == "add":
            # Sometimes the file name of a report of another year: agencies
            # whose latest reports share a name get longer URL names, so
            # another agency's links change.
            slug, year = rng.choice([f"n{step}", meta["slug"]]), rng.choice([2020, 2021, 2022])
            if free(year, slug):
                reports[f"n{step}"] = {**meta, "agency": rng.choice(agencies), "year": year, "prose": "", "slug": slug}
        elif change == "remove" and len(reports) > 3:
            del reports[name]
        done.append(change)
        write_all()
        shutil.rmtree(reference, ignore_errors=True)
        shutil.rmtree(reference_cache, ignore_errors=True)
        expected = bytes_of(build(site, out_dir=reference, cache_dir=reference_cache).output)
        assert bytes_of(build(site).output) == expected, done
        build(site, out_dir=served, cache_dir=served_cache, state_in_memory=True, early=shown.extend)
        assert bytes_of(served) == expected, done
    assert {"figure", "agency", "add", "remove", "year"} <= set(done)
    assert shown  # the dev server's builds put changed pages first


def test_an_agency_whose_link_changes_has_its_pages_planned_again(make_site, tmp_path):
    """An agency's page is named after its latest report's file; when another
    agency's new latest report has that name too, both get longer names. The
    first agency's report pages link to its page, so they are made again
    although their sources did not change."""
    site = make_site({"site.yaml": "title: 链接\n",
                      "content/2021/x.md": variant("甲县人民政府", 2021),
                      "content/2020/y.md": variant("乙县人民政府", 2020),
                      "content/2022/z.md": variant("丙县人民政府", 2022)})
    build(site)
    page = site / "output" / "2021" / "x" / "index.html"
    assert 'href="../../agencies/x/"' in page.read_text(encoding="utf-8")
    (site / "content" / "2022" / "x.md").write_text(variant("乙县人民政府", 2022), encoding="utf-8")
    result = build(site)
    assert "2021/x/index.html" in result.written
    assert 'href="../../agencies/x/"' not in page.read_text(encoding="utf-8")
    assert bytes_of(site / "output") == clean_copy(site, tmp_path)


def test_a_figure_edit_plans_the_pages_of_its_agency_only(site, tmp_path, monkeypatch):
    """Report pages and report.json files are planned again only for the
    agency whose report changed; the others are carried over from the last
    plan (and the result is still a clean build's)."""
    import site_gen.build as build_module
    build(site)
    planned, original = [], build_module.plan_site

    def plan_site(*args, **kwargs):
        jobs = original(*args, **kwargs)
        planned.append(sorted(j.path for j in jobs if j.kind in ("report", "report_json")))
        return jobs

    monkeypatch.setattr(build_module, "plan_site", plan_site)
    _set_region(site / "content" / "2022" / "b.md", "乙县")  # 乙县人民政府: one report
    build(site)
    assert planned == [["2022/b/index.html", "2022/b/report.json"]]
    assert bytes_of(site / "output") == clean_copy(site, tmp_path)
    # A second 2022 report of 甲县人民政府: its agency's pages are planned again, 乙县's are not.
    (site / "content" / "2022" / "c.md").write_text(variant("甲县人民政府", 2022), encoding="utf-8")
    planned.clear()
    build(site)
    assert planned == [["2021/a/index.html", "2021/a/report.json", "2022/a/index.html", "2022/a/report.json",
                        "2022/c/index.html", "2022/c/report.json"]]
    assert bytes_of(site / "output") == clean_copy(site, tmp_path)
