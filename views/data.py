"""Data: what is loaded, the validation report, reconciliation, records outside sections, export, own files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from geo import db, exports, filecache, report_tables, uploads
from geo.i18n import FIELD_VOCABULARY, md_escape
from geo.loader import LoadOptions
from geo.schema import INPUTS, NUMBER_FORMATS
from geo.source import DatabaseSource, FileSource
from views import cache, gate
from views.context import Context

ctx: Context = st.session_state["ctx"]
_ = ctx._
who = ctx.who
data = ctx.data
report = data.report

ENCODINGS = ("", "utf-8", "cp1250", "cp1252")


def show_report(rep, heading_level: str = "###") -> None:
    n_err, n_warn = len(rep.errors), len(rep.warnings)
    if n_err:
        st.error(
            _(
                "{errors} errors and {warnings} warnings. Files or rows with errors are not used.",
                errors=_.number(n_err),
                warnings=_.number(n_warn),
            )
            + " "
            + report_tables.outcome_text(rep, _)
        )
    elif n_warn:
        st.warning(
            _("No errors. Warnings: {warnings}.", warnings=_.number(n_warn)) + " " + report_tables.outcome_text(rep, _)
        )
    else:
        st.success(_("No problems found."))
    if rep.problems:
        st.markdown(f"{heading_level} {_('Problems')}")
        for block in report_tables.problem_messages(rep, _):
            st.markdown(block)
    st.markdown(f"{heading_level} {_('Every record accounted for')}")
    st.caption(_("Loaded = joined to a section + outside every section + rejected (or matched + rejected)."))
    counts = report_tables.counts_table(rep, _)
    if len(counts):
        st.dataframe(report_tables.shown_counts(counts, _), hide_index=True, width="stretch")
    else:
        st.caption(_("Nothing was loaded."))
    if rep.problems:
        st.markdown(f"{heading_level} {_('Problems')}")
        st.dataframe(
            report_tables.problems_table(rep, _),
            hide_index=True,
            width="stretch",
            column_config={
                _("Severity"): st.column_config.TextColumn(width="small"),
                _("Input"): st.column_config.TextColumn(width="small"),
                _("Row"): st.column_config.TextColumn(width="small"),
                _("Field"): st.column_config.TextColumn(width="small"),
                _("Explanation"): st.column_config.TextColumn(width="large"),
                _("Details"): st.column_config.TextColumn(width="large"),
            },
        )


# ---------------------------------------------------------------- what is loaded

st.title(_("Data"))
saved = st.session_state.pop("_saved_notice", None)
if saved is not None and saved.get("import_id") is not None:
    st.success(
        _(
            "Saved into the deployment's database ({where}): {inputs}. Every user sees this data from their "
            "next click on.",
            where=md_escape(saved["where"]),
            inputs=", ".join(_.input(n) for n in saved["inputs"]),
        )
    )
elif saved is not None and saved.get("report") is not None:
    st.error(
        _(
            "Nothing was saved: the files have errors against the data in the deployment's database (listed "
            "below). The deployment's data is as it was."
        )
    )
    with st.container(border=True):
        show_report(saved["report"], heading_level="####")
elif saved is not None:
    st.error(
        _(
            "Nothing was saved: the deployment's database could not be written ({error}). The deployment's "
            "data is as it was.",
            error=md_escape(saved["error"]),
        )
    )
st.header(_("What is loaded"))
if data.is_demo:
    st.markdown(
        _(
            "The built-in **demo dataset**: synthetic records on approximate boundaries, made for trying "
            "the dashboard. Municipality names, populations and police regions are real; sections, "
            "incidents, concerns and committees are invented."
        )
    )
elif st.session_state.get("source") is not None:
    st.markdown(_("**Files uploaded in this session.** Other users still see the deployment's data."))
elif isinstance(ctx.source, DatabaseSource) and ctx.policy is not None:
    st.markdown(_("**This deployment's data**, from its database."))  # the public is not told where it is
elif isinstance(ctx.source, DatabaseSource):
    st.markdown(
        _(
            "**This deployment's data**, from its database ({where}).",
            where=md_escape(db.describe(ctx.source.engine().url)),
        )
    )
elif ctx.policy is not None:
    st.markdown(_("**This deployment's data**, from the files of its data folder."))
else:
    st.markdown(
        _(
            "**This deployment's data**: the files of its data folder {folder}, read as they are (they could not "
            "be imported into the deployment's database; the notice above says why).",
            folder=md_escape(ctx.settings.data_dir),
        )
    )

policy = ctx.policy
# public: a count of every record would be a total with the small counts in it
loaded = report_tables.loaded_table(data, getattr(ctx.source, "paths", {}), _, counted=policy is None)
st.dataframe(loaded, hide_index=True, width="stretch")
as_of = data.data_as_of
if as_of is not None:
    st.caption(_("Data as of {date}", date=_.date(as_of)))
if st.session_state.get("source") is not None:
    if st.button(_("Back to the deployment's data")):
        st.session_state.pop("source", None)
        st.rerun()

if policy is not None:
    st.info(
        _(
            "Public version: the validation report, the records outside every section, the export of single "
            "incidents and uploads are not available. Sections, committees, meetings and concerns can be "
            "exported; officers' contacts and concern descriptions only where the data marks them public."
        )
    )


def loaded_data_details() -> None:
    """The loaded data's validation report, its records outside every section and its export."""
    # ---------------------------------------------------------------- validation report

    if policy is None and who.access.validation:
        st.header(_("Validation report"))
        show_report(report)

    # ---------------------------------------------------------------- outside every section

    if policy is None and who.access.validation:  # public data has no coordinates, so nothing is outside
        st.header(_("Records outside every section"))
        st.caption(
            _(
                "These records have coordinates that fall in no police section. They are kept and counted here, "
                "but appear in no figure or map."
            )
        )
        outside = {
            name: report_tables.outside_table(getattr(data, name), name, _) for name in ("incidents", "concerns")
        }
        if not any(len(t) for t in outside.values()):
            st.success(_("Every located record lies in a section."))
        for name, table in outside.items():
            if len(table):
                st.markdown(f"**{_.input(name)}: {_.number(len(table))}**")
                st.dataframe(table, hide_index=True, width="stretch")

    # ---------------------------------------------------------------- export

    st.header(_("Export"))
    st.caption(
        _(
            "The loaded records joined to their sections. CSV files are UTF-8 (with a byte-order mark, so "
            "spreadsheets show ë, ç, č, ć, đ, š, ž correctly). Officers' contacts and concern descriptions "
            "are left out unless the data marks them public."
        )
    )
    files = exports.data_downloads(data, policy)
    for row in (files[:3], files[3:]):
        for col, file in zip(st.columns(3), row, strict=True):
            build = file.build
            if policy is None:  # a restricted export: recorded in the audit log before it is sent
                build = gate.audited(who, "export", {"file": file.file_name}, file.build)
            col.download_button(
                _(file.label),
                build,
                file_name=file.file_name,
                mime=file.mime,
                on_click="ignore",
                icon=":material/download:",
                disabled=file.restricted,  # single incidents and raw problem values are restricted
            )


