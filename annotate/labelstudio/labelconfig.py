"""Label Studio's labelling configuration, generated from the one label schema.

Relations in Label Studio 1.23.2 (frontend source `libs/editor/src/tags/control/Relations.js`, `Relation.js`,
`components/SidePanels/DetailsPanel/Relations.tsx`, `stores/RelationStore.js`, checked in Chromium):
- `<Relations choice=...>` takes "single" or "multiple"; the code defaults to "multiple" (its docs say single).
  The choice only decides the editor's type menu (the "..." button of a relation in the Relations panel): with
  "single" it is a single select, and picking a second type replaces the first, so no annotator can tick two.
  Stored or imported results are not checked against it: a prediction with two types still shows both, which is
  why the pull still quarantines a relation with several types.
- `<Relation background=...>` colours that type's option in the menu only (default white); the arc's label box
  is always Label Studio's own magenta. The arc shows the relation's type(s) in words, joined by ", ".
- The Relations panel lists each relation as its two regions (label and text) with a direction icon; clicking
  the icon turns the direction right -> left -> bi. Alt+R with a region selected starts a relation, as the
  "Create Relation" button of the region's details does.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from ..schema import Schema

FROM_NAME = "label"
TO_NAME = "text"
# Pale, distinct option colours for the type menu, by position in the schema (the schema gives relations no colour).
RELATION_COLORS = ("#fde2c8", "#d4e8fb", "#e6dcf5", "#fbe0ea", "#dff3da", "#f3efc8")


def build_label_config(schema: Schema) -> str:
    """XML for span labels (colours, hotkeys, hints), word-level snapping and the schema's relations (one type each)."""
    labels = "\n".join(
        f"    <Label value={quoteattr(lab.name)} background={quoteattr(lab.color)}"
        + (f" hotkey={quoteattr(lab.hotkey)}" if lab.hotkey else "")
        + f" hint={quoteattr(lab.description)}/>"
        for lab in schema.labels
    )
    relations = "\n".join(
        f"    <Relation value={quoteattr(rel.name)} background={quoteattr(RELATION_COLORS[i % len(RELATION_COLORS)])}/>"
        for i, rel in enumerate(schema.relations))
    relations_block = f'  <Relations choice="single">\n{relations}\n  </Relations>\n' if relations else ""
    return (
        "<View>\n"
        '  <Header value="$title"/>\n'
        f"{relations_block}"
        f'  <Labels name="{FROM_NAME}" toName="{TO_NAME}" showInline="true">\n{labels}\n  </Labels>\n'
        f'  <Text name="{TO_NAME}" value="$text" granularity="word"/>\n'
        "</View>\n"
    )
