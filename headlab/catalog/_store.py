"""The catalogue in memory: records from all files merged, cross-checked and indexed.

A ``Catalog`` is built in one go from a list of parsed files and never changed afterwards; extending the
catalogue builds a new one, so a bad extension file leaves the working catalogue untouched.
"""

from __future__ import annotations

import difflib
import operator
from collections import defaultdict
from typing import Iterable

from headlab.catalog import _normalize as norm
from headlab.catalog._loading import Record, Source, excerpt
from headlab.catalog._records import STAGE_NAMES, STAGE_NAMES_ZH, Entry, Homonym, Instance, Model, Paper, PaperLink
from headlab.errors import CatalogError

# Role ids of headlab.roles, used to check extension files when that registry cannot be imported
# (it needs the heavy dependencies; the catalogue must work with pyyaml and jsonschema only).
_SYNTACTIC = ["nsubj", "obj", "amod", "advmod", "det", "prep", "pobj", "all"]
FALLBACK_ROLE_IDS = tuple(
    ["local", "previous", "next", "self", "delimiter", "cls", "sep", "bos", "block", "punctuation"]
    + [f"syn:{r}{rev}" for r in _SYNTACTIC for rev in ("", ":rev")]
    + ["previous_token", "duplicate_token", "induction", "sink", "retrieval", "copying"]
)

_CONFIDENCE_ORDER = {"confirmed": 0, "consistent_copies": 1, "third_party": 2, "unconfirmed": 3}
_ROLE_ORDER = {"introduced": 0, "extended": 1, "tagged": 2, "applied": 3, "cited_by_survey": 4, "precursor": 5}
_SEARCH_STOPWORDS = frozenset("a an and the of in on to for is are that this with by from head heads".split())
# Search reads at most this much of a query: enough for any name or phrase, and a pasted book stays cheap.
_MAX_QUERY_CHARS = 500


def registered_role_ids() -> tuple[str, ...]:
    """Role ids a detector may name: the agreed built-in ids plus whatever headlab.roles has registered.

    The built-in ids count even when the registry cannot be imported (it needs the heavy dependencies),
    and user-registered roles count as soon as they are registered.
    """
    try:
        from headlab import roles  # noqa: PLC0415 - optional and possibly heavy
        registered = tuple(roles.names())
    except (ImportError, AttributeError):  # no registry, or one without names() yet
        registered = ()
    return tuple(dict.fromkeys(FALLBACK_ROLE_IDS + registered))


