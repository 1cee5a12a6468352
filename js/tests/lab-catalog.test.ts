// The catalogue shipped with the JupyterLab extension: reading it and searching it
// (js/lab/src/catalog-data.ts).
import { describe, expect, it } from "vitest";
import { bibtexOf, fold, normalizeCatalog, searchCatalog } from "../lab/src/catalog-data";

const BIB = "@misc{A,\n  title = {{A}}\n}";
// The shape of `python -m headlab.catalog export-json` (headlab/catalog/_export.py).
const EXPORT = {
  format: "headlab.catalog", version: 1, stages: { LR: { name: "Latent Reasoning", name_zh: "潜在推理" } },
  types: [
    { id: "previous_token_head", name: "Previous Token Head", zh: ["前一词元头"], aliases: ["Prev Head"], stage: "KR",
      definition: "Attends to the token before the current one.", detector: ["previous"], papers: [], known_instances: [] },
    { id: "induction_head", name: "Induction Head", name_zh: "归纳头", zh: ["归纳头", "感应头"], aliases: ["Induction Heads", "Induction"],
      stage: "LR", stage_name: "Latent Reasoning", definition: "Completes  repeated\npatterns.", detector: ["induction"],
      papers: [{ id: "A", title: "A", year: 2022, url: "https://example.org", authors: "X et al.", bibtex: BIB },
               { id: "A2", title: "A again", bibtex: BIB }, { id: "B", title: "No bib" }],
      known_instances: [{ model: "gpt2-small", layer: 5, head: 5, source: "A" }, "junk"] },
    { id: "semantic_induction_head", name: "Semantic Induction Head", zh: [{ name: "语义归纳头", source: "ours" }], aliases: [],
      stage: { primary: "LR", name: "Latent Reasoning" }, definition: "Copies a related token, not the same one.", papers: ["P9"] },
  ],
};

describe("normalizeCatalog", () => {
  it("reads the exporter's document", () => {
    const t = normalizeCatalog(EXPORT);
    expect(t.map((x) => x.id)).toEqual(["previous_token_head", "induction_head", "semantic_induction_head"]);
    const ind = t[1];
    expect(ind.zh).toEqual(["归纳头", "感应头"]);
    expect(ind.definition).toBe("Completes repeated patterns.");
    expect(ind.known_instances).toEqual([{ model: "gpt2-small", layer: 5, head: 5, source: "A", note: undefined, confidence: undefined }]);
    expect(t[2].zh).toEqual(["语义归纳头"]);
    expect([t[2].stage, t[2].stage_name]).toEqual(["LR", "Latent Reasoning"]);
    expect(t[2].papers).toEqual([{ id: "P9" }]);
  });
  it("accepts a plain list, {entries}, and an {id: type} map, skipping unreadable items", () => {
    const list = normalizeCatalog([{ id: "a", name: "A" }, { name: "no id" }, 3, { id: "a", name: "dup" }]);
    expect(list.map((x) => [x.id, x.name])).toEqual([["a", "A"]]);
    expect(normalizeCatalog({ entries: [{ id: "b" }] })[0].name).toBe("b");
    expect(normalizeCatalog({ types: { c: { name: "C" } } })[0].id).toBe("c");
    expect(normalizeCatalog({ d: { name: "D" }, version: 1 }).map((x) => x.id)).toEqual(["d"]);
    expect(normalizeCatalog("nope")).toEqual([]);
  });
});

describe("searchCatalog", () => {
  const types = normalizeCatalog(EXPORT);
  const ids = (q: string) => searchCatalog(types, q).map((t) => t.id);
  it("finds types by English name, Chinese name and alias, best match first", () => {
    expect(ids("induction")).toEqual(["induction_head", "semantic_induction_head"]);
    expect(ids("感应头")).toEqual(["induction_head"]);
    expect(ids("归纳头")).toEqual(["induction_head", "semantic_induction_head"]);
    expect(ids("prev head")).toEqual(["previous_token_head"]);
    expect(ids("Induction-Heads")).toEqual(["induction_head", "semantic_induction_head"]);
  });
  it("falls back to every word anywhere (definition, roles, paper titles)", () => {
    expect(ids("token before")).toEqual(["previous_token_head"]);
    expect(ids("related copies")).toEqual(["semantic_induction_head"]);
    expect(ids("again")).toEqual(["induction_head"]);
    expect(ids("zebra")).toEqual([]);
  });
  it("returns everything for an empty query", () => {
    expect(ids("  ")).toHaveLength(3);
  });
  it("folds case, width and punctuation", () => {
    expect(fold("Ｉｎｄｕｃｔｉｏｎ-Heads!")).toBe("inductionheads");
    expect(fold("感应 头")).toBe("感应头");
  });
});

describe("bibtexOf", () => {
  it("joins each distinct BibTeX entry once", () => {
    const [, ind, sem] = normalizeCatalog(EXPORT);
    expect(bibtexOf(ind)).toBe(BIB + "\n");
    expect(bibtexOf(sem)).toBe("");
  });
});
