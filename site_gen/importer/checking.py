"""Hand an imported source to the archive's own model and arithmetic checks.

The importer writes nothing the build would refuse: the rendered source is
read back through ``site_gen.content`` / ``site_gen.model`` exactly as the
build reads files, and the resulting Report goes through
``site_gen.checks.check_report``.  The summary reports the failing rules of
R3.1, R3.2, R3.3 and R4.1.  Those modules are imported lazily so the
importer keeps working (saying "not checked") if they are unavailable.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from site_gen.errors import SiteGenError

SUMMARY_RULES = ("R3.1", "R3.2", "R3.3", "R4.1")


@dataclass(frozen=True)
class Verdict:
    """The failing rules, "none", or why nothing was checked."""

    text: str


def check_source(content: str, destination: Path, input_name: str) -> Verdict:
    """Validate the source like the build does; raise SiteGenError if it would not load."""
    try:
        from site_gen.checks import FAIL, check_report
        from site_gen.content import SourceFile, split_frontmatter
        from site_gen.errors import BuildFailed
        from site_gen.model import report_from_source
        from site_gen.yamltools import load_yaml
    except ImportError as exc:
        return Verdict(f"not checked ({exc.name} not available)")
    rel = destination.as_posix()
    try:
        meta_text, body, body_line = split_frontmatter(content, rel)
        meta = load_yaml(meta_text, rel, SourceFile.META_LINE_OFFSET) or {}
        digest = hashlib.sha256(content.encode("utf-8")).hexdigest()
        source = SourceFile(destination, rel, digest, meta_text, meta, body, body_line)
        report = report_from_source(source, None)
    except (SiteGenError, BuildFailed) as exc:
        raise SiteGenError(f"the imported source would not validate: {exc}", input_name,
                           hint="this is an importer bug; please report the input") from None
    failing = sorted({r.rule for r in check_report(report) if r.status == FAIL}
                     & set(SUMMARY_RULES))
    return Verdict(", ".join(failing) or "none")
