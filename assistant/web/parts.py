"""What the app's sections work on besides the assistant: the article library, the saved-sources panel and
the feedback store. `assistant.factory.build_web_parts` builds them from the settings, so that no web
module reads settings or reaches into the assistant for them. It does not import Gradio."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.web.feedback import FeedbackStore
from assistant.web.library import Library
from assistant.web.sources_panel import SourcesPanel


@dataclass(frozen=True)
class WebParts:
    library: Library
    sources_panel: SourcesPanel
    feedback: FeedbackStore
