"""Label Studio's labelling configuration, generated from the one label schema."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from ..schema import Schema

FROM_NAME = "label"
TO_NAME = "text"


def build_label_config(schema: Schema) -> str:
    """XML for span labels (colours, hotkeys, hints), word-level snapping and the schema's relations."""
    labels = "\n".join(
        f"    <Label value={quoteattr(lab.name)} background={quoteattr(lab.color)}"
        + (f" hotkey={quoteattr(lab.hotkey)}" if lab.hotkey else "")
        + f" hint={quoteattr(lab.description)}/>"
        for lab in schema.labels
    )
    relations = "\n".join(f"    <Relation value={quoteattr(rel.name)}/>" for rel in schema.relations)
    relations_block = f"  <Relations>\n{relations}\n  </Relations>\n" if relations else ""
    return (
        "<View>\n"
        '  <Header value="$title"/>\n'
        f"{relations_block}"
        f'  <Labels name="{FROM_NAME}" toName="{TO_NAME}" showInline="true">\n{labels}\n  </Labels>\n'
        f'  <Text name="{TO_NAME}" value="$text" granularity="word"/>\n'
        "</View>\n"
    )