# ---------------------------------------------------------------- own files (first: a check's report is read here)

if policy is not None:
    st.header(_("Use your own files"))
    if ctx.settings.public:
        st.info(_("Uploading is disabled: this deployment is in public-safe mode."))
    else:  # a public-view role (or another computer) on a restricted deployment
        st.info(_("Uploading is disabled in the public-safe view: uploads and imports are for analysts."))
    loaded_data_details()
    st.stop()

if not who.access.uploads:
    st.header(_("Use your own files"))
    st.info(_("Uploads, imports and the validation report are for analysts."))
    loaded_data_details()
    st.stop()

st.header(_("Use your own files"))
limit = st.get_option("server.maxUploadSize")
st.markdown(
    _(
        "Upload your files below; only sections are required. They stay in this session until you choose "
        "otherwise. Files larger than {limit} MB cannot be uploaded here: copy them to the server, check them "
        "with the command line, for example `python -m geo validate --sections sections.geojson --incidents "
        "incidents.csv`, and import them into the deployment's database with `python -m geo db import` and "
        "the same options (see the README).",
        limit=_.number(limit),
    )
)


try:
    keep = uploads.SweepSettings.from_settings(ctx.settings)
except ValueError:  # the entry file says which setting is wrong
    keep = uploads.SweepSettings()
