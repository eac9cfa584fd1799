"""The command line: `site-gen build | check | import | serve | new`.

Every problem in a user's files is printed as `path:line:col: message` with
a hint, and the exit status is non-zero; tracebacks only with --debug.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

from . import __version__
from .errors import BuildFailed, SiteGenError

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _site_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("site", nargs="?", default=".", type=Path,
                        help="the archive folder holding site.yaml and content/ (default: .)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="site-gen",
        description="Build static, searchable archives of government information-disclosure reports.")
    parser.add_argument("--version", action="version", version=f"site-gen {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    build = sub.add_parser("build", help="render content/ into output/",
                           description="Render the archive's sources through its theme into the output folder. "
                                       "The new site replaces the old one only when it is complete.")
    _site_arg(build)
    build.add_argument("--output", type=Path, help="output folder (default: output_dir of site.yaml, output/)")
    build.add_argument("--portable", action="store_true",
                       help="links end in index.html so the archive works opened from disk (file://)")
    build.add_argument("--no-search", action="store_true", help="skip the search index for a quicker build")
    build.add_argument("--strict", action="store_true", help="fail when any arithmetic check fails")
    build.add_argument("--clean", action="store_true",
                       help="ignore the build cache and rebuild everything (files that come out the same stay as they are)")
    build.add_argument("--jobs", type=_positive_int, default=None, help="worker processes (default: all cores)")
    build.add_argument("--quiet", action="store_true", help="print errors only")

    check = sub.add_parser("check", help="validate sources and check their arithmetic without writing the site",
                           description="Validate every source and run the arithmetic rules (R0, R3.1-R3.3, R4.1, R5). "
                                       "Exit 0 when no source is invalid, 1 otherwise; arithmetic failures are "
                                       "warnings unless --strict.")
    _site_arg(check)
    check.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    check.add_argument("--strict", action="store_true", help="arithmetic failures make the exit status 1")
    check.add_argument("--links", action="store_true",
                       help="also check that every internal link and asset of the built site resolves")

    imp = sub.add_parser("import", help="turn raw published reports (text, HTML, PDF) into sources",
                         description="Read crawler text, row-per-line text, saved HTML pages, pdftotext output "
                                     "or PDF files and write one source per report.")
    imp.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="input files")
    imp.add_argument("--into", type=Path, default=Path("content"), help="content folder (default: content/)")
    imp.add_argument("--force", action="store_true", help="overwrite existing source files")
    imp.add_argument("--dry-run", action="store_true", help="show what would be written; write nothing")
    serve = sub.add_parser("serve", help="preview the archive with live reload while you edit",
                           description="Build the archive into a temporary folder, serve it over HTTP, watch "
                                       "sources, themes and settings, rebuild what changed and reload the open "
                                       "pages it changed (an edited report's page first). Never writes into output/.")
    _site_arg(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
    serve.add_argument("--open", action="store_true", help="open the home page in a web browser")
    serve.add_argument("--poll", action="store_true",
                       help="poll for changes (network drives, containers where file events do not arrive)")
    new = sub.add_parser("new", help="create a new archive with an example report, ready to build",
                         description="Create a new archive in DIR (a missing or empty folder): a commented site.yaml, "
                                     "an example report, an about page and a theme folder for your overrides. "
                                     "Never overwrites a file.")
    new.add_argument("dir", type=Path, metavar="DIR", help="the folder to create")
    return parser


def _print_errors(errors: Sequence[SiteGenError], stream=sys.stderr) -> None:
    for error in errors:
        print(f"error: {error}" if error.path is None else str(error), file=stream)


def _progress_printer(quiet: bool) -> Callable[[str, int, int], None] | None:
    if quiet or not sys.stderr.isatty():
        return None
    last = [0.0]

    def show(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < 0.1 and done < total:
            return
        last[0] = now
        width = 30
        filled = int(width * done / total) if total else width
        sys.stderr.write(f"\r{stage} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def cmd_build(args: argparse.Namespace) -> int:
    from .build import build_site
    started = time.perf_counter()
    result = build_site(args.site, args.output, portable=args.portable or None,
                        search=False if args.no_search else None, strict=args.strict or None,
                        clean=args.clean, jobs=args.jobs, progress=_progress_printer(args.quiet))
    for warning in result.warnings:
        print(f"{warning} (warning)", file=sys.stderr)
    if not args.quiet:
        stages = ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items()) or "nothing changed since the last build"
        print(f"built {result.reports} reports, {result.pages} pages into {result.output}: "
              f"{len(result.written)} files written, {result.unchanged} unchanged, {len(result.removed)} removed, "
              f"{result.failing_checks} failing checks in {time.perf_counter() - started:.2f}s ({stages})")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from .check import run_check
    return run_check(args.site, output_format=args.format, strict=args.strict, links=args.links)


def cmd_import(args: argparse.Namespace) -> int:
    from .importer import run_import
    return run_import(args.paths, args.into, force=args.force, dry_run=args.dry_run)


def cmd_serve(args: argparse.Namespace) -> int:
    from .serve import serve
    return serve(args.site, host=args.host, port=args.port, open_browser=args.open, poll=args.poll)


def cmd_new(args: argparse.Namespace) -> int:
    from .scaffold import create_site, next_steps
    create_site(args.dir)
    print(next_steps(args.dir))
    return EXIT_OK


COMMANDS = {"build": cmd_build, "check": cmd_check, "import": cmd_import, "serve": cmd_serve, "new": cmd_new}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except BuildFailed as exc:
        _print_errors(exc.errors)
        print(f"{len(exc.errors)} error{'s' if len(exc.errors) != 1 else ''}; nothing was written", file=sys.stderr)
        return EXIT_ERROR
    except SiteGenError as exc:
        _print_errors([exc])
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stdout = open(os.devnull, "w")
        return EXIT_OK
    except Exception as exc:  # an internal error: say so plainly
        if args.debug:
            raise
        print(f"internal error: {type(exc).__name__}: {exc}\n"
              "  hint: this is a bug in site-gen; run again with --debug and report the traceback",
              file=sys.stderr)
        return 70


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
