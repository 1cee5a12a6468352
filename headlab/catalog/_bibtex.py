"""BibTeX for catalogue papers.

The list gives title, date, venue and links, and for many papers only the first author's surname, so the
author field is written as "Surname and others" when that is all we know, and left out otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from headlab.catalog._records import Paper

# Venue labels of the list mapped to a proceedings name for @inproceedings.
_PROCEEDINGS = {
    "ICLR": "International Conference on Learning Representations (ICLR)",
    "ICML": "International Conference on Machine Learning (ICML)",
    "NeurIPS": "Advances in Neural Information Processing Systems (NeurIPS)",
    "NIPS": "Advances in Neural Information Processing Systems (NeurIPS)",
    "ACL": "Annual Meeting of the Association for Computational Linguistics (ACL)",
    "ACL Findings": "Findings of the Association for Computational Linguistics (ACL)",
    "EMNLP": "Conference on Empirical Methods in Natural Language Processing (EMNLP)",
    "AAAI": "AAAI Conference on Artificial Intelligence",
    "SIGIR": "International ACM SIGIR Conference on Research and Development in Information Retrieval",
}
_JOURNALS = {"Patterns": "Patterns"}
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


def _escape(text: str) -> str:
    """Escape the characters LaTeX would read as commands."""
    for ch in "&%$#_":
        text = text.replace(ch, "\\" + ch)
    return text.replace("{", "\\{").replace("}", "\\}")


def to_bibtex(paper: "Paper") -> str:
    """One BibTeX entry for a paper."""
    if paper.venue in _JOURNALS:
        kind, fields = "article", [("journal", _JOURNALS[paper.venue])]
    elif paper.venue in _PROCEEDINGS:
        kind, fields = "inproceedings", [("booktitle", _PROCEEDINGS[paper.venue])]
    else:  # arXiv preprints, blog posts, transformer-circuits.pub
        kind, fields = "misc", []
        if paper.venue not in ("arXiv",):
            fields.append(("howpublished", _escape(paper.venue)))
    entry: list[tuple[str, str]] = [("title", "{" + _escape(paper.title) + "}")]
    if paper.authors:
        entry.append(("author", " and ".join(_escape(a) for a in paper.authors)))
    elif paper.first_author:
        entry.append(("author", f"{_escape(paper.first_author)} and others"))
    entry += fields
    entry.append(("year", paper.year))
    if len(paper.date) >= 7:
        entry.append(("month", _MONTHS[int(paper.date[5:7]) - 1]))
    if paper.arxiv_id:
        entry += [("eprint", paper.arxiv_id), ("archivePrefix", "arXiv")]
    if paper.url:
        entry.append(("url", paper.url))
    body = ",\n".join(f"  {name} = {value}" if name == "month" else f"  {name} = {{{value}}}" for name, value in entry)
    return f"@{kind}{{{paper.bibtex_key},\n{body}\n}}"
