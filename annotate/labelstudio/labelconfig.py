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

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from ..errors import ConfigError
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


@dataclass(frozen=True)
class SpanConfig:
    """What a project's labelling config names: the span control, the text it labels and the task data key."""

    from_name: str
    to_name: str
    data_key: str
    labels: tuple[str, ...]


def parse_span_config(xml: str) -> SpanConfig:
    """The first <Labels> control on a <Text> object, parsed with the SDK's LabelInterface (ConfigError if none)."""
    from label_studio_sdk._legacy.exceptions import (
        LabelStudioValidationErrorSentryIgnored,
        LabelStudioXMLSyntaxErrorSentryIgnored,
        LSConfigParseException,
    )
    from label_studio_sdk.label_interface import LabelInterface

    try:
        interface = LabelInterface(xml)
    except (LSConfigParseException, LabelStudioXMLSyntaxErrorSentryIgnored, LabelStudioValidationErrorSentryIgnored,
            ValueError, KeyError) as exc:
        raise ConfigError(f"the project's labelling config cannot be parsed: {' '.join(str(exc).split())}") from exc
    for control in interface.controls:
        texts = [o for o in control.objects if o.tag == "Text"] if control.tag == "Labels" else []
        if texts and str(texts[0].value or "").startswith("$"):
            return SpanConfig(control.name, texts[0].name, texts[0].value[1:], tuple(control.labels or ()))
    raise ConfigError("the project's labelling config has no <Labels> on a <Text value=\"$...\">; connect this "
                      "backend to a project made by `annotate project` (or use its config)")
