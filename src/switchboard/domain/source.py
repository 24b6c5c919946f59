"""Where a conversation or lead came from: the ground of every channel's commercial report."""

from __future__ import annotations

from dataclasses import dataclass

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


@dataclass(frozen=True, slots=True)
class Source:
    channel_id: int | None = None
    line_id: int | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    referrer: str | None = None
    landing_page: str | None = None
    dialled_number: str | None = None

    def with_route(self, channel_id: int, line_id: int) -> Source:
        return Source(
            channel_id,
            line_id,
            self.utm_source,
            self.utm_medium,
            self.utm_campaign,
            self.utm_term,
            self.utm_content,
            self.referrer,
            self.landing_page,
            self.dialled_number,
        )