class Catalog:
    """All head types, papers, instances, models and probes, with the indexes the lookups need."""

    def __init__(self, sources: list[Source]):
        self.sources = list(sources)
        by_section: dict[str, list[Record]] = defaultdict(list)
        for source in self.sources:
            for record in source.records:
                by_section[record.section].append(record)
        self._head_records = by_section["heads"]
        self.probes = self._unique(by_section["probes"], "probe")
        self.models = {r.data["id"]: _make_model(r) for r in self._unique_records(by_section["models"], "model")}
        self.papers = {r.data["id"]: _make_paper(r) for r in self._unique_records(by_section["papers"], "paper")}
        self._paper_records = {r.data["id"]: r for r in by_section["papers"]}
        head_ids = {r.data["id"] for r in self._unique_records(self._head_records, "head type")}

        self._check_heads(head_ids)
        self._check_papers(head_ids)
        instances = self._build_instances(by_section["instances"], head_ids)
        self.entries = self._build_entries(instances)
        self._build_indexes()

    # ------------------------------------------------------------ building

    @staticmethod
    def _unique_records(records: list[Record], what: str) -> list[Record]:
        seen: dict[str, Record] = {}
        for record in records:
            ident = record.data["id"]
            if ident in seen:
                raise CatalogError(
                    f"{record.where}: {what} id '{ident}' is already defined at {seen[ident].where}. "
                    f"Give the new {what} a different id."
                )
            seen[ident] = record
        return records

    def _unique(self, records: list[Record], what: str) -> dict[str, dict]:
        return {r.data["id"]: r.data for r in self._unique_records(records, what)}

    def _check_heads(self, head_ids: set[str]) -> None:
        """References from head types to other head types, papers and probes must resolve.

        Detector ids of user files are checked against the role registry here; those of the built-in
        files are checked by the test suite, so loading does not have to import the registry.
        """
        roles: tuple[str, ...] | None = None
        for record in self._head_records:
            d = record.data
            refs = [d.get("parent")] + list(d.get("variants", [])) + [r["id"] for r in d.get("related", [])]
            for ref in refs:
                if ref is not None and ref not in head_ids:
                    raise CatalogError(f"{record.label}: refers to unknown head type '{ref}'{_did_you_mean(ref, head_ids)}; "
                                       "use an id from hl.catalog.entries().")
            papers = [p["id"] for p in d.get("papers", [])] + [p for h in d.get("homonyms", []) for p in h.get("papers", [])]
            for ref in papers:
                if ref not in self.papers:
                    raise CatalogError(f"{record.label}: refers to unknown paper '{ref}'{_did_you_mean(ref, self.papers)}; "
                                       "add the paper or use a known paper id.")
            for probe in d.get("probe_data", []):
                if probe not in self.probes:
                    raise CatalogError(f"{record.label}: unknown probe data '{probe}'{_did_you_mean(probe, self.probes)}; "
                                       "use one of the probes in probes.yaml.")
            if not self._is_builtin(record):
                roles = roles or registered_role_ids()
                for role in d.get("detector", []):
                    if role not in roles:
                        raise CatalogError(
                            f"{record.label}: detector '{role}' is not a registered headlab role"
                            f"{_did_you_mean(role, roles)}. Register the role first or leave it out."
                        )

    def _check_papers(self, head_ids: set[str]) -> None:
        for record in self._paper_records.values():
            for ref in record.data.get("head_types", []):
                if ref not in head_ids:
                    raise CatalogError(f"{record.label}: head_types names unknown head type '{ref}'{_did_you_mean(ref, head_ids)}; "
                                       "use an id from hl.catalog.entries().")

    @staticmethod
    def _is_builtin(record: Record) -> bool:
        return record.origin == "builtin"

    def _build_instances(self, records: list[Record], head_ids: set[str]) -> list[Instance]:
        names = {r.data["id"]: r.data["name"] for r in self._head_records}
        out = []
        for record in records:
            d = record.data
            if d["type"] not in head_ids:
                raise CatalogError(f"{record.label}: unknown head type '{d['type']}'{_did_you_mean(d['type'], head_ids)}; "
                                   "use an id from hl.catalog.entries().")
            if d["source"] not in self.papers:
                raise CatalogError(f"{record.label}: unknown source paper '{d['source']}'{_did_you_mean(d['source'], self.papers)}; "
                                   "add the paper to your file or use a known paper id.")
            model = self._model_for_record(record)
            base = d.get("index_base", 0)
            layer, head = d["layer"] - base, d["head"] - base
            if layer < 0 or head < 0:
                raise CatalogError(f"{record.label}: layer and head count from {base}; got {d['layer']}.{d['head']}.")
            if layer >= model.n_layers or head >= model.n_heads:
                raise CatalogError(
                    f"{record.label}: {model.id} has {model.n_layers} layers x {model.n_heads} heads, "
                    f"so layer {layer}, head {head} (0-based) does not exist. Check the numbers against the paper."
                )
            published = f"{d['layer']}-{d['head']} (1-based)" if base == 1 else f"{layer}.{head}"
            score = d.get("score") or {}
            out.append(Instance(
                type=d["type"], type_name=names[d["type"]], model=model.id, layer=layer, head=head,
                source=d["source"], confidence=d["confidence"], as_published=published,
                head_kind=d.get("head_kind", "query"), locator=d.get("locator"), rank=d.get("rank"),
                score_name=score.get("name"), score_value=score.get("value"), note=d.get("note"),
                origin=_origin(record), model_hf_id=model.hf_id,
            ))
        return out

    def _model_for_record(self, record: Record) -> Model:
        name = record.data["model"]
        if name in self.models:
            return self.models[name]
        # Extensions may spell a known model the way users do ("gpt2").
        found = self._resolve_model_name(name)
        if found is None:
            raise CatalogError(
                f"{record.label}: unknown model '{name}'{_did_you_mean(name, self.models)}. "
                "Add it under 'models:' with n_layers and n_heads."
            )
        return found

    def _resolve_model_name(self, name: str) -> Model | None:
        spellings = {}
        for model in self.models.values():
            for spelling in (model.id, model.hf_id, *model.names):
                if spelling:
                    for k in norm.model_keys(spelling):
                        spellings.setdefault(k, model)
        for k in norm.model_keys(name):
            if k in spellings:
                return spellings[k]
        return None

    def _build_entries(self, instances: list[Instance]) -> dict[str, Entry]:
        tagged_by: dict[str, list[Paper]] = defaultdict(list)
        for paper in self.papers.values():
            for hid in paper.head_types:
                tagged_by[hid].append(paper)
        inst_by: dict[str, list[Instance]] = defaultdict(list)
        for inst in instances:
            inst_by[inst.type].append(inst)

        entries = {}
        for record in self._head_records:
            d = record.data
            links: dict[str, PaperLink] = {}
            for p in d.get("papers", []):
                links[p["id"]] = PaperLink(self.papers[p["id"]], p["role"])
            for paper in tagged_by[d["id"]]:
                links.setdefault(paper.id, PaperLink(paper, "tagged"))
            ordered_links = sorted(links.values(), key=lambda l: (_ROLE_ORDER.get(l.role, 9), l.paper.date, l.paper.id))
            ordered_instances = sorted(
                inst_by[d["id"]],
                key=lambda i: (i.model, _CONFIDENCE_ORDER[i.confidence], i.rank or 10**6, i.layer, i.head),
            )
            stage = d["stage"]
            entries[d["id"]] = Entry(
                id=d["id"], name=d["name"], definition=" ".join(d["definition"].split()),
                stage=stage.get("primary"), stage_source=stage["source"],
                stage_secondary=tuple(stage.get("secondary", [])), stage_sub_category=stage.get("sub_category"),
                stage_note=stage.get("note"),
                zh=tuple((z["name"], z["source"]) for z in d.get("zh", [])),
                aliases=tuple(d.get("aliases", [])), parent=d.get("parent"), variants=tuple(d.get("variants", [])),
                detector=tuple(d.get("detector", [])), automatic=d.get("automatic"), detection=_flat(d.get("detection")),
                probe_data=tuple(d.get("probe_data", [])), families=tuple(d.get("families", [])), layers=d.get("layers"),
                related=tuple((r["id"], r["relation"]) for r in d.get("related", [])),
                papers=tuple(ordered_links),
                homonyms=tuple(Homonym(h["label"], h["meaning"], tuple(h.get("papers", []))) for h in d.get("homonyms", [])),
                caveats=tuple(d.get("caveats", [])), instances=tuple(ordered_instances), origin=_origin(record),
            )
        return entries

    def _build_indexes(self) -> None:
        # Every id, name, alias and Chinese name -> entry id. One key may name one entry only.
        self.keys: dict[str, str] = {}
        where: dict[str, str] = {}
        for record in self._head_records:
            d = record.data
            names = [d["id"], d["name"], *d.get("aliases", []), *(z["name"] for z in d.get("zh", []))]
            for name in names:
                k = norm.key(name)
                if not k:
                    raise CatalogError(f"{record.label}: name {excerpt(name)} has no letters or digits.")
                owner = self.keys.get(k)
                if owner is not None and owner != d["id"]:
                    raise CatalogError(
                        f"{record.label}: the name {excerpt(name)} is already used by head type '{owner}' ({where[k]}). "
                        "Names and aliases must be unique; record a homonym under 'homonyms' instead."
                    )
                self.keys[k] = d["id"]
                where[k] = record.where
        # Paper ids, survey keys and arXiv ids -> paper id; a user re-adding a listed paper under a new id
        # would otherwise be shadowed silently.
        self.paper_keys: dict[str, str] = {}
        for paper in self.papers.values():
            for name in {paper.id, paper.arxiv_id, paper.survey_bibkey} - {None}:
                owner = self.paper_keys.setdefault(norm.key(name), paper.id)
                if owner != paper.id:
                    raise CatalogError(
                        f"{self._paper_records[paper.id].label}: {name!r} already identifies paper '{owner}' "
                        f"({self._paper_records[owner].where}). Refer to that paper instead of adding it again."
                    )
        self.by_role: dict[str, list[str]] = defaultdict(list)
        for entry in self.entries.values():
            for role in entry.detector:
                self.by_role[role].append(entry.id)
        self.by_head: dict[tuple[str, int, int], list[Instance]] = defaultdict(list)
        for entry in self.entries.values():
            for inst in entry.instances:
                self.by_head[(inst.model, inst.layer, inst.head)].append(inst)
        for found in self.by_head.values():
            found.sort(key=lambda i: (_CONFIDENCE_ORDER[i.confidence], i.type))
        self.model_keys: dict[str, str] = {}
        for model in self.models.values():
            own = {model.id, model.hf_id, *model.names} - {None}
            for spelling in own:
                for k in norm.model_keys(spelling):
                    owner = self.model_keys.setdefault(k, model.id)
                    # Only the full spelling must be unique; the part after a hub owner may repeat
                    # ("org-a/llama" and "org-b/llama") and then belongs to the first model.
                    if owner != model.id and k == norm.model_keys(spelling)[0]:
                        raise CatalogError(f"Model spelling {spelling!r} of '{model.id}' already names model '{owner}'; remove the spelling from one of them.")
        self._search_docs = {e.id: _SearchDoc(e) for e in self.entries.values()}

    # ------------------------------------------------------------ lookups

    def get(self, name: str) -> Entry:
        if not isinstance(name, str):
            raise CatalogError(f"Head type names are strings; got {type(name).__name__}. Pass e.g. 'induction'.")
        k = norm.key(name)
        if k in self.keys:
            return self.entries[self.keys[k]]
        raise CatalogError(f"Unknown head type {excerpt(name)}.{self._suggest(name[:_MAX_QUERY_CHARS])} "
                           "Use hl.catalog.search(text) to find its id.")

    def _suggest(self, name: str) -> str:
        k = norm.key(name)
        close = difflib.get_close_matches(k, list(self.keys), n=8, cutoff=0.6)
        ids = list(dict.fromkeys(self.keys[c] for c in close))
        if not ids:
            ids = [e.id for e in self.search(name, limit=3)]
        if ids:
            shown = ", ".join(f"{i} ({self.entries[i].name})" for i in ids[:5])
            return f" Did you mean: {shown}? hl.catalog.search(text) looks through definitions too."
        return " hl.catalog.search(text) finds head types by any word; hl.catalog.entries() lists them all."

    def paper(self, name: str) -> Paper:
        k = norm.key(str(name).removeprefix("arXiv:").removeprefix("arxiv:"))
        if k in self.paper_keys:
            return self.papers[self.paper_keys[k]]
        close = difflib.get_close_matches(str(name), list(self.papers), n=3, cutoff=0.6)
        hint = f" Did you mean: {', '.join(close)}?" if close else " hl.catalog.papers() lists them."
        raise CatalogError(f"Unknown paper {excerpt(name)} (give a paper id, BibTeX key or arXiv id).{hint}")

    def search(self, text: str, limit: int | None = None) -> list[Entry]:
        query = _Query(text)
        if not query:
            return []
        scored = [(doc.score(query), eid) for eid, doc in self._search_docs.items()]
        ranked = [eid for score, eid in sorted(scored, key=lambda t: (-t[0], t[1])) if score > 0]
        if limit is not None:
            ranked = ranked[:limit]
        return [self.entries[eid] for eid in ranked]

    def resolve_model(self, name: str) -> Model | None:
        for k in norm.model_keys(str(name)):
            if k in self.model_keys:
                return self.models[self.model_keys[k]]
        return None

    def for_head(self, model: str, layer: int, head: int) -> list[Instance]:
        known = self.resolve_model(model)
        if known is None:
            return []
        layer, head = _index(layer, "layer"), _index(head, "head")
        if not (0 <= layer < known.n_layers and 0 <= head < known.n_heads):
            raise CatalogError(
                f"{known.id} has {known.n_layers} layers and {known.n_heads} heads (0-based); "
                f"layer {layer}, head {head} does not exist. Count layers and heads from 0."
            )
        return list(self.by_head.get((known.id, layer, head), ()))

    def by_stage(self, stage: str | None, include_secondary: bool = False) -> list[Entry]:
        code = _stage_code(stage)
        return [
            e for e in self.entries.values()
            if e.stage == code or (include_secondary and code is not None and code in e.stage_secondary)
        ]


