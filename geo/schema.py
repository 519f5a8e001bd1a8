"""The data contract: inputs, their columns, vocabularies and CRS constants.

This module is the single encoding of the contract documented in
``data/README.md``. Loading, validation, the demo generator, the command line
and the dashboard all read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Storage and drawing CRS.
WGS84 = "EPSG:4326"
#: Metric CRS for distances, areas and kernel bandwidths (KOSOVAREF01 / Balkans zone 7).
METRIC_CRS = "EPSG:9141"

#: Separator(s) accepted between several values inside one cell.
LIST_SEPARATORS = ("|", ";", ",")
#: Separator used when this project writes lists into a cell.
LIST_SEPARATOR = "|"

#: The country's time zone: local dates and times, and what "today" is.
TIME_ZONE = "Europe/Belgrade"
#: The largest ``count`` one row may carry by default (far above any daily ticket count; no sum can overflow).
MAX_COUNT = 1_000_000
#: The earliest plausible date by default; the latest is one day after today (:data:`TIME_ZONE`).
EARLIEST_DATE = "1990-01-01"
#: How whole numbers may be written with a thousands separator (``--number-format INPUT=1.234``):
#: the spelling the user gives -> the separator.
NUMBER_FORMATS = {"1.234": ".", "1,234": ",", "1 234": " "}

#: Overlaps and gaps between sections smaller than this (m², EPSG:9141) are
#: floating-point noise and not reported.
AREA_TOLERANCE_M2 = 1.0


@dataclass(frozen=True)
class Term:
    """One value of a controlled vocabulary.

    ``code`` is what is stored; ``label`` is the English label; ``aliases``
    are other spellings users' files carry (Albanian, Serbian, English).
    """

    code: str
    label: str
    aliases: tuple[str, ...] = ()


INCIDENT_CATEGORIES: tuple[Term, ...] = (
    Term(
        "accident_fatal",
        "Traffic accident with fatalities",
        (
            "Aksident me fatalitet",
            "Aksident me të vdekur",
            "Saobraćajna nezgoda sa smrtnim ishodom",
            "fatal accident",
            "accident fatal",
        ),
    ),
    Term(
        "accident_injury",
        "Traffic accident with injuries",
        (
            "Aksident me të lënduar",
            "Aksident me lëndime",
            "Saobraćajna nezgoda sa povređenima",
            "injury accident",
            "accident with injuries",
        ),
    ),
    Term(
        "accident_damage",
        "Traffic accident, damage only",
        (
            "Aksident me dëme materiale",
            "Aksident me dem material",
            "Saobraćajna nezgoda sa materijalnom štetom",
            "damage only",
            "damage-only accident",
            "property damage accident",
        ),
    ),
    Term("traffic_ticket", "Traffic ticket", ("Tiketë trafiku", "Gjobë trafiku", "Saobraćajna kazna", "ticket")),
    Term("theft", "Theft", ("Vjedhje", "Krađa", "Kradja", "larceny")),
    Term("burglary", "Burglary", ("Vjedhje e rëndë", "Vjedhje me thyerje", "Provalna krađa", "Provala")),
    Term("robbery", "Robbery", ("Grabitje", "Razbojništvo", "Pljačka")),
    Term("assault", "Assault", ("Sulm", "Lëndim trupor", "Napad", "Telesna povreda")),
    Term("domestic_violence", "Domestic violence", ("Dhunë në familje", "Nasilje u porodici", "Porodično nasilje")),
    Term("sexual_offence", "Sexual offence", ("Vepër seksuale", "Seksualno krivično delo", "sexual offense")),
    Term("drugs", "Drugs", ("Narkotikë", "Drogë", "Droga", "Narkotici", "narcotics")),
    Term("public_order", "Public order", ("Rend publik", "Prishje e rendit publik", "Javni red", "Javni red i mir")),
    Term("other", "Other", ("Tjetër", "Të tjera", "Ostalo", "Drugo")),
)

#: Incident categories grouped as the headline figures group them.
ACCIDENT_CATEGORIES = ("accident_fatal", "accident_injury", "accident_damage")
CRIME_CATEGORIES = (
    "theft",
    "burglary",
    "robbery",
    "assault",
    "domestic_violence",
    "sexual_offence",
    "drugs",
    "public_order",
    "other",
)

CONCERN_CATEGORIES: tuple[Term, ...] = (
    Term(
        "road_safety",
        "Road safety / speeding",
        ("Siguria në rrugë", "Shpejtësia", "Bezbednost u saobraćaju", "Brzina", "speeding", "road safety"),
    ),
    Term("drugs", "Drugs", ("Narkotikë", "Drogë", "Droga")),
    Term("theft", "Theft", ("Vjedhje", "Krađa")),
    Term("public_lighting", "Public lighting", ("Ndriçimi publik", "Javna rasveta", "street lighting")),
    Term("stray_animals", "Stray animals", ("Qentë endacakë", "Kafshë endacake", "Psi lutalice", "stray dogs")),
    Term("school_safety", "School safety", ("Siguria në shkolla", "Bezbednost u školama")),
    Term("noise_public_order", "Noise / public order", ("Zhurma", "Rend publik", "Buka", "Javni red", "noise")),
    Term("domestic_violence", "Domestic violence", ("Dhunë në familje", "Nasilje u porodici")),
    Term("illegal_construction", "Illegal construction", ("Ndërtim pa leje", "Bespravna gradnja")),
    Term("other", "Other", ("Tjetër", "Ostalo")),
)

CONCERN_SOURCES: tuple[Term, ...] = (
    Term("lcps_meeting", "LCPS meeting", ("KLSP", "Takim i KLSP", "LCPS")),
    Term("mcps_meeting", "MCPS meeting", ("KKSB", "Takim i KKSB", "MCPS", "MCSC")),
    Term("survey", "Survey", ("Anketë", "Anketa")),
    Term("walk_in", "Walk-in", ("Në stacion", "Lično", "in person", "walk in")),
    Term("phone", "Phone", ("Telefon", "Telefoni")),
    Term("online", "Online", ("Në internet", "Onlajn", "web")),
    Term("acps_meeting", "ACPS meeting", ("EVSP", "Takim i EVSP", "ACPS")),
)

#: The concern source of a meeting of each committee type.
MEETING_SOURCES = {"LCPS": "lcps_meeting", "MCPS": "mcps_meeting", "ACPS": "acps_meeting"}

CONCERN_STATUSES: tuple[Term, ...] = (
    Term("open", "Open", ("I hapur", "Hapur", "Otvoren")),
    Term("in_progress", "In progress", ("Në proces", "Në trajtim", "U toku")),
    Term("resolved", "Resolved", ("I zgjidhur", "Zgjidhur", "Rešen", "Resen", "closed")),
)

COMMITTEE_TYPES: tuple[Term, ...] = (
    Term("LCPS", "Local Committee for Public Safety", ("KLSP", "Komiteti Lokal për Siguri Publike")),
    Term("MCPS", "Municipal Committee for Public Safety", ("KKSB", "MCSC", "Këshilli Komunal për Siguri në Bashkësi")),
    Term("ACPS", "Action Team for Public Safety", ("EVSP", "Ekipi i Veprimit për Siguri Publike")),
)


ACTION_OWNERS: tuple[Term, ...] = (
    Term("police", "Police", ("Policia", "Policija", "KP", "KPS")),
    Term("municipality", "Municipality", ("Komuna", "Opština", "Opstina")),
    Term("other", "Other", ("Tjetër", "Ostalo")),
)

#: What a record of the history is about (``events.record_kind``).
RECORD_KINDS: tuple[Term, ...] = (
    Term("meeting", "Meeting"),
    Term("concern", "Concern"),
    Term("action", "Action"),
    Term("attendance", "Attendance"),
)
#: What a record of the history did (``events.change``).
CHANGES: tuple[Term, ...] = (
    Term("created", "Created"),
    Term("updated", "Updated"),
    Term("status", "Status changed"),
    Term("retracted", "Retracted"),
    Term("redacted", "Redacted"),
    Term("closed", "Closed"),
)

#: Attendance by gender, as committees report it (``attendance`` columns).
GENDERS = ("women", "men")
#: Attendance by community: Kosovo's communities as its Constitution and the Law on communities name them
#: (Albanian, Serb, Turkish, Bosniak, Roma, Ashkali, Egyptian, Gorani, Montenegrin, Croat), and the others.
COMMUNITIES = (
    "albanian",
    "serb",
    "turkish",
    "bosniak",
    "roma",
    "ashkali",
    "egyptian",
    "gorani",
    "montenegrin",
    "croat",
    "other_community",
)
#: Every breakdown group of an attendance record (its optional columns).
ATTENDANCE_GROUPS = GENDERS + COMMUNITIES


@dataclass(frozen=True)
class Field:
    """One column of an input.

    ``kind`` is one of ``text``, ``int``, ``float``, ``date``, ``datetime``,
    ``bool``, ``list``, ``category``, ``period``, ``percent``.
    ``vocabulary`` names the allowed values for ``category`` fields.
    ``aliases`` are column names recognised without an explicit mapping.
    ``place`` is ``municipality`` or ``region`` for a field holding place names, matched against
    :mod:`geo.places`; a name that matches none can be mapped onto a known one (``--value``).
    """

    name: str
    kind: str
    required: bool
    description: str
    vocabulary: tuple[Term, ...] = ()
    aliases: tuple[str, ...] = ()
    place: str = ""

    @property
    def allowed(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.vocabulary)


@dataclass(frozen=True)
class Input:
    """One input of the contract: its name, columns and accepted file formats."""

    name: str
    fields: tuple[Field, ...]
    formats: tuple[str, ...]
    description: str
    #: groups of columns of which at least one complete group is needed (location)
    locate_by: tuple[tuple[str, ...], ...] = ()
    id_field: str | None = None
    extra: dict = field(default_factory=dict)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}; fields are {[f.name for f in self.fields]}")

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


BOUNDARY_FORMATS = (".geojson", ".json", ".gpkg", ".zip", ".shp", ".parquet", ".geoparquet")
TABLE_FORMATS = (".csv", ".txt", ".geojson", ".json", ".parquet")

_LOCATION_FIELDS = (
    Field("lat", "float", False, "latitude, WGS84 degrees", aliases=("latitude", "gjeresia", "geo_lat")),
    Field(
        "lon", "float", False, "longitude, WGS84 degrees", aliases=("lng", "long", "longitude", "gjatesia", "geo_lon")
    ),
    Field("x", "float", False, "easting in the CRS given with --crs (e.g. EPSG:9141, metres)", aliases=("easting",)),
    Field("y", "float", False, "northing in the CRS given with --crs", aliases=("northing",)),
    Field("section_id", "text", False, "the section the record belongs to, when it has no coordinates"),
)
_LOCATE_BY = (("lat", "lon"), ("x", "y"), ("section_id",))

SECTIONS = Input(
    "sections",
    (
        Field(
            "section_id",
            "text",
            True,
            "unique id of the police section",
            # the last ones: boundary files from geoBoundaries, OCHA (HDX) and GADM
            aliases=("id", "section", "sektori_id", "shapeid", "adm2_pcode", "gid_2"),
        ),
        Field(
            "section_name",
            "text",
            True,
            "name of the section",
            aliases=("name", "sektori", "emri", "shapename", "adm2_en", "adm2_sq", "name_2", "name_en", "name_sq"),
        ),
        Field(
            "municipality",
            "text",
            True,
            "municipality (any of its Albanian, Serbian or English names)",
            aliases=("komuna", "opstina", "municipality_name"),
            place="municipality",
        ),
        Field(
            "region",
            "text",
            False,
            "police regional directorate (DRP); derived from the municipality when empty",
            aliases=("drp", "regjioni", "region_drp"),
            place="region",
        ),
        Field("station", "text", False, "police station responsible for the section", aliases=("stacioni",)),
        Field("population", "int", False, "residents", aliases=("pop", "popullsia", "residents")),
        Field(
            "officers",
            "list",
            False,
            "community officers: names and contacts, one per list item",
            aliases=("zyrtaret",),
        ),
        Field("officers_public", "bool", False, "may the officers' contacts be shown in public (default no)"),
        Field(
            "villages",
            "list",
            False,
            "villages / local communities in the section (used by the search box)",
            aliases=("fshatrat", "places", "local_communities"),
        ),
    ),
    BOUNDARY_FORMATS,
    "police section boundaries: Polygon or MultiPolygon features",
    id_field="section_id",
)

INCIDENTS = Input(
    "incidents",
    (
        Field(
            "incident_id",
            "text",
            False,
            "unique id of the record; generated from the row number when absent",
            aliases=("id",),
        ),
        Field(
            "occurred_at",
            "datetime",
            True,
            "date and time of the incident (local time)",
            aliases=("date", "datetime", "data", "datum", "occurred_on"),
        ),
        Field(
            "category",
            "category",
            True,
            "incident category",
            INCIDENT_CATEGORIES,
            aliases=("type", "kategoria", "kategorija"),
        ),
        *_LOCATION_FIELDS,
        Field(
            "count",
            "int",
            False,
            "number of incidents the record stands for (aggregated records such as daily "
            "ticket counts per section); 1 when absent",
            aliases=("n", "numri", "broj"),
        ),
    ),
    TABLE_FORMATS,
    "incidents: one record per incident, or aggregated counts per section and day",
    locate_by=_LOCATE_BY,
    id_field="incident_id",
)

CONCERNS = Input(
    "concerns",
    (
        Field("concern_id", "text", True, "unique id of the concern", aliases=("id",)),
        Field("raised_on", "date", True, "date the concern was raised", aliases=("date", "data", "datum")),
        Field(
            "category", "category", True, "concern category", CONCERN_CATEGORIES, aliases=("kategoria", "kategorija")
        ),
        Field("description", "text", False, "what the citizens said (restricted)", aliases=("pershkrimi", "opis")),
        Field("description_public", "bool", False, "may the description be shown in public (default no)"),
        Field("source", "category", False, "where the concern was raised", CONCERN_SOURCES, aliases=("burimi",)),
        Field("meeting_id", "text", False, "meeting where it was raised"),
        Field(
            "status",
            "category",
            False,
            "open, in progress or resolved (default open)",
            CONCERN_STATUSES,
            aliases=("statusi",),
        ),
        Field("resolved_on", "date", False, "date it was resolved"),
        Field("action_taken", "text", False, "what was done about it", aliases=("veprimi",)),
        *_LOCATION_FIELDS,
    ),
    TABLE_FORMATS,
    "concerns raised by citizens",
    locate_by=_LOCATE_BY,
    id_field="concern_id",
)

COMMITTEES = Input(
    "committees",
    (
        Field("committee_id", "text", True, "unique id of the committee", aliases=("id",)),
        Field("type", "category", True, "LCPS, MCPS or ACPS", COMMITTEE_TYPES, aliases=("lloji", "tip")),
        Field("name", "text", True, "name of the committee", aliases=("emri", "naziv")),
        Field(
            "municipality",
            "text",
            True,
            "municipality (any of its names)",
            aliases=("komuna", "opstina"),
            place="municipality",
        ),
        Field(
            "sections",
            "list",
            False,
            "ids of the sections it covers (MCPS: empty means the whole municipality)",
            aliases=("section_ids", "sektoret"),
        ),
        Field("established_on", "date", False, "date it was set up", aliases=("themeluar",)),
        Field("active", "bool", False, "is it active (default yes)", aliases=("aktiv",)),
        Field("members", "int", False, "number of members", aliases=("anetaret",)),
    ),
    TABLE_FORMATS,
    "public-safety committees",
    id_field="committee_id",
)

MEETINGS = Input(
    "meetings",
    (
        Field("meeting_id", "text", True, "unique id of the meeting", aliases=("id",)),
        Field("committee_id", "text", True, "the committee that met", aliases=("committee",)),
        Field("held_on", "date", True, "date of the meeting", aliases=("date", "data", "datum")),
        Field("attendance", "int", False, "people present", aliases=("pjesemarres", "prisutni")),
        Field("concerns_raised", "int", False, "number of concerns raised"),
    ),
    TABLE_FORMATS,
    "committee meetings",
    id_field="meeting_id",
)

SURVEYS = Input(
    "surveys",
    (
        Field(
            "area",
            "text",
            True,
            "a municipality or a police region (DRP), any of its names",
            aliases=("komuna", "region", "municipality"),
        ),
        Field("period", "period", True, "year (2024) or year-quarter (2024-Q1)", aliases=("year", "viti", "godina")),
        Field("trust_pct", "percent", True, "share trusting the police, 0-100", aliases=("trust", "besimi")),
        Field(
            "satisfaction_pct",
            "percent",
            True,
            "share satisfied with police work, 0-100",
            aliases=("satisfaction", "kenaqesia"),
        ),
        Field("respondents", "int", False, "number of respondents", aliases=("n",)),
    ),
    TABLE_FORMATS,
    "public trust and satisfaction survey results",
)

ACTIONS = Input(
    "actions",
    (
        Field("action_id", "text", True, "unique id of the action", aliases=("id",)),
        Field("concern_id", "text", True, "the concern it answers", aliases=("concern",)),
        Field("meeting_id", "text", False, "the meeting where it was agreed", aliases=("meeting",)),
        Field("what", "text", True, "what will be done", aliases=("action", "veprimi", "mera")),
        Field(
            "owner",
            "category",
            True,
            "who is responsible: police, municipality or other",
            ACTION_OWNERS,
            aliases=("responsible", "pergjegjes", "odgovoran"),
        ),
        Field("due_on", "date", False, "when it is due (may be in the future)", aliases=("due", "afati", "rok")),
        Field("done_on", "date", False, "when it was done"),
    ),
    TABLE_FORMATS,
    "actions agreed at committee meetings, each linked to a concern",
    id_field="action_id",
)

ATTENDANCE = Input(
    "attendance",
    (
        Field("meeting_id", "text", True, "the meeting", aliases=("meeting", "id")),
        Field("total", "int", True, "people present", aliases=("attendance", "pjesemarres", "prisutni")),
        *(Field(g, "int", False, f"of them: {g} (optional, as the committee reports it)") for g in GENDERS),
        *(Field(c, "int", False, f"of them: {c.replace('_', ' ')} community (optional)") for c in COMMUNITIES),
    ),
    TABLE_FORMATS,
    "attendance of committee meetings: the total, and counts by gender and community where reported",
    id_field="meeting_id",
)

EVENTS = Input(
    "events",
    (
        Field("event_id", "text", True, "unique id of the change", aliases=("id",)),
        Field("at", "datetime", True, "when it happened (local time, to the microsecond)", aliases=("when",)),
        Field("actor", "text", True, "who made it (the signed-in user, or the local user)", aliases=("who",)),
        Field("record_kind", "category", True, "meeting, concern, action or attendance", RECORD_KINDS),
        Field("record_id", "text", True, "the id of the record changed"),
        Field("change", "category", True, "created, updated, status, retracted, redacted or closed", CHANGES),
        Field("before", "text", False, "the changed fields before, as JSON (empty for a new record)"),
        Field("after", "text", False, "the changed fields after, as JSON"),
    ),
    TABLE_FORMATS,
    "the history of changes made in the dashboard: every change one record, never altered (a redaction "
    "blanks a text and records that it happened)",
    id_field="event_id",
)

INPUTS: dict[str, Input] = {i.name: i for i in (SECTIONS, INCIDENTS, CONCERNS, COMMITTEES, MEETINGS, SURVEYS)}
#: What meetings record in the dashboard (beside the concerns and meetings themselves): files that ``db export``
#: writes and ``db import`` reads back, not inputs of the dashboard's loaded data.
RECORDS: dict[str, Input] = {i.name: i for i in (ACTIONS, ATTENDANCE, EVENTS)}
#: The whole contract: the inputs and the meetings' records.
CONTRACT: dict[str, Input] = INPUTS | RECORDS
#: Inputs that need sections to be joined or matched.
NEEDS_SECTIONS = ("incidents", "concerns", "committees")

#: Count keys per input that reconcile: the first equals the sum of the others.
COUNT_KEYS: dict[str, tuple[str, ...]] = {
    "sections": ("loaded", "accepted", "rejected"),
    "incidents": ("loaded", "joined", "outside", "rejected"),
    "concerns": ("loaded", "joined", "outside", "rejected"),
    "committees": ("loaded", "matched", "rejected"),
    "meetings": ("loaded", "matched", "rejected"),
    "surveys": ("loaded", "matched", "rejected"),
    "actions": ("loaded", "matched", "rejected"),
    "attendance": ("loaded", "matched", "rejected"),
    "events": ("loaded", "matched", "rejected"),
}
#: Further counts reported beside them (``repaired`` sections are among the accepted).
EXTRA_COUNT_KEYS: dict[str, tuple[str, ...]] = {"sections": ("repaired",)}

#: Every problem code the loader can report, with its default severity.
PROBLEM_CODES: dict[str, str] = {
    # whole-file errors
    "unreadable_file": "error",
    "unsupported_format": "error",
    "empty_file": "error",
    "missing_column": "error",
    "missing_location_columns": "error",
    "missing_crs": "error",
    "bad_crs": "error",
    "duplicate_id": "error",
    "empty_geometry": "error",
    "not_polygon": "error",
    "needs_sections": "error",
    "binary_file": "error",
    "unknown_layer": "error",
    "bad_geometry": "error",
    "duplicate_column": "error",
    "no_sections": "error",
    # row warnings (the row is rejected)
    "bad_date": "warning",
    "bad_number": "warning",
    "bad_value": "warning",
    "bad_period": "warning",
    "out_of_range": "warning",
    "missing_value": "warning",
    "missing_location": "warning",
    "bad_coordinates": "warning",
    "unknown_section": "warning",
    "unknown_committee": "warning",
    "unknown_meeting": "warning",
    "unknown_concern": "warning",
    "unknown_name": "warning",
    "ambiguous_name": "warning",
    "duplicate_record": "warning",
    "already_stored": "warning",
    "duplicate_content": "warning",
    "count_too_large": "warning",
    "implausible_date": "warning",
    "nested_value": "warning",
    # warnings that keep the row
    "swapped_coordinates": "warning",
    "unknown_category": "warning",
    "repaired_geometry": "warning",
    "overlap": "warning",
    "gap": "warning",
    "crs_assumed": "warning",
    "encoding_guessed": "warning",
    "region_mismatch": "warning",
    "population_from_reference": "warning",
    "resolved_before_raised": "warning",
    "bad_character": "warning",
    "several_layers": "warning",
}


def vocabulary(name: str) -> tuple[Term, ...]:
    """The vocabulary of a category field, by ``input.field`` name."""
    inp, _, fld = name.partition(".")
    return CONTRACT[inp].field(fld).vocabulary