hours = _.number(keep.idle_hours, 0 if keep.idle_hours == int(keep.idle_hours) else 1)
with st.expander(_("What is kept where, and for how long")):
    kept = [
        _(
            "**Your uploads**: in a folder of this session on the server (in its temporary directory), and "
            "nowhere else: not in the cache of large files, and no other user sees them. They are deleted "
            "{hours} hours after this session last used them, or sooner, oldest first, when all uploads "
            "together exceed {size} MB; the dashboard then says so.",
            hours=hours,
            size=_.number(keep.max_mb),
        ),
        _(
            "**Save as this deployment's data** imports them into the deployment's database (on the server): "
            "each uploaded input replaces what the database held of it, the others stay as they are. The "
            "files themselves are not kept."
        ),
        _(
            "**The data folder** {folder} on the server holds the embedded database. Files put there by hand "
            "(with an options.json, see data/README.md), or saved there by an earlier version, are imported "
            "into the database once, at the first start that finds the database empty.",
            folder=md_escape(ctx.settings.data_dir),
        ),
    ]
    if filecache.default_dir(ctx.settings) is not None:
        kept.append(
            _(
                "**The deployment's own data**: inputs larger than {size} MB are also kept, read and checked, in "
                "the server's cache folder (as Parquet, to start faster); the {n} most recently used versions "
                "are kept.",
                size=_.number(filecache.MIN_BYTES / 1_000_000),
                n=_.number(filecache.KEEP),
            )
        )
    st.markdown("\n".join(f"- {line}" for line in kept))
if st.session_state.get("uploads_swept"):
    st.warning(
        _(
            "Your earlier uploads were removed from the server after {hours} hours without use (or because all "
            "uploads together were too large). Upload the files again.",
            hours=hours,
        )
    )


def map_places(
    name: str, fname: str, column: str, path: Path, mtime: int, options: LoadOptions, layer: str = ""
) -> None:
    """Select boxes for the place names of a column that match no single municipality (or region)."""
    kind = INPUTS[name].field(fname).place
    labels = cache.file_labels(str(path), name, column, mtime, layer)
    unmatched = uploads.unmatched_places(name, fname, labels)
    if not unmatched:
        if labels:
            st.caption(_("Every value of **{field}** names one known place.", field=_.field(name, fname)))
        return
    shown = _.municipality if kind == "municipality" else _.region
    st.markdown(
        _(
            "Values of **{field}** that are not a known place, or could be more than one: choose which each means.",
            field=_.field(name, fname),
        )
    )
    vcols = st.columns(3)
    for k, (lbl, meant) in enumerate(list(unmatched.items())[:60]):
        choices = uploads.place_choices(name, fname, meant, shown)
        # keyed by the name itself: a choice never passes to another name when the file changes
        vkey = f"place_{name}_{fname}_{hashlib.sha1(lbl.encode('utf-8')).hexdigest()[:12]}"
        if st.session_state.get(vkey) not in choices:
            st.session_state[vkey] = ""
        choice = vcols[k % 3].selectbox(
            lbl,
            choices,
            key=vkey,
            format_func=lambda c: shown(c) if c else _("(not mapped)"),
            help=_("Could be: {places}", places=", ".join(shown(c) for c in meant)) if meant else None,
        )
        if choice:
            options.values.setdefault(name, {}).setdefault(fname, {})[lbl] = choice
    if len(unmatched) > 60:
        st.caption(
            _(
                "{n} more values are not shown; map them in the file or on the command line.",
                n=_.number(len(unmatched) - 60),
            )
        )


