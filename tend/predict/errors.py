"""Errors every prediction surface shows the same way (page, CLI, REST)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext


class NotEnoughData(ValueError):
    """Too little history to fit a model that means anything.

    ``message_id`` is the English text with ``{placeholders}``; ``params`` fill them.
    Surfaces show ``str(error)`` (English, for logs and the CLI's --json) or ``localized()``.
    The default is the churn model's: "not enough data to train: 12 churned, need 20".
    """

    def __init__(
        self,
        *,
        have: int,
        need: int,
        message_id: str = "not enough data to train: {have} churned, need {need}",
        **params: Any,
    ) -> None:
        self.message_id = message_id
        self.params: dict[str, Any] = {"have": have, "need": need, **params}
        super().__init__(message_id.format(**self.params))

    def localized(self) -> str:
        return message_text(self.message_id, self.params)


def message_text(message_id: str, params: dict[str, Any]) -> str:
    """A stored ``message`` + ``message_params`` in the reader's language.

    Message ids are marked for translation where they are raised
    (``gettext_noop``); an unknown id is shown as it is, filled in.
    """
    try:
        return gettext(message_id).format(**params)
    except (KeyError, IndexError, ValueError):
        return message_id