# ---------------------------------------------------------------- helpers

def _origin(record: Record) -> str:
    return record.origin


def _flat(text: str | None) -> str | None:
    return " ".join(text.split()) if text else text


def _index(value: object, what: str) -> int:
    try:
        return operator.index(value)
    except TypeError:
        raise CatalogError(f"{what} must be an integer (0-based); got {value!r}. Pass e.g. 0.") from None


def _did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(name), list(choices), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


_STAGE_KEYS = {}
for _code, _name in STAGE_NAMES.items():
    for _spelling in (_code, _name, STAGE_NAMES_ZH[_code]):
        _STAGE_KEYS[norm.key(_spelling)] = _code
for _spelling in ("unplaced", "none", "not placed", "unknown", "other"):
    _STAGE_KEYS[norm.key(_spelling)] = None


def _stage_code(stage: str | None) -> str | None:
    if stage is None:
        return None
    k = norm.key(stage)
    if k in _STAGE_KEYS:
        return _STAGE_KEYS[k]
    close = difflib.get_close_matches(k, list(_STAGE_KEYS), n=2, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise CatalogError(
        f"Unknown stage {stage!r}. Use KR, ICI, LR or EP (Knowledge Recalling, In-Context Identification, "
        f"Latent Reasoning, Expression Preparation), or None for types the survey does not place.{hint}"
    )


def _make_model(record: Record) -> Model:
    d = record.data
    return Model(
        id=d["id"], n_layers=d["n_layers"], n_heads=d["n_heads"], hf_id=d.get("hf_id"),
        n_kv_heads=d.get("n_kv_heads"), family=d.get("family"), names=tuple(d.get("names", [])),
    )


def _make_paper(record: Record) -> Paper:
    d = record.data
    return Paper(
        id=d["id"], title=d["title"], date=d["date"], venue=d["venue"], arxiv_id=d.get("arxiv_id"),
        arxiv_confirmed=d.get("arxiv_confirmed"), url=d.get("url"), code_urls=tuple(d.get("code_urls", [])),
        first_author=d.get("first_author"), authors=tuple(d.get("authors", [])), list_row=d.get("list_row"), survey_bibkey=d.get("survey_bibkey"),
        heads_tagged=tuple(d.get("heads_tagged", [])), head_types=tuple(d.get("head_types", [])),
        errata=tuple(d.get("errata", [])), note=_flat(d.get("note")), origin=_origin(record),
    )


class _Query:
    """A search query split the ways the scorer needs."""

    def __init__(self, text: str):
        self.text = str(text)[:_MAX_QUERY_CHARS]
        self.key = norm.key(self.text)
        self.all_words = norm.words(self.text)
        self.words = [w for w in self.all_words if w not in _SEARCH_STOPWORDS and (len(w) > 1 or norm.has_cjk(w))]
        self.cjk = norm.has_cjk(self.text)

    def __bool__(self) -> bool:
        return bool(self.key or self.words)


class _SearchDoc:
    """What search looks at for one entry, prepared once."""

    def __init__(self, entry: Entry):
        names = [entry.id, entry.name, *entry.aliases, *(n for n, _ in entry.zh)]
        self.name_keys = {norm.key(n) for n in names}
        self.primary_words = set(norm.words(entry.name)) | set(norm.words(entry.id))
        self.alias_words = {w for n in names for w in norm.words(n)}
        self.zh_names = [n for n, _ in entry.zh]
        self.definition_words = set(norm.words(entry.definition))
        self.other_words = set(norm.words(" ".join([entry.detection or "", *entry.caveats, *entry.detector, *entry.probe_data])))
        self.title_words = {w for link in entry.papers for w in norm.words(link.paper.title)}
        # Word sequences, so that a multi-word query found as a phrase outranks scattered matches.
        self.definition_phrase = " " + " ".join(norm.words(entry.definition)) + " "
        self.title_phrases = [" " + " ".join(norm.words(link.paper.title)) + " " for link in entry.papers]

    def score(self, q: _Query) -> float:
        score = 0.0
        if q.key in self.name_keys:
            score += 100
        elif q.key and len(q.key) >= 3 and any(k.startswith(q.key) for k in self.name_keys):
            score += 50
        elif q.key and len(q.key) >= 4 and any(q.key in k for k in self.name_keys):
            score += 35
        if q.cjk:
            for zh in self.zh_names:
                if q.key and (q.key in norm.key(zh) or norm.key(zh) in q.key):
                    score += 45
                    break
        for w in q.words:
            score += _word_score(w, self.primary_words, 15)
            score += _word_score(w, self.alias_words, 8)
            score += _word_score(w, self.definition_words, 4)
            score += _word_score(w, self.title_words, 3)
            score += _word_score(w, self.other_words, 2)
        if len(q.all_words) >= 2:
            phrase = " " + " ".join(q.all_words) + " "
            if phrase in self.definition_phrase:
                score += 12
            if any(phrase in title for title in self.title_phrases):
                score += 8
        if score == 0 and q.key and len(q.key) >= 4:
            best = max((difflib.SequenceMatcher(None, q.key, k).ratio() for k in self.name_keys), default=0)
            if best >= 0.75:
                score += 20 * best
        return score


def _word_score(word: str, vocabulary: set[str], weight: float) -> float:
    if word in vocabulary:
        return weight
    if len(word) >= 4 and any(v.startswith(word) for v in vocabulary):
        return weight / 2  # "retriev" finds "retrieval", "induct" finds "induction"
    return 0.0