def save_into_database(candidate: FileSource) -> dict:
    """Import the checked upload into the deployment's database (:func:`geo.uploads.save_own`); what the
    page then says: the import's number, or the report of its errors, or why the database refused."""
    try:
        outcome = uploads.save_own(candidate, ctx.settings)
    except (SQLAlchemyError, OSError, ValueError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    if not outcome.ok:
        return {"report": outcome.report}
    return {
        "import_id": outcome.import_id,
        "inputs": list(outcome.added),
        "where": db.describe(db.engine(ctx.settings).url),
    }


def upload_dir() -> Path:
    """This session's folder for uploads, made on the first upload (not on every visit to this page)."""
    if "upload_dir" not in st.session_state:
        try:
            st.session_state["upload_dir"] = str(uploads.new_session_dir())
        except (OSError, ValueError) as exc:
            st.error(_("Uploads cannot be kept on this server: {error}", error=str(exc)))
            st.stop()
    return Path(st.session_state["upload_dir"])


stored: dict[str, dict] = st.session_state.setdefault("uploads", {})
generation = st.session_state.get("upload_generation", 0)  # new after a sweep: empty upload widgets

names = list(INPUTS)
for row in (names[:3], names[3:]):  # two rows of three, so that the order reads left to right
    for col, name in zip(st.columns(3), row, strict=True):
        with col:
            uf = st.file_uploader(
                _.input(name),
                type=uploads.UPLOAD_TYPES[name],
                key=f"upload_{name}" if not generation else f"upload_{name}_{generation}",
                help=_.pgettext("input_help", name, INPUTS[name].description),
            )
            if uf is not None and stored.get(name, {}).get("file_id") != uf.file_id:
                try:
                    who.record("upload", {"input": name, "file": uf.name, "bytes": uf.size})
                except gate.Refused as exc:
                    gate.refused(_, exc)
                path = uploads.save_upload(upload_dir(), name, uf.name, uf.getvalue())
                stored[name] = {"file_id": uf.file_id, "path": str(path), "name": uf.name}
                st.session_state.pop("uploads_swept", None)
            if name in stored:
                st.caption(_("Uploaded: {name}", name=stored[name]["name"]))
                if st.button(_("Remove"), key=f"remove_{name}"):
                    stored.pop(name, None)
                    st.rerun()

if stored:
    st.subheader(_("Match your columns to the contract"))
    st.caption(
        _(
            "Columns recognised by their name or content are already chosen: check them. Choose the column "
            "that holds each field, or leave it empty."
        )
    )
    options = LoadOptions()
    readable = True
    for name in INPUTS:
        if name not in stored:
            continue
        path = Path(stored[name]["path"])
        mtime = path.stat().st_mtime_ns if path.exists() else 0
        with st.expander(f"{_.input(name)} · {stored[name]['name']}", expanded=True):
            layers = cache.file_layers(str(path), mtime)
            layer = ""
            if len(layers) > 1:
                layer = st.selectbox(
                    _("Layer to read (the file holds {n})", n=_.number(len(layers))),
                    ["", *layers],
                    key=f"opt_layer_{name}",
                    format_func=lambda n, first=layers[0]: n or _("{name} (the first)", name=first),
                )
                if layer:
                    options.layer[name] = layer
            columns, why = cache.file_columns(str(path), name, mtime, layer)
            if why:
                readable = readable and name != "sections"
                st.error(_("This file cannot be read: {reason}", reason=why))
                continue
            guessed = cache.file_guess(str(path), name, mtime, layer)
            chosen: dict[str, str] = {}
            fcols = st.columns(3)
            for j, fld in enumerate(INPUTS[name].fields):
                key = f"map_{name}_{fld.name}"
                if st.session_state.get(key) not in ["", *columns]:
                    st.session_state[key] = guessed.get(fld.name, "")
                label = _.field(name, fld.name) + (" *" if fld.required else "")
                col = fcols[j % 3].selectbox(
                    label,
                    ["", *columns],
                    key=key,
                    help=_.field_help(name, fld.name),
                    format_func=lambda c: c if c else "—",
                )
                if col:
                    chosen[fld.name] = col
            missing = uploads.missing_fields(name, chosen)
            if missing:
                st.warning(
                    _("Required fields without a column: {fields}", fields=", ".join(_.field(name, m) for m in missing))
                )
            options.columns[name] = chosen
            for fld_name, vocab_ctx in FIELD_VOCABULARY.items():
                inp, _dot, fname = fld_name.partition(".")
                if inp != name or fname not in chosen:
                    continue
                labels = cache.file_labels(str(path), name, chosen[fname], mtime, layer)
                unknown = uploads.unknown_labels(name, fname, labels)
                if not unknown:
                    continue
                st.markdown(
                    _(
                        "Values of **{field}** that are not in the vocabulary: choose what each means.",
                        field=_.field(name, fname),
                    )
                )
                codes = ["", *INPUTS[name].field(fname).allowed]
                vcols = st.columns(3)
                for k, lbl in enumerate(unknown[:60]):
                    vkey = f"val_{name}_{fname}_{k}"
                    if st.session_state.get(vkey) not in codes:
                        st.session_state[vkey] = ""
                    code = vcols[k % 3].selectbox(
                        lbl,
                        codes,
                        key=vkey,
                        format_func=lambda c, ctx_=vocab_ctx: _.term(ctx_, c) if c else _("(not mapped)"),
                    )
                    if code:
                        options.values.setdefault(name, {}).setdefault(fname, {})[lbl] = code
                if len(unknown) > 60:
                    st.caption(
                        _(
                            "{n} more values are not shown; map them in the file or on the command line.",
                            n=_.number(len(unknown) - 60),
                        )
                    )
            for fld in INPUTS[name].fields:
                if fld.place and fld.name in chosen:
                    map_places(name, fld.name, chosen[fld.name], path, mtime, options, layer)
            if name in ("sections", "incidents", "concerns"):
                crs = st.text_input(
                    _("Coordinate system, when the file declares none (e.g. EPSG:9141)"), key=f"opt_crs_{name}"
                )
                if crs.strip():
                    options.crs[name] = crs.strip()
            if Path(stored[name]["path"]).suffix.lower() in (".csv", ".txt"):
                enc = st.selectbox(
                    _("Text encoding"), ENCODINGS, key=f"opt_enc_{name}", format_func=lambda e: e or _("detect")
                )
                if enc:
                    options.encoding[name] = enc
                grouping = st.selectbox(
                    _("Thousands separator in whole numbers"),
                    ["", *NUMBER_FORMATS],
                    key=f"opt_numbers_{name}",
                    format_func=lambda f: f or _("none (1.000 and 1,000 are rejected, not guessed)"),
                )
                if grouping:
                    options.number_format[name] = grouping

    if "sections" not in stored:
        st.info(_("Upload a sections file: the other inputs are joined to the sections."))
    elif st.button(_("Check these files"), type="primary"):
        st.session_state["candidate"] = FileSource(
            {n: Path(v["path"]) for n, v in stored.items()}, options, label="upload"
        )

    candidate: FileSource | None = st.session_state.get("candidate")
    if candidate is not None and set(candidate.paths) != set(stored):
        candidate = None
        st.session_state.pop("candidate", None)
    if candidate is not None:
        st.subheader(_("Result of the check"))
        try:
            checked = cache.dataset(candidate)
        except Exception as exc:  # noqa: BLE001 - a crash while reading users' files must not take the app down
            checked = None
            st.error(
                _(
                    "The files could not be checked: {error}. Please check the files' format.",
                    error=f"{type(exc).__name__}: {exc}",
                )
            )
        if checked is not None:
            show_report(checked.report, heading_level="####")
            usable = uploads.usable(checked)
            if not usable:
                st.error(_("The sections could not be loaded, so these files cannot be used yet."))
            if st.button(_("Use this data (this session only)"), disabled=not usable, type="primary"):
                st.session_state["source"] = candidate
                st.rerun()
            with st.container(border=True):
                sure = st.checkbox(
                    _("I understand that saving replaces the data every user of this dashboard sees."),
                    key="confirm_save",
                )
                st.caption(
                    _(
                        "Saving imports these files into the deployment's database in one step: each uploaded "
                        "input replaces what the database held of it (records made in the dashboard are kept), "
                        "inputs not uploaded stay as they are. If anything goes wrong, nothing is changed and "
                        "the data before stays in use."
                    )
                )
                if st.button(_("Save as this deployment's data"), disabled=not (usable and sure)):
                    try:
                        files = {n: Path(p).name for n, p in candidate.paths.items()}
                        who.record("import", {"inputs": sorted(files), "files": files})
                    except gate.Refused as exc:
                        gate.refused(_, exc)
                    with st.spinner(_("Saving…")):
                        st.session_state["_saved_notice"] = save_into_database(candidate)
                    if st.session_state["_saved_notice"].get("import_id") is not None:
                        st.session_state.pop("source", None)  # the session now shows the deployment's data
                        st.session_state.pop("candidate", None)
                    st.rerun()

loaded_data_details()
